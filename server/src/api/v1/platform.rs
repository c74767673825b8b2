//! Users, organisations, profiles, custom fields, observable types and case templates in
//! TheHive 5's v1 shape.

use app::model::{CustomFieldDefinition, NewCustomField, ObservableDataType, Organisation, Permission, Profile, UserStatus};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::shape::{self, pick};
use crate::api::json::ApiJson;
use crate::api::support::{input, opt_string};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::case::template;
use crate::domain::catalog::{custom_field, data_type};
use crate::domain::identity::{org, profile, user};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current_user))
        .routes(routes!(create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(remove_user))
        .routes(routes!(set_organisations))
        .routes(routes!(set_password))
        .routes(routes!(change_password))
        .routes(routes!(get_key, remove_key))
        .routes(routes!(renew_key))
        .routes(routes!(create_organisation))
        .routes(routes!(get_organisation, update_organisation))
        .routes(routes!(create_profile))
        .routes(routes!(get_profile, update_profile, delete_profile))
        .routes(routes!(list_custom_fields, create_custom_field))
        .routes(routes!(update_custom_field, delete_custom_field))
        .routes(routes!(create_observable_type))
        .routes(routes!(get_observable_type, delete_observable_type))
        .routes(routes!(list_case_templates, create_case_template))
        .routes(routes!(get_case_template, update_case_template, delete_case_template))
}

pub fn organisation(o: &Organisation) -> Value {
    json!({
        "_id": o.id, "_type": "Organisation", "_createdBy": o.created_by, "_createdAt": o.created_at,
        "name": o.name, "description": o.description, "locked": o.locked, "links": [], "extraData": {},
    })
}

pub fn custom_field(f: &CustomFieldDefinition) -> Value {
    json!({
        "_id": f.id, "_type": "CustomField", "name": f.reference, "displayName": f.name, "description": f.description,
        "type": f.kind.as_str(), "options": f.options, "mandatory": f.mandatory, "extraData": {},
    })
}

pub fn observable_type(t: &ObservableDataType) -> Value {
    json!({"_id": t.id, "_type": "ObservableType", "name": t.name, "isAttachment": t.is_attachment, "extraData": {}})
}

/// The built-in profiles and the platform's custom ones.
pub async fn profiles(state: &AppState, caller: &Caller) -> Result<Vec<Value>> {
    let mut out: Vec<Value> = Profile::ALL
        .into_iter()
        .map(|p| {
            let mut perms: Vec<&str> = p.permissions().iter().map(|x| x.as_str()).collect();
            perms.sort_unstable();
            json!({"_id": p.as_str(), "_type": "Profile", "name": p.as_str(), "permissions": perms, "editable": false, "isAdmin": p == Profile::Admin, "extraData": {}})
        })
        .collect();
    for p in profile::list(state, caller).await? {
        let mut perms: Vec<&str> = p.permissions.iter().map(|x| x.as_str()).collect();
        perms.sort_unstable();
        out.push(json!({"_id": p.id, "_type": "Profile", "_createdAt": p.created_at, "_createdBy": p.created_by, "name": p.name, "permissions": perms, "editable": true, "isAdmin": false, "extraData": {}}));
    }
    Ok(out)
}

/// The signed-in user with their organisations.
#[utoipa::path(get, path = "/api/v1/user/current", tag = "v1", responses((status = 200, description = "The current user")))]
pub async fn current_user(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let u = user::get(&state, &caller, &caller.user_id).await?;
    let permissions: Vec<&str> = caller.permissions.clone().unwrap_or_else(|| caller.profile.permissions().to_vec()).iter().map(|p| p.as_str()).collect();
    let mut r = axum::Json(shape::user_with_organisations(&u, &caller)).into_response();
    if let Ok(v) = caller.org_name.parse() {
        r.headers_mut().insert("X-Organisation", v);
    }
    if let Ok(v) = permissions.join(",").parse() {
        r.headers_mut().insert("X-Permissions", v);
    }
    Ok(r)
}

/// Create a user: `{login, name, password?, profile, organisation?}`.
#[utoipa::path(post, path = "/api/v1/user", tag = "v1", responses((status = 201, description = "The new user")))]
pub async fn create_user(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let login = opt_string("user", &body, "login")?.ok_or_else(|| Error::attribute("user", "login", "string", "login is required"))?;
    let name = opt_string("user", &body, "name")?.unwrap_or_else(|| login.clone());
    let input = user::NewUser {
        login,
        name,
        password: opt_string("user", &body, "password")?,
        organisation: opt_string("user", &body, "organisation")?,
        profile: crate::api::support::profile_of(&pick(&body, &["profile"]))?,
    };
    let u = user::create(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(shape::user(&u, &caller))))
}

#[utoipa::path(get, path = "/api/v1/user/{id}", tag = "v1", params(("id" = String, Path, description = "User id or login")), responses((status = 200, description = "The user")))]
pub async fn get_user(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(shape::user(&user::get(&state, &caller, &id).await?, &caller)))
}

#[utoipa::path(post, path = "/api/v1/organisation", tag = "v1", responses((status = 201, description = "The new organisation")))]
pub async fn create_organisation(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let name = opt_string("organisation", &body, "name")?.ok_or_else(|| Error::attribute("organisation", "name", "string", "name is required"))?;
    let description = opt_string("organisation", &body, "description")?.unwrap_or_default();
    let o = crate::domain::platform::setup::create_organisation(&state, &caller, &name, &description).await?;
    Ok((StatusCode::CREATED, axum::Json(organisation(&o))))
}

#[utoipa::path(get, path = "/api/v1/organisation/{id}", tag = "v1", params(("id" = String, Path, description = "Organisation id or name")), responses((status = 200, description = "The organisation")))]
pub async fn get_organisation(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(organisation(&org::get(&state, &caller, &id).await?)))
}

#[utoipa::path(get, path = "/api/v1/customField", tag = "v1", responses((status = 200, description = "Every custom field")))]
pub async fn list_custom_fields(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    Ok(axum::Json(custom_field::list(&state, &caller).await?.iter().map(custom_field).collect::<Vec<_>>()))
}

/// Create a custom field: `{name, displayName?, description, type, mandatory, options?}`; `name`
/// is the reference values use.
#[utoipa::path(post, path = "/api/v1/customField", tag = "v1", responses((status = 201, description = "The new custom field")))]
pub async fn create_custom_field(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let reference = opt_string("customField", &body, "name")?.ok_or_else(|| Error::attribute("customField", "name", "string", "name is required"))?;
    let mut m = pick(&body, &["description", "type", "options", "mandatory"]);
    m.insert("reference".into(), json!(reference));
    m.insert("name".into(), json!(opt_string("customField", &body, "displayName")?.unwrap_or_else(|| reference.clone())));
    let input: NewCustomField = input("customField", &m, &["name", "reference", "description", "type", "options", "mandatory"])?;
    let f = custom_field::create(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(custom_field(&f))))
}

#[utoipa::path(post, path = "/api/v1/observable/type", tag = "v1", responses((status = 201, description = "The new observable type")))]
pub async fn create_observable_type(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let name = opt_string("observableType", &body, "name")?.ok_or_else(|| Error::attribute("observableType", "name", "string", "name is required"))?;
    let is_attachment = body.get("isAttachment").and_then(Value::as_bool).unwrap_or(false);
    let t = data_type::create(&state, &caller, &name, is_attachment).await?;
    Ok((StatusCode::CREATED, axum::Json(observable_type(&t))))
}

async fn find_type(state: &AppState, caller: &Caller, id: &str) -> Result<ObservableDataType> {
    data_type::list(state, caller).await?.into_iter().find(|t| t.id == id || t.name == id).ok_or_else(|| Error::not_found("observable type", id))
}

#[utoipa::path(get, path = "/api/v1/observable/type/{id}", tag = "v1", params(("id" = String, Path, description = "Type id or name")), responses((status = 200, description = "The observable type")))]
pub async fn get_observable_type(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(observable_type(&find_type(&state, &caller, &id).await?)))
}

#[utoipa::path(delete, path = "/api/v1/observable/type/{id}", tag = "v1", params(("id" = String, Path, description = "Type id or name")), responses((status = 204, description = "Removed")))]
pub async fn delete_observable_type(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let t = find_type(&state, &caller, &id).await?;
    data_type::delete(&state, &caller, &t.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A v1 case template body in TheHive's template JSON (typed custom fields, task owners).
async fn template_json(state: &AppState, caller: &Caller, body: &Map<String, Value>) -> Result<Value> {
    let mut m = pick(body, &["name", "titlePrefix", "description", "severity", "tags", "flag", "tlp", "pap", "tasks"]);
    if let Some(cf) = body.get("customFields") {
        m.insert("cf".into(), cf.clone());
        shape::typed_custom_fields(state, caller, "caseTemplate", &mut m, "cf").await?;
    }
    if let Some(Value::Array(tasks)) = m.get_mut("tasks") {
        for (i, t) in tasks.iter_mut().enumerate() {
            if let Value::Object(o) = t {
                let mut clean = pick(o, &["title", "group", "description", "order", "flag"]);
                if let Some(a) = o.get("assignee").filter(|v| !v.is_null()) {
                    clean.insert("owner".into(), a.clone());
                }
                clean.entry("order").or_insert(json!(i));
                *o = clean;
            }
        }
    }
    Ok(Value::Object(m))
}

#[utoipa::path(get, path = "/api/v1/caseTemplate", tag = "v1", responses((status = 200, description = "Every case template")))]
pub async fn list_case_templates(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    Ok(axum::Json(template::list(&state, &caller).await?.iter().map(shape::case_template).collect::<Vec<_>>()))
}

#[utoipa::path(post, path = "/api/v1/caseTemplate", tag = "v1", responses((status = 201, description = "The new case template")))]
pub async fn create_case_template(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let input = template::input_from_json(&template_json(&state, &caller, &body).await?)?;
    let t = template::create(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(shape::case_template(&t))))
}

#[utoipa::path(get, path = "/api/v1/caseTemplate/{id}", tag = "v1", params(("id" = String, Path, description = "Template id or name")), responses((status = 200, description = "The case template")))]
pub async fn get_case_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(shape::case_template(&template::get(&state, &caller, &id).await?)))
}

#[utoipa::path(patch, path = "/api/v1/caseTemplate/{id}", tag = "v1", params(("id" = String, Path, description = "Template id or name")), responses((status = 204, description = "Changed")))]
pub async fn update_case_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let input = template::input_from_json(&template_json(&state, &caller, &body).await?)?;
    template::update(&state, &caller, &id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/caseTemplate/{id}", tag = "v1", params(("id" = String, Path, description = "Template id or name")), responses((status = 204, description = "Removed")))]
pub async fn delete_case_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    template::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a user: `{name?, locked?, profile? + organisation?}` (thehive4py's lock and unlock).
#[utoipa::path(patch, path = "/api/v1/user/{id}", tag = "v1", params(("id" = String, Path, description = "User id or login")), responses((status = 204, description = "Changed")))]
pub async fn update_user(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let status = match body.get("locked") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(true)) => Some(UserStatus::Locked),
        Some(Value::Bool(false)) => Some(UserStatus::Ok),
        Some(_) => return Err(Error::attribute("user", "locked", "boolean", "locked must be true or false")),
    };
    let profile = crate::api::support::profile_of(&pick(&body, &["profile"]))?;
    match (profile, opt_string("user", &body, "organisation")?) {
        (Some(p), Some(org_name)) if org_name != caller.org_name => {
            user::set_membership(&state, &caller, &id, &org_name, p).await?;
            let patch = user::UserPatch { name: opt_string("user", &body, "name")?, status, profile: None };
            user::update(&state, &caller, &id, patch).await?;
        }
        (profile, _) => {
            let patch = user::UserPatch { name: opt_string("user", &body, "name")?, status, profile };
            user::update(&state, &caller, &id, patch).await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user from an organisation (`?organisation=`, the current one by default).
#[utoipa::path(delete, path = "/api/v1/user/{id}/force", tag = "v1", params(("id" = String, Path, description = "User id or login"), ("organisation" = Option<String>, Query, description = "Organisation name")), responses((status = 204, description = "Removed")))]
pub async fn remove_user(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, axum::extract::RawQuery(raw): axum::extract::RawQuery) -> Result<impl IntoResponse> {
    let org_name = crate::api::support::query_param(raw.as_deref(), "organisation").filter(|o| !o.is_empty() && o != "None").unwrap_or_else(|| caller.org_name.clone());
    user::remove_membership(&state, &caller, &id, &org_name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a user's organisations: `{organisations: [{organisation, profile}]}`; memberships not
/// listed are removed.
#[utoipa::path(put, path = "/api/v1/user/{id}/organisations", tag = "v1", params(("id" = String, Path, description = "User id or login")), responses((status = 200, description = "The memberships")))]
pub async fn set_organisations(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let bad = || Error::attribute("user", "organisations", "array", "organisations: [{organisation, profile}]");
    let list = body.get("organisations").and_then(Value::as_array).ok_or_else(bad)?;
    let mut wanted = Vec::new();
    for item in list {
        let org_name = item.get("organisation").and_then(Value::as_str).ok_or_else(bad)?;
        let profile = item.get("profile").and_then(Value::as_str).ok_or_else(bad)?;
        wanted.push((org_name.to_string(), profile.to_string()));
    }
    let mut u = user::get(&state, &caller, &id).await?;
    for (org_name, profile) in &wanted {
        u = user::set_membership_named(&state, &caller, &id, org_name, profile).await?;
    }
    for m in u.memberships.clone() {
        if !wanted.iter().any(|(o, _)| *o == m.org_name) {
            u = user::remove_membership(&state, &caller, &id, &m.org_name).await?;
        }
    }
    let default_org = u.default_org.clone();
    let out: Vec<Value> = u.memberships.iter().map(|m| json!({"organisation": m.org_name, "profile": m.profile_name(), "default": m.org_id == default_org})).collect();
    Ok(axum::Json(json!({"organisations": out})))
}

#[utoipa::path(post, path = "/api/v1/user/{id}/password/set", tag = "v1", params(("id" = String, Path, description = "User id or login")), responses((status = 204, description = "Set")))]
pub async fn set_password(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let password = opt_string("user", &body, "password")?.ok_or_else(|| Error::attribute("user", "password", "string", "password is required"))?;
    user::set_password(&state, &caller, &id, None, password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/user/{id}/password/change", tag = "v1", params(("id" = String, Path, description = "User id or login")), responses((status = 204, description = "Changed")))]
pub async fn change_password(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let password = opt_string("user", &body, "password")?.ok_or_else(|| Error::attribute("user", "password", "string", "password is required"))?;
    let current = opt_string("user", &body, "currentPassword")?.ok_or_else(|| Error::attribute("user", "currentPassword", "string", "currentPassword is required"))?;
    user::set_password(&state, &caller, &id, Some(current), password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// API keys are stored hashed: they cannot be shown again (renew one instead).
#[utoipa::path(get, path = "/api/v1/user/{id}/key", tag = "v1", params(("id" = String, Path, description = "User id or login")), responses((status = 404, description = "Keys cannot be shown again")))]
pub async fn get_key(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let u = user::get(&state, &caller, &id).await?;
    if u.id != caller.user_id && !caller.can(Permission::ManageUser) {
        return Err(Error::forbidden("see this user's API key"));
    }
    Err(Error::NotFound(if u.has_key {
        "API keys are stored hashed and cannot be shown again; renew the key to get a new one".into()
    } else {
        "This user has no API key".into()
    }))
}

#[utoipa::path(delete, path = "/api/v1/user/{id}/key", tag = "v1", params(("id" = String, Path, description = "User id or login")), responses((status = 204, description = "Removed")))]
pub async fn remove_key(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    user::revoke_key(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new API key (text), the old one stops working.
#[utoipa::path(post, path = "/api/v1/user/{id}/key/renew", tag = "v1", params(("id" = String, Path, description = "User id or login")), responses((status = 200, description = "The new key, as text")))]
pub async fn renew_key(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let key = user::renew_key(&state, &caller, &id).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], key))
}

#[utoipa::path(patch, path = "/api/v1/organisation/{id}", tag = "v1", params(("id" = String, Path, description = "Organisation id or name")), responses((status = 204, description = "Changed")))]
pub async fn update_organisation(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let patch = org::OrgPatch {
        description: opt_string("organisation", &body, "description")?,
        name: opt_string("organisation", &body, "name")?,
        locked: body.get("locked").and_then(Value::as_bool),
    };
    org::update(&state, &caller, &id, patch).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn permissions_of(body: &Map<String, Value>) -> Result<Vec<Permission>> {
    let bad = || Error::attribute("profile", "permissions", "array", "permissions: a list of permission names (manageCase...)");
    let list = body.get("permissions").and_then(Value::as_array).ok_or_else(bad)?;
    list.iter()
        .map(|p| {
            let name = p.as_str().ok_or_else(bad)?;
            Permission::parse(name).ok_or_else(|| Error::attribute("profile", "permissions", "array", format!("Unknown permission {name}")))
        })
        .collect()
}

async fn find_profile(state: &AppState, caller: &Caller, id: &str) -> Result<Value> {
    profiles(state, caller).await?.into_iter().find(|p| p["name"] == json!(id) || p["_id"] == json!(id)).ok_or_else(|| Error::not_found("profile", id))
}

#[utoipa::path(post, path = "/api/v1/profile", tag = "v1", responses((status = 201, description = "The new profile")))]
pub async fn create_profile(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let name = opt_string("profile", &body, "name")?.ok_or_else(|| Error::attribute("profile", "name", "string", "name is required"))?;
    let p = profile::create(&state, &caller, &name, &permissions_of(&body)?).await?;
    Ok((StatusCode::CREATED, axum::Json(find_profile(&state, &caller, &p.name).await?)))
}

#[utoipa::path(get, path = "/api/v1/profile/{id}", tag = "v1", params(("id" = String, Path, description = "Profile id or name")), responses((status = 200, description = "The profile")))]
pub async fn get_profile(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(find_profile(&state, &caller, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/profile/{id}", tag = "v1", params(("id" = String, Path, description = "Profile id or name")), responses((status = 200, description = "The profile")))]
pub async fn update_profile(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let name = find_profile(&state, &caller, &id).await?["name"].as_str().unwrap_or_default().to_string();
    let p = profile::update(&state, &caller, &name, &permissions_of(&body)?).await?;
    Ok(axum::Json(find_profile(&state, &caller, &p.name).await?))
}

#[utoipa::path(delete, path = "/api/v1/profile/{id}", tag = "v1", params(("id" = String, Path, description = "Profile id or name")), responses((status = 204, description = "Removed")))]
pub async fn delete_profile(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let name = find_profile(&state, &caller, &id).await?["name"].as_str().unwrap_or_default().to_string();
    profile::delete(&state, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn find_field(state: &AppState, caller: &Caller, id: &str) -> Result<CustomFieldDefinition> {
    custom_field::list(state, caller).await?.into_iter().find(|f| f.id == id || f.reference == id).ok_or_else(|| Error::not_found("custom field", id))
}

/// Change a custom field: `{displayName?, description?, type?, options?, mandatory?}`.
#[utoipa::path(patch, path = "/api/v1/customField/{id}", tag = "v1", params(("id" = String, Path, description = "Custom field id or name")), responses((status = 204, description = "Changed")))]
pub async fn update_custom_field(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let f = find_field(&state, &caller, &id).await?;
    let mut m = Map::new();
    m.insert("name".into(), body.get("displayName").cloned().filter(|v| !v.is_null()).unwrap_or(json!(f.name)));
    m.insert("reference".into(), json!(f.reference));
    m.insert("description".into(), body.get("description").cloned().filter(|v| !v.is_null()).unwrap_or(json!(f.description)));
    m.insert("type".into(), body.get("type").cloned().filter(|v| !v.is_null()).unwrap_or(json!(f.kind.as_str())));
    m.insert("options".into(), body.get("options").cloned().filter(|v| !v.is_null()).unwrap_or(json!(f.options)));
    m.insert("mandatory".into(), body.get("mandatory").cloned().filter(|v| !v.is_null()).unwrap_or(json!(f.mandatory)));
    let input: NewCustomField = input("customField", &m, &["name", "reference", "description", "type", "options", "mandatory"])?;
    custom_field::update(&state, &caller, &f.id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/customField/{id}", tag = "v1", params(("id" = String, Path, description = "Custom field id or name")), responses((status = 204, description = "Removed")))]
pub async fn delete_custom_field(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let f = find_field(&state, &caller, &id).await?;
    custom_field::delete(&state, &caller, &f.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
