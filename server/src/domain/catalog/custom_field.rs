//! Custom field definitions of an organisation, and the rules for the values cases carry.

use app::model::{AuditOperation, CustomFieldDefinition, NewCustomField, CustomFieldType, CustomFields, Permission};
use serde_json::{Value, json};

use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, new_id};
use crate::vars;

pub const AUDIT_TYPE: &str = "customField";

/// Every definition of the organisation, from the database (the service reads them through
/// [`crate::core::cache::Catalog`]).
pub(crate) async fn read_all(store: &OrgStore) -> Result<Vec<CustomFieldDefinition>> {
    let mut r = store.query("SELECT * FROM custom_field WHERE org = $org ORDER BY reference", vars! {}).await?;
    r.rows(0)
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<CustomFieldDefinition>> {
    Ok(state.service::<super::Catalog>().custom_fields(&caller.store(state)).await?.to_vec())
}

async fn find(state: &AppState, store: &OrgStore, reference: &str) -> Result<Option<CustomFieldDefinition>> {
    Ok(state.service::<super::Catalog>().custom_fields(store).await?.iter().find(|d| d.reference == reference).cloned())
}

/// Whether a definition with this reference exists (`/api/list/custom_fields/_exists`).
pub async fn exists(state: &AppState, caller: &Caller, reference: &str) -> Result<bool> {
    Ok(find(state, &caller.store(state), reference.trim()).await?.is_some())
}

/// A reference: 1 to 64 letters, digits, spaces, `-` or `_` (no dots: references are paths
/// in queries, `customFields.<reference>.<type>`).
fn validate_reference(r: &str) -> Result<String> {
    let r = r.trim();
    let ok = !r.is_empty() && r.chars().count() <= 64 && r.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '));
    if !ok {
        return Err(Error::attribute("customField", "reference", "string", "1 to 64 letters, digits, spaces, '-' or '_'"));
    }
    Ok(r.to_string())
}

fn validate(input: &NewCustomField) -> Result<(String, String)> {
    let name = crate::core::validate::title("customField", "name", &input.name, 128)?;
    let reference = validate_reference(input.reference.as_deref().unwrap_or(&input.name))?;
    if input.options.len() > 1000 {
        return Err(Error::attribute("customField", "options", "array", "at most 1000 options"));
    }
    for o in &input.options {
        if !input.kind.accepts(o) {
            return Err(Error::attribute("customField", "options", "array", format!("option {o} is not a {}", input.kind.as_str())));
        }
    }
    if let Some(d) = &input.description {
        crate::core::validate::text("customField", "description", d)?;
    }
    Ok((name, reference))
}

pub async fn create(state: &AppState, caller: &Caller, input: NewCustomField) -> Result<CustomFieldDefinition> {
    caller.require(Permission::ManageCustomField, "manage custom fields")?;
    let (name, reference) = validate(&input)?;
    let store = caller.store(state);
    if find(state, &store, &reference).await?.is_some() {
        return Err(Error::Conflict { message: format!("A custom field with the reference {reference} already exists"), object: None });
    }
    let id = new_id();
    let mut tx = Tx::new(caller);
    let doc = json!({
        "name": name, "reference": reference, "description": input.description.unwrap_or_default(), "type": input.kind,
        "options": input.options, "mandatory": input.mandatory, "createdAt": tx.now(), "createdBy": caller.login,
    });
    let (vid, vdoc) = (tx.bind(&id), tx.bind(&doc));
    tx.push(format!("LET $f = (CREATE type::record('custom_field', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
    tx.audit(AuditOperation::Creation, AUDIT_TYPE, &vid, &vid, &vdoc, None, Some("$f"));
    let idx = tx.push("$f");
    let mut r = tx.run(state, &store).await?;
    state.service::<super::Catalog>().custom_fields_changed();
    r.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("custom field not created")))
}

/// Change a definition: name, description, options, mandatory (the reference and type are
/// its identity: values already on cases depend on them).
pub async fn update(state: &AppState, caller: &Caller, id: &str, input: NewCustomField) -> Result<CustomFieldDefinition> {
    caller.require(Permission::ManageCustomField, "manage custom fields")?;
    let store = caller.store(state);
    let current: CustomFieldDefinition = store.get("custom_field", id).await?.ok_or_else(|| Error::not_found("custom field", id))?;
    if input.kind != current.kind {
        return Err(Error::attribute("customField", "type", "string", "the type of a custom field cannot change"));
    }
    let input = NewCustomField { reference: Some(current.reference.clone()), ..input };
    let (name, _) = validate(&input)?;
    let mut tx = Tx::new(caller);
    let patch = json!({
        "name": name, "description": input.description.unwrap_or_default(), "options": input.options,
        "mandatory": input.mandatory, "updatedAt": tx.now(), "updatedBy": caller.login,
    });
    let idx = tx.update_record("custom_field", AUDIT_TYPE, id, &patch, false);
    let mut r = tx.run(state, &store).await?;
    state.service::<super::Catalog>().custom_fields_changed();
    r.one(idx)?.ok_or_else(|| Error::not_found("custom field", id))
}

pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageCustomField, "manage custom fields")?;
    let store = caller.store(state);
    let mut tx = Tx::new(caller);
    tx.delete_record("custom_field", AUDIT_TYPE, id, false);
    tx.run(state, &store).await?;
    state.service::<super::Catalog>().custom_fields_changed();
    Ok(())
}

/// Check custom field values against the organisation's definitions: a defined field takes a
/// value of its type among its options (TheHive 3's `number` and TheHive 4's `integer`/`float`
/// are interchangeable when the value fits); references without a definition are kept as given
/// (TheHive 3 accepted them). With `require_mandatory`, every mandatory field needs a value.
pub async fn check_values(state: &AppState, store: &OrgStore, table: &str, values: &mut CustomFields, require_mandatory: bool) -> Result<()> {
    let defs = state.service::<super::Catalog>().custom_fields_knowing(store, values.keys()).await?;
    let mut errors = Vec::new();
    for (reference, v) in values.iter_mut() {
        let Some(def) = defs.iter().find(|d| &d.reference == reference) else { continue };
        let numeric = |k: CustomFieldType| matches!(k, CustomFieldType::Number | CustomFieldType::Integer | CustomFieldType::Float);
        if v.kind != def.kind && numeric(v.kind) && numeric(def.kind) {
            v.kind = def.kind;
        }
        let msg = if v.kind != def.kind {
            Some(format!("{reference} is a {} field, not {}", def.kind.as_str(), v.kind.as_str()))
        } else if !v.value.is_null() && !def.kind.accepts(&v.value) {
            Some(format!("{reference} needs a {} value", def.kind.as_str()))
        } else if !v.value.is_null() && !def.options.is_empty() && !def.options.contains(&v.value) {
            Some(format!("{reference} must be one of its options"))
        } else {
            None
        };
        if let Some(m) = msg {
            errors.push(app::model::AttributeError { name: format!("{table}.customFields.{reference}"), kind: "invalid".into(), message: m });
        }
    }
    for (reference, v) in values.iter() {
        if !v.value.is_null() && !v.kind.accepts(&v.value) && defs.iter().all(|d| &d.reference != reference) {
            errors.push(app::model::AttributeError {
                name: format!("{table}.customFields.{reference}"),
                kind: "invalid".into(),
                message: format!("{reference} needs a {} value", v.kind.as_str()),
            });
        }
    }
    if require_mandatory {
        for d in defs.iter().filter(|d| d.mandatory) {
            if values.get(&d.reference).is_none_or(|v| v.value.is_null()) {
                errors.push(app::model::AttributeError {
                    name: format!("{table}.customFields.{}", d.reference),
                    kind: "missing".into(),
                    message: format!("{} is mandatory", d.name),
                });
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Attributes { table: table.into(), errors }) }
}

/// Values given without their type (TheHive 5: `{"name": value}` or
/// `[{"name", "value", "order"}]`): each takes its definition's type; a reference without a
/// definition takes the type of its JSON value (checked later by [`check_values`]).
pub async fn typed_values(state: &AppState, caller: &Caller, given: Vec<(String, Value, Option<i64>)>) -> Result<CustomFields> {
    let store = caller.store(state);
    let defs = state.service::<super::Catalog>().custom_fields_knowing(&store, given.iter().map(|(r, _, _)| r)).await?;
    let mut out = CustomFields::new();
    for (reference, value, order) in given {
        let kind = match defs.iter().find(|d| d.reference == reference) {
            Some(d) => d.kind,
            None => match &value {
                Value::Bool(_) => CustomFieldType::Boolean,
                Value::Number(n) if n.is_i64() || n.is_u64() => CustomFieldType::Integer,
                Value::Number(_) => CustomFieldType::Float,
                _ => CustomFieldType::String,
            },
        };
        out.insert(reference, app::model::CustomFieldValue { kind, value, order });
    }
    Ok(out)
}
