//! Files attached to a case, an alert, a task log or the organisation itself (TheHive 5's
//! attachments: a report, a screenshot, a policy), besides file observables and a log's own
//! attachment.
//!
//! Rules: attaching to a case needs `manageCase` (the case not deleted), to an alert
//! `manageAlert`, to a log `manageTask` (its case not deleted), to the organisation
//! `manageUser` (its administrators); at most
//! [`MAX_FILES`] at a time; the same content twice on one holder is kept once; a case or alert
//! deleted for good takes its list with it (the content stays while anything holds it).

use app::model::{Attachment, AuditOperation, Id, Millis, Permission};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::core::attachment::{self, StoredFile};
use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::new_id;
use crate::vars;

pub const TYPE: &str = "attachment";
const TABLE: &str = "attached_file";
/// Files one request may attach.
pub const MAX_FILES: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Case,
    Alert,
    Log,
    Organisation,
}

impl Holder {
    fn as_str(self) -> &'static str {
        match self {
            Holder::Case => "case",
            Holder::Alert => "alert",
            Holder::Log => "log",
            Holder::Organisation => "organisation",
        }
    }

    fn permission(self) -> Permission {
        match self {
            Holder::Case => Permission::ManageCase,
            Holder::Alert => Permission::ManageAlert,
            Holder::Log => Permission::ManageTask,
            Holder::Organisation => Permission::ManageUser,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachedFile {
    pub id: Id,
    pub parent: Id,
    pub parent_type: String,
    pub attachment: Attachment,
    pub created_at: Millis,
    pub created_by: String,
}

/// The record holding the files (a case by id or number, an alert, a log, the caller's
/// organisation), checked visible (and writable for a case when `write`), and the record the
/// audit trail files them under (a log's case).
async fn parent_and_root(state: &AppState, caller: &Caller, holder: Holder, id: &str, write: bool) -> Result<(Id, Id)> {
    if holder == Holder::Log {
        let l = crate::domain::case::task_log::get(state, caller, id).await?;
        if write {
            crate::domain::case::writable(&caller.store(state), &l.case_id).await?;
        }
        return Ok((l.id, l.case_id));
    }
    let p = parent(state, caller, holder, id, write).await?;
    Ok((p.clone(), p))
}

async fn parent(state: &AppState, caller: &Caller, holder: Holder, id: &str, write: bool) -> Result<Id> {
    Ok(match holder {
        Holder::Case => {
            let c = crate::domain::case::get(state, caller, id).await?;
            if write {
                crate::domain::case::writable(&caller.store(state), &c.id).await?;
            }
            c.id
        }
        Holder::Alert => crate::domain::alert::get(state, caller, id).await?.id,
        Holder::Log => {
            let l = crate::domain::case::task_log::get(state, caller, id).await?;
            if write {
                crate::domain::case::writable(&caller.store(state), &l.case_id).await?;
            }
            l.id
        }
        Holder::Organisation => caller.org_id.clone(),
    })
}

/// Attach stored files (discarded if they cannot be attached).
pub async fn add(state: &AppState, caller: &Caller, holder: Holder, id: &str, files: Vec<StoredFile>) -> Result<Vec<AttachedFile>> {
    let added = add_with(state, caller, holder, id, &files).await;
    if added.is_err() {
        attachment::discard(state, files).await;
    }
    added
}

async fn add_with(state: &AppState, caller: &Caller, holder: Holder, id: &str, files: &[StoredFile]) -> Result<Vec<AttachedFile>> {
    caller.require(holder.permission(), "attach files")?;
    if files.is_empty() || files.len() > MAX_FILES {
        return Err(Error::attribute(TYPE, "attachments", "file", format!("1 to {MAX_FILES} files")));
    }
    let (parent, root) = parent_and_root(state, caller, holder, id, true).await?;
    let existing: Vec<String> = list_of(state, caller, &parent).await?.into_iter().map(|f| f.attachment.id).collect();
    let mut tx = Tx::new(caller);
    let mut idxs = Vec::new();
    let mut seen = existing;
    for f in files {
        attachment::register(&mut tx, f);
        if seen.contains(&f.attachment().id) {
            continue;
        }
        seen.push(f.attachment().id.clone());
        let doc = json!({
            "parent": parent, "parentType": holder.as_str(), "case": root, "attachment": f.attachment(),
            "createdAt": tx.now(), "createdBy": caller.login,
        });
        let (vid, vdoc) = (tx.bind(new_id()), tx.bind(&doc));
        let n = idxs.len();
        tx.push(format!("LET $f{n} = (CREATE type::record('attached_file', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
        tx.audit(AuditOperation::Creation, TYPE, &vid, &format!("$f{n}.case"), &vdoc, None, Some(&format!("$f{n}")));
        idxs.push(tx.push(format!("$f{n}")));
    }
    let mut r = tx.run(state, &caller.store(state)).await?;
    let mut out: Vec<AttachedFile> = Vec::new();
    for i in idxs {
        out.push(r.one(i)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("attachment not recorded")))?);
    }
    // Files already attached answer as they are.
    for f in list_of(state, caller, &parent).await? {
        if files.iter().any(|s| s.attachment().id == f.attachment.id) && !out.iter().any(|o| o.id == f.id) {
            out.push(f);
        }
    }
    Ok(out)
}

async fn list_of(state: &AppState, caller: &Caller, parent: &str) -> Result<Vec<AttachedFile>> {
    let mut r = caller.store(state).query("SELECT * FROM attached_file WHERE org = $org AND parent = $p ORDER BY createdAt ASC", vars! { "p" => parent }).await?;
    r.rows(0)
}

/// The files of a case, an alert or the organisation.
pub async fn list(state: &AppState, caller: &Caller, holder: Holder, id: &str) -> Result<Vec<AttachedFile>> {
    let parent = parent(state, caller, holder, id, false).await?;
    list_of(state, caller, &parent).await
}

/// One file of a holder, by its id or its content's SHA-256.
pub async fn find(state: &AppState, caller: &Caller, holder: Holder, id: &str, file: &str) -> Result<AttachedFile> {
    list(state, caller, holder, id).await?.into_iter().find(|f| f.id == file || f.attachment.id == file).ok_or_else(|| Error::not_found("attachment", file))
}

/// Detach a file (by id or content hash).
pub async fn delete(state: &AppState, caller: &Caller, holder: Holder, id: &str, file: &str) -> Result<()> {
    caller.require(holder.permission(), "detach files")?;
    parent(state, caller, holder, id, true).await?;
    let f = find(state, caller, holder, id, file).await?;
    let mut tx = Tx::new(caller);
    tx.delete_record(TABLE, TYPE, &f.id, true);
    tx.run(state, &caller.store(state)).await?;
    Ok(())
}

/// A file of the organisation by its record id (any holder), for the generic download.
pub async fn by_id(state: &AppState, caller: &Caller, file: &str) -> Result<Option<AttachedFile>> {
    caller.store(state).get(TABLE, file).await
}
