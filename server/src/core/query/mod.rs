//! TheHive's v0 query language, parsed into a [`Filter`] and compiled to a SurrealQL condition
//! with bound parameters. Field names are checked against the entity's [`Schema`]: a query can
//! only name known fields, and values are never formatted into the query text.
//!
//! ```json
//! {"_and": [{"status": "Open"}, {"_gte": {"severity": 3}}, {"_like": {"_field": "title", "_value": "phish"}}]}
//! ```

mod compile;
mod parse;
mod schema;

pub use compile::{Params, compile, order_by, path, path as field_path};
pub use parse::{field, parse, parse_sort};
pub use schema::{Entity, FieldKind, Schema, schema};

use serde_json::Value;

/// A parsed query. Fields are already resolved to database paths.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All,
    Nothing,
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Cmp(Field, Op, Value),
    /// `from <= f < to` (either bound optional).
    Between(Field, Option<Value>, Option<Value>),
    In(Field, Vec<Value>),
    /// The field is present (and not null).
    Exists(Field),
    Ids(Vec<String>),
    /// Case-insensitive substring.
    Like(Field, String),
    /// `*` and `?` patterns, case-insensitive.
    Wildcard(Field, String),
    /// Words searched in every text field of the entity.
    FullText(String),
    ParentId(Entity, String),
    Parent(Entity, Box<Filter>),
    Child(Entity, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A field resolved against a schema: its database path and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub path: String,
    pub kind: FieldKind,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub field: Field,
    pub descending: bool,
}

/// Paging: `range=from-to` (end exclusive) or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: usize,
    pub to: Option<usize>,
}

impl Default for Range {
    fn default() -> Self {
        Range { from: 0, to: Some(10) }
    }
}

impl Range {
    /// The largest page a client may ask for at once with `range=all`.
    pub const MAX_ALL: usize = 100_000;

    pub fn parse(s: Option<&str>) -> Result<Range, crate::core::error::Error> {
        let bad = || crate::core::error::Error::BadRequest(format!("Invalid range {:?}: expected all or FROM-TO", s.unwrap_or_default()));
        match s.map(str::trim) {
            None | Some("") => Ok(Range::default()),
            Some("all") => Ok(Range { from: 0, to: None }),
            Some(r) => {
                let (a, b) = r.split_once('-').ok_or_else(bad)?;
                let from: usize = a.trim().parse().map_err(|_| bad())?;
                let to: usize = b.trim().parse().map_err(|_| bad())?;
                if to < from {
                    return Err(bad());
                }
                Ok(Range { from, to: Some(to) })
            }
        }
    }

    /// How many records the page holds at most: `to - from`, never more than [`Self::MAX_ALL`]
    /// (`range=0-999999999` is a page of `MAX_ALL`, as `all` is).
    pub fn limit(&self) -> usize {
        match self.to {
            Some(to) => (to - self.from).min(Self::MAX_ALL),
            None => Self::MAX_ALL,
        }
    }
}
