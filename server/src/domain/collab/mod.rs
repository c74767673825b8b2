//! What analysts add to cases and alerts alike (TheHive 5): comments, ATT&CK procedures, and
//! attached files (also on task logs and the organisation). Above `alert` and `case` in the
//! domain order: it reads both, neither reads it (deleting a case or an alert for good removes
//! what it holds here in the same transaction, by table).

pub mod comment;
pub mod file;
pub mod procedure;
