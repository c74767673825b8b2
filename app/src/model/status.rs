use serde::{Deserialize, Serialize};

use super::Millis;

/// Health of a connector or of the whole platform (TheHive's `OK`/`WARNING`/`ERROR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Health {
    #[default]
    Ok,
    Warning,
    Error,
}

impl Health {
    /// The aggregate of several servers: OK when all are reachable, WARNING when some are,
    /// ERROR when none is.
    pub fn of_servers<I: IntoIterator<Item = Health>>(servers: I) -> Health {
        let (mut ok, mut total) = (0usize, 0usize);
        for s in servers {
            total += 1;
            if s == Health::Ok {
                ok += 1;
            }
        }
        match (ok, total) {
            (_, 0) => Health::Ok,
            (o, t) if o == t => Health::Ok,
            (0, _) => Health::Error,
            _ => Health::Warning,
        }
    }

    /// The worst of two health values.
    pub fn worst(self, other: Health) -> Health {
        use Health::*;
        match (self, other) {
            (Error, _) | (_, Error) => Error,
            (Warning, _) | (_, Warning) => Warning,
            _ => Ok,
        }
    }

    /// TheHive's `/api/health` text.
    pub fn as_text(self) -> &'static str {
        match self {
            Health::Ok => "Ok",
            Health::Warning => "Warning",
            Health::Error => "Error",
        }
    }
}

/// One remote server of a connector (a MISP instance, an external Cortex).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    pub name: String,
    pub url: String,
    pub version: Option<String>,
    pub status: Health,
    pub message: Option<String>,
    pub checked_at: Option<Millis>,
}

/// A connector: the analysis engine or MISP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorStatus {
    pub name: String,
    pub enabled: bool,
    pub status: Health,
    pub servers: Vec<ServerStatus>,
}

/// What the About page and the footer show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub version: String,
    pub database_version: String,
    pub storage: String,
    pub schema_version: u32,
    pub auth_methods: Vec<String>,
    pub connectors: Vec<ConnectorStatus>,
    pub health: Health,
}
