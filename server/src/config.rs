//! Command line, configuration file and environment.
//!
//! Precedence, highest first: command-line flags, the TOML file given with `--config`,
//! `WAGGLE_*` environment variables, built-in defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

#[derive(Parser, Debug)]
#[command(
    name = "waggle",
    version,
    about = "Waggle: a self-hosted security incident response platform (cases, alerts, dashboards, analyzers) in one binary",
    after_help = "Run `waggle serve --help` for the server's options."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run Waggle: the web UI and the REST APIs on one address.
    Serve(ServeArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

#[derive(Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// TOML configuration file. Its keys are the long option names with `_` for `-`
    /// (`listen`, `data`, `database`, ...) plus `[[misp]]` and `[[cortex]]` server tables.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to listen on. [env: WAGGLE_LISTEN] [default: 127.0.0.1:9000]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Directory of the embedded database and the attachment store.
    /// [env: WAGGLE_DATA] [default: ./waggle-data]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Database URL: `surrealkv://PATH` (embedded, durable), `mem://` (throwaway) or
    /// `ws://HOST:PORT` (a SurrealDB server). [env: WAGGLE_DATABASE]
    /// [default: surrealkv://<data>/db?sync=every]
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,

    /// Root user for a SurrealDB server (`ws://` only). [env: WAGGLE_DATABASE_USER]
    #[arg(long, value_name = "USER")]
    pub database_user: Option<String>,

    /// Root password for a SurrealDB server (`ws://` only). [env: WAGGLE_DATABASE_PASSWORD]
    #[arg(long, value_name = "PASSWORD")]
    pub database_password: Option<String>,

    /// Log format. [env: WAGGLE_LOG_FORMAT] [default: human]
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log filter, e.g. `info` or `waggle=debug,info`. [env: WAGGLE_LOG] [default: info,surreal=warn]
    #[arg(long, value_name = "FILTER")]
    pub log: Option<String>,

    /// Name of the first working organisation created on an empty database.
    /// [env: WAGGLE_ORG] [default: soc]
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,

    /// Largest request body accepted, in MiB (attachments included). [env: WAGGLE_MAX_BODY_MB]
    /// [default: 100]
    #[arg(long, value_name = "MIB")]
    pub max_body_mb: Option<u64>,

    /// Mark the session cookie `Secure` and name it `__Host-waggle` (behind HTTPS).
    /// [env: WAGGLE_SECURE_COOKIES] [default: false]
    #[arg(long)]
    pub secure_cookies: bool,

    /// Session lifetime without activity, in minutes. [env: WAGGLE_SESSION_MINUTES] [default: 480]
    #[arg(long, value_name = "MINUTES")]
    pub session_minutes: Option<i64>,
}

/// A remote server a connector checks (MISP, external Cortex).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RemoteServer {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub key: Option<String>,
}

/// The configuration file's shape: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    database: Option<String>,
    database_user: Option<String>,
    database_password: Option<String>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    org: Option<String>,
    max_body_mb: Option<u64>,
    secure_cookies: Option<bool>,
    session_minutes: Option<i64>,
    #[serde(default)]
    misp: Vec<RemoteServer>,
    #[serde(default)]
    cortex: Vec<RemoteServer>,
}

/// The resolved settings of a running server.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: String,
    pub database_user: Option<String>,
    pub database_password: Option<String>,
    pub log_format: LogFormat,
    pub log: String,
    pub org: String,
    pub admin_login: String,
    pub admin_password: Option<String>,
    pub max_body_bytes: usize,
    pub secure_cookies: bool,
    pub session_minutes: i64,
    pub misp: Vec<RemoteServer>,
    pub cortex: Vec<RemoteServer>,
}

pub const DEFAULT_ADMIN_LOGIN: &str = "admin@waggle.local";

/// Waggle at `info`; the database engine's own chatter only from `warn` up.
pub const DEFAULT_LOG: &str = "info,surreal=warn";

impl Settings {
    /// Settings for tests and throwaway runs: an in-memory database, a port chosen by the OS.
    pub fn ephemeral(data_dir: &Path) -> Settings {
        Settings {
            listen: "127.0.0.1:0".parse().expect("literal address"),
            data_dir: data_dir.to_path_buf(),
            database: "mem://".into(),
            database_user: None,
            database_password: None,
            log_format: LogFormat::Human,
            log: "warn".into(),
            org: "soc".into(),
            admin_login: DEFAULT_ADMIN_LOGIN.into(),
            admin_password: None,
            max_body_bytes: 100 * 1024 * 1024,
            secure_cookies: false,
            session_minutes: 480,
            misp: Vec::new(),
            cortex: Vec::new(),
        }
    }

    /// Resolve flags, file, environment and defaults (in that order of precedence).
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Settings> {
        Self::resolve_with_env(args, |k| std::env::var(k).ok())
    }

    pub fn resolve_with_env(args: &ServeArgs, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read configuration file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid configuration file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let env_parse = |key: &str| -> anyhow::Result<Option<String>> { Ok(env(key).filter(|v| !v.is_empty())) };
        fn parsed<T: std::str::FromStr>(key: &str, v: Option<String>) -> anyhow::Result<Option<T>>
        where
            T::Err: std::fmt::Display,
        {
            v.map(|s| s.parse::<T>().map_err(|e| anyhow::anyhow!("{key}={s}: {e}"))).transpose()
        }

        let listen = match args.listen.or(file.listen) {
            Some(l) => l,
            None => parsed("WAGGLE_LISTEN", env_parse("WAGGLE_LISTEN")?)?.unwrap_or("127.0.0.1:9000".parse()?),
        };
        let data_dir = args
            .data
            .clone()
            .or(file.data)
            .or(env_parse("WAGGLE_DATA")?.map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("waggle-data"));
        let database = args
            .database
            .clone()
            .or(file.database)
            .or(env_parse("WAGGLE_DATABASE")?)
            .unwrap_or_else(|| format!("surrealkv://{}?sync=every", data_dir.join("db").display()));
        let log_format = match args.log_format.or(file.log_format) {
            Some(f) => f,
            None => match env_parse("WAGGLE_LOG_FORMAT")?.as_deref() {
                None => LogFormat::Human,
                Some("human") => LogFormat::Human,
                Some("json") => LogFormat::Json,
                Some(other) => anyhow::bail!("WAGGLE_LOG_FORMAT={other}: expected human or json"),
            },
        };
        let secure_cookies = if args.secure_cookies {
            true
        } else if let Some(b) = file.secure_cookies {
            b
        } else {
            parsed::<bool>("WAGGLE_SECURE_COOKIES", env_parse("WAGGLE_SECURE_COOKIES")?)?.unwrap_or(false)
        };
        let max_body_mb = match args.max_body_mb.or(file.max_body_mb) {
            Some(m) => m,
            None => parsed("WAGGLE_MAX_BODY_MB", env_parse("WAGGLE_MAX_BODY_MB")?)?.unwrap_or(100),
        };
        if max_body_mb == 0 {
            anyhow::bail!("max_body_mb must be at least 1");
        }
        let session_minutes = match args.session_minutes.or(file.session_minutes) {
            Some(m) => m,
            None => parsed("WAGGLE_SESSION_MINUTES", env_parse("WAGGLE_SESSION_MINUTES")?)?.unwrap_or(480),
        };
        if session_minutes < 1 {
            anyhow::bail!("session_minutes must be at least 1");
        }
        let org = args.org.clone().or(file.org).or(env_parse("WAGGLE_ORG")?).unwrap_or_else(|| "soc".into());
        if org == "admin" || org.trim().is_empty() {
            anyhow::bail!("the first working organisation cannot be named {org:?}");
        }
        Ok(Settings {
            listen,
            data_dir,
            database,
            database_user: args.database_user.clone().or(file.database_user).or(env_parse("WAGGLE_DATABASE_USER")?),
            database_password: args
                .database_password
                .clone()
                .or(file.database_password)
                .or(env_parse("WAGGLE_DATABASE_PASSWORD")?),
            log_format,
            log: args.log.clone().or(file.log).or(env_parse("WAGGLE_LOG")?).unwrap_or_else(|| DEFAULT_LOG.into()),
            org,
            admin_login: env_parse("WAGGLE_ADMIN_LOGIN")?.unwrap_or_else(|| DEFAULT_ADMIN_LOGIN.into()),
            admin_password: env_parse("WAGGLE_ADMIN_PASSWORD")?,
            max_body_bytes: usize::try_from(max_body_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
            secure_cookies,
            session_minutes,
            misp: file.misp,
            cortex: file.cortex,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults() {
        let s = Settings::resolve_with_env(&ServeArgs::default(), env_of(&[])).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(s.data_dir, PathBuf::from("waggle-data"));
        assert_eq!(s.database, "surrealkv://waggle-data/db?sync=every");
        assert_eq!(s.org, "soc");
        assert_eq!(s.admin_login, DEFAULT_ADMIN_LOGIN);
        assert_eq!(s.max_body_bytes, 100 * 1024 * 1024);
    }

    #[test]
    fn flags_beat_file_beat_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("waggle.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9100\"\ndata = \"/from/file\"\norg = \"fileorg\"\n[[misp]]\nname = \"m\"\nurl = \"http://127.0.0.1:1\"\n").unwrap();
        let env = env_of(&[("WAGGLE_LISTEN", "127.0.0.1:9200"), ("WAGGLE_DATA", "/from/env"), ("WAGGLE_ORG", "envorg"), ("WAGGLE_LOG", "debug")]);
        let args = ServeArgs { config: Some(path), listen: Some("127.0.0.1:9300".parse().unwrap()), ..Default::default() };
        let s = Settings::resolve_with_env(&args, env).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9300", "flag wins");
        assert_eq!(s.data_dir, PathBuf::from("/from/file"), "file beats env");
        assert_eq!(s.org, "fileorg");
        assert_eq!(s.log, "debug", "env beats default");
        assert_eq!(s.misp.len(), 1);
    }

    #[test]
    fn bad_values_are_explained() {
        let err = Settings::resolve_with_env(&ServeArgs::default(), env_of(&[("WAGGLE_LISTEN", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("WAGGLE_LISTEN"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "lisen = 1").unwrap();
        let err = Settings::resolve_with_env(&ServeArgs { config: Some(path), ..Default::default() }, env_of(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
        let err = Settings::resolve_with_env(&ServeArgs { org: Some("admin".into()), ..Default::default() }, env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("admin"));
    }
}
