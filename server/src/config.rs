//! Command line, configuration file and environment.
//!
//! Precedence, highest first: command-line flags, the TOML file given with `--config`,
//! `WAGGLE_*` environment variables, built-in defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use app::model::Profile;
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
    pub database_password: Option<Secret>,

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

    /// Memory for the embedded database's caches, in MiB: an eighth for each memtable (16-256
    /// MiB), a quarter for the block cache; the rest of the budget is left to the statistics
    /// index, the caches and requests. [env: WAGGLE_MEMORY_BUDGET_MB] [default: 1024, for a
    /// 4 GiB machine]
    #[arg(long, value_name = "MIB")]
    pub memory_budget_mb: Option<u64>,

    /// Mark the session cookie `Secure` and name it `__Host-waggle` (behind an HTTPS proxy).
    /// [env: WAGGLE_SECURE_COOKIES] [default: on with --tls-cert, else off]
    #[arg(long)]
    pub secure_cookies: bool,

    /// Session lifetime without activity, in minutes. [env: WAGGLE_SESSION_MINUTES] [default: 480]
    #[arg(long, value_name = "MINUTES")]
    pub session_minutes: Option<i64>,

    /// Absolute session lifetime, in hours: however active, a session ends this long after
    /// sign-in. [env: WAGGLE_SESSION_MAX_HOURS] [default: 24]
    #[arg(long, value_name = "HOURS")]
    pub session_max_hours: Option<i64>,

    #[command(flatten)]
    pub tls: TlsArgs,

    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// The analysis engine (Cortex analyzers run by Waggle itself).
#[derive(Args, Debug, Default, Clone)]
pub struct AnalysisArgs {
    /// A directory of analyzer definitions, Cortex's layout `<dir>/<Analyzer>/<Flavor>.json`
    /// (repeatable; the first directory wins for a definition found twice).
    #[arg(long = "analyzers", value_name = "DIR")]
    pub analyzers: Vec<PathBuf>,

    /// How many analyzer processes run at once (default: the number of cores less one, at least 1).
    #[arg(long, value_name = "N")]
    pub analysis_concurrency: Option<usize>,

    /// A directory put first on the analyzers' PATH (repeatable), e.g. the `bin` of the Python
    /// virtual environment that holds their requirements.
    #[arg(long, value_name = "DIR")]
    pub analyzer_path: Vec<PathBuf>,
}

/// TLS and sign-in with X.509 client certificates (README: "Sign in with certificates").
#[derive(Args, Debug, Default, Clone)]
pub struct TlsArgs {
    /// Serve HTTPS with this certificate (PEM: the server's certificate, then its intermediates).
    /// With it, cookies are `Secure` `__Host-` and HSTS is sent. [env: WAGGLE_TLS_CERT]
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of `--tls-cert` (PEM). [env: WAGGLE_TLS_KEY]
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// CAs that issue users' certificates (PEM, intermediates and roots): the handshake asks for
    /// a client certificate, and one that verifies signs its holder in. [env: WAGGLE_CLIENT_CA]
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,

    /// Certificate revocation list (PEM), repeatable; with any, every CA of a chain needs a
    /// current CRL. Re-read with the certificates on SIGHUP.
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,

    /// Whether a client certificate is `optional` (the password page stays for others) or
    /// `required` (no connection without one), or `off`. [default: optional with --client-ca]
    #[arg(long, value_name = "MODE")]
    pub client_cert: Option<String>,

    /// Which user a certificate names: `email` (subjectAltName e-mail, else the subject's
    /// emailAddress), `upn` (subjectAltName userPrincipalName), `cn`, or `dn:PATTERN` with
    /// `{login}` in it (`dn:CN={login},OU=SOC,O=Example`). [default: email]
    #[arg(long, value_name = "RULE")]
    pub cert_user: Option<String>,

    /// Create the user of an unknown certificate at first sign-in, in this organisation with
    /// this profile (`ORG/PROFILE`, e.g. `soc/read-only`); without it, unknown holders are refused.
    #[arg(long, value_name = "ORG/PROFILE")]
    pub cert_create: Option<String>,

    /// A reverse proxy that verifies client certificates itself (its address), repeatable: only
    /// from these addresses is the certificate header below trusted.
    #[arg(long, value_name = "IP")]
    pub trusted_proxy: Vec<std::net::IpAddr>,

    /// The header in which a trusted proxy passes the verified client certificate (PEM,
    /// URL-encoded as nginx's `$ssl_client_escaped_cert`), e.g. `X-SSL-Client-Cert`.
    #[arg(long, value_name = "NAME", requires = "trusted_proxy")]
    pub cert_header: Option<String>,
}

/// A secret setting (a password, an API key): `Debug` (logs, panics) never prints it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// A remote server a connector checks (MISP, external Cortex).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RemoteServer {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub key: Option<Secret>,
}

/// A `[[misp]]` table: a MISP server (`url` + `key`) or feed directory (`feed`); see
/// [`app::model::MispServer`] for the meaning of each key.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MispConfig {
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub key: Option<Secret>,
    #[serde(default)]
    pub feed: Option<PathBuf>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub skip_verify: bool,
    #[serde(default)]
    pub purpose: app::model::MispPurpose,
    #[serde(default = "app::model::default_interval")]
    pub interval: String,
    #[serde(default)]
    pub max_age: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub include_tags: Vec<String>,
    #[serde(default)]
    pub exclude_tags: Vec<String>,
    #[serde(default)]
    pub exclude_orgs: Vec<String>,
    #[serde(default)]
    pub case_template: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
}

impl MispConfig {
    /// A MISP server with the defaults of the file's keys (import and export, every hour).
    pub fn server(name: &str, url: &str, key: &str) -> MispConfig {
        MispConfig { url: Some(url.into()), key: Some(key.into()), ..MispConfig::named(name) }
    }

    /// A MISP feed directory (import only, every hour).
    pub fn feed(name: &str, dir: impl Into<PathBuf>) -> MispConfig {
        MispConfig { feed: Some(dir.into()), purpose: app::model::MispPurpose::Import, ..MispConfig::named(name) }
    }

    fn named(name: &str) -> MispConfig {
        MispConfig {
            name: name.into(),
            url: None,
            key: None,
            feed: None,
            ca_file: None,
            skip_verify: false,
            purpose: Default::default(),
            interval: app::model::default_interval(),
            max_age: None,
            tags: Vec::new(),
            include_tags: Vec::new(),
            exclude_tags: Vec::new(),
            exclude_orgs: Vec::new(),
            case_template: None,
            organisation: None,
        }
    }

    /// The connection as an administrator sees it (no key).
    pub fn view(&self, origin: &str) -> app::model::MispServer {
        app::model::MispServer {
            name: self.name.clone(),
            url: self.url.clone(),
            feed: self.feed.as_ref().map(|p| p.display().to_string()),
            key_set: self.key.is_some(),
            ca_file: self.ca_file.as_ref().map(|p| p.display().to_string()),
            skip_verify: self.skip_verify,
            purpose: self.purpose,
            interval: self.interval.clone(),
            max_age: self.max_age.clone(),
            tags: self.tags.clone(),
            include_tags: self.include_tags.clone(),
            exclude_tags: self.exclude_tags.clone(),
            exclude_orgs: self.exclude_orgs.clone(),
            case_template: self.case_template.clone(),
            organisation: self.organisation.clone(),
            origin: origin.into(),
        }
    }

    /// The connection an administrator described, with its key.
    pub fn from_view(v: &app::model::MispServer, key: Option<Secret>) -> MispConfig {
        MispConfig {
            name: v.name.clone(),
            url: v.url.clone().filter(|u| !u.is_empty()),
            key,
            feed: v.feed.clone().filter(|f| !f.is_empty()).map(PathBuf::from),
            ca_file: v.ca_file.clone().filter(|f| !f.is_empty()).map(PathBuf::from),
            skip_verify: v.skip_verify,
            purpose: v.purpose,
            interval: v.interval.clone(),
            max_age: v.max_age.clone().filter(|a| !a.is_empty()),
            tags: v.tags.clone(),
            include_tags: v.include_tags.clone(),
            exclude_tags: v.exclude_tags.clone(),
            exclude_orgs: v.exclude_orgs.clone(),
            case_template: v.case_template.clone().filter(|t| !t.is_empty()),
            organisation: v.organisation.clone().filter(|o| !o.is_empty()),
        }
    }

    /// A server to check for health (`None` for a feed).
    pub fn remote(&self) -> Option<RemoteServer> {
        self.url.as_ref().map(|url| RemoteServer { name: self.name.clone(), url: url.clone(), key: self.key.clone() })
    }
}

/// The `[[misp]]` tables, checked: unique names, a server or a feed, durations that parse.
pub fn check_misp(list: Vec<MispConfig>) -> anyhow::Result<Vec<MispConfig>> {
    let mut names = std::collections::HashSet::new();
    for m in &list {
        m.check().map_err(|e| anyhow::anyhow!("[[misp]] {}: {e}", m.name))?;
        if !names.insert(m.name.clone()) {
            anyhow::bail!("[[misp]] {}: two connections have this name", m.name);
        }
    }
    Ok(list)
}

impl MispConfig {
    /// What is wrong with this connection, if anything.
    pub fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.len() > 64 || self.name.contains(['/', '|']) {
            return Err("a name of 1 to 64 characters without / or | is required".into());
        }
        match (&self.url, &self.feed) {
            (Some(u), None) => {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(format!("url {u} is not an http(s) URL"));
                }
                if self.key.is_none() {
                    return Err("a MISP server needs a key".into());
                }
            }
            (None, Some(_)) => {
                if self.purpose.exports() && self.purpose != app::model::MispPurpose::Both {
                    return Err("a feed can only be imported".into());
                }
            }
            _ => return Err("give either url (and key) or feed".into()),
        }
        if parse_duration(&self.interval).is_none_or(|d| d.as_secs() < 10) {
            return Err(format!("interval {} is not a duration of at least 10s (90s, 30m, 1h, 1d)", self.interval));
        }
        if let Some(a) = &self.max_age {
            if parse_duration(a).is_none() {
                return Err(format!("max_age {a} is not a duration (7d, 12h)"));
            }
        }
        Ok(())
    }
}

/// A duration as the configuration writes it: `90s`, `30m`, `1h`, `7d` (a bare number is
/// seconds).
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" | "min" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(secs))
}

/// The configuration file's shape: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    database: Option<String>,
    database_user: Option<String>,
    database_password: Option<Secret>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    org: Option<String>,
    max_body_mb: Option<u64>,
    memory_budget_mb: Option<u64>,
    secure_cookies: Option<bool>,
    session_minutes: Option<i64>,
    session_max_hours: Option<i64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    client_ca: Option<PathBuf>,
    #[serde(default)]
    crl: Vec<PathBuf>,
    client_cert: Option<String>,
    cert_user: Option<String>,
    cert_create: Option<String>,
    #[serde(default)]
    trusted_proxy: Vec<std::net::IpAddr>,
    cert_header: Option<String>,
    ldap: Option<LdapSettings>,
    #[serde(default)]
    misp: Vec<MispConfig>,
    #[serde(default)]
    cortex: Vec<RemoteServer>,
    #[serde(default)]
    analysis: FileAnalysis,
}

/// `[analysis]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAnalysis {
    #[serde(default)]
    analyzers: Vec<PathBuf>,
    concurrency: Option<usize>,
    /// Keep job directories after the run (to debug an analyzer).
    #[serde(default)]
    keep_job_dirs: bool,
    #[serde(default)]
    path: Vec<PathBuf>,
}

/// The analysis engine's resolved settings.
#[derive(Debug, Clone, Default)]
pub struct AnalysisSettings {
    /// Directories of analyzer definitions, in order of precedence.
    pub analyzer_dirs: Vec<PathBuf>,
    /// Analyzer processes at once (at least one).
    pub concurrency: usize,
    pub keep_job_dirs: bool,
    /// Directories put first on the analyzers' PATH.
    pub path: Vec<PathBuf>,
}

/// The resolved settings of a running server.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: String,
    pub database_user: Option<String>,
    pub database_password: Option<Secret>,
    pub log_format: LogFormat,
    pub log: String,
    pub org: String,
    pub admin_login: String,
    pub admin_password: Option<Secret>,
    pub max_body_bytes: usize,
    /// What the embedded database may hold in memory ([`crate::core::store::EngineMemory`]).
    pub memory_budget_bytes: u64,
    pub secure_cookies: bool,
    pub session_minutes: i64,
    /// Absolute session lifetime, in hours.
    pub session_max_hours: i64,
    /// HTTPS, when configured.
    pub tls: Option<TlsConfig>,
    /// How certificates name users, and what to do with an unknown holder.
    pub certificates: CertificateLogin,
    /// Sign-in with a directory, when configured.
    pub ldap: Option<LdapSettings>,
    /// MISP servers and feeds of the configuration file (administrators add more in the UI).
    pub misp: Vec<MispConfig>,
    pub cortex: Vec<RemoteServer>,
    pub analysis: AnalysisSettings,
}

/// Whether the server asks for a client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// No CertificateRequest is sent; no request carries a `PeerCert`.
    Off,
    /// A certificate is requested; without one the handshake succeeds (no `PeerCert`), with one
    /// it must verify or the handshake fails.
    Optional,
    /// A verified certificate is required; the handshake fails without one.
    Required,
}

impl std::str::FromStr for ClientAuth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" | "none" => Ok(Self::Off),
            "optional" => Ok(Self::Optional),
            "required" => Ok(Self::Required),
            other => Err(format!("client auth must be off, optional or required, not {other:?}")),
        }
    }
}

/// Where the TLS material lives. Every reload re-reads these files.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    /// PEM: the server certificate, then its intermediates.
    pub cert_chain: PathBuf,
    /// PEM private key of the server certificate.
    pub key: PathBuf,
    pub client_auth: ClientAuth,
    /// PEM: the CAs that issue client certificates (intermediates and roots). Required unless
    /// `client_auth` is `Off`. Every certificate in it is a trust anchor.
    pub client_ca: Option<PathBuf>,
    /// PEM CRL files (each may hold several CRLs). When any is given, revocation is checked for
    /// every certificate of the chain (CRL_CHECK | CRL_CHECK_ALL): each CA of the chain needs a
    /// current CRL, or every client certificate it issued is refused.
    pub crls: Vec<PathBuf>,
    /// OpenSSL verify depth: the number of intermediate CAs allowed between the leaf and the
    /// trust anchor (leaf -> intermediate -> root needs 1).
    pub verify_depth: u32,
    /// Refuse a client leaf certificate whose extendedKeyUsage does not list clientAuth, also
    /// when it has no extendedKeyUsage at all (OpenSSL's purpose check alone accepts that).
    pub require_eku_client_auth: bool,
}

/// How a certificate names its holder's login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CertRule {
    /// The subjectAltName e-mail, else the subject's emailAddress.
    #[default]
    Email,
    /// The subjectAltName userPrincipalName (Active Directory smart cards).
    Upn,
    /// The subject's common name.
    Cn,
    /// The subject DN matched against a pattern with one `{login}` (`CN={login},OU=SOC,O=Ex`):
    /// what stands in place of `{login}`, which holds no `,`.
    Dn { prefix: String, suffix: String },
}

impl std::fmt::Display for CertRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Email => f.write_str("email"),
            Self::Upn => f.write_str("upn"),
            Self::Cn => f.write_str("cn"),
            Self::Dn { prefix, suffix } => write!(f, "dn:{prefix}{{login}}{suffix}"),
        }
    }
}

impl FromStr for CertRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "email" => Ok(Self::Email),
            "upn" => Ok(Self::Upn),
            "cn" => Ok(Self::Cn),
            other => match other.strip_prefix("dn:") {
                Some(pattern) => match pattern.split_once("{login}") {
                    Some((prefix, suffix)) if !suffix.contains("{login}") => {
                        Ok(Self::Dn { prefix: prefix.to_string(), suffix: suffix.to_string() })
                    }
                    _ => Err(format!("the DN pattern {pattern:?} must hold {{login}} exactly once")),
                },
                None => Err(format!("expected email, upn, cn or dn:PATTERN, not {other:?}")),
            },
        }
    }
}

/// Directory connection and schema mapping.
#[derive(Clone, Deserialize, serde::Serialize)]
pub struct LdapConfig {
    /// `ldap://host[:389]` or `ldaps://host[:636]`, tried in order (failover).
    pub urls: Vec<String>,
    /// Upgrade `ldap://` connections with StartTLS (ignored for `ldaps://`).
    #[serde(default)]
    pub starttls: bool,
    /// PEM file (one or more certificates) trusted for `ldaps://` and StartTLS. When set, it is
    /// the only trust anchor (the system's CA store is not used); when unset, the system store.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Service account used to search; `None` = anonymous search.
    #[serde(default)]
    pub bind_dn: Option<String>,
    #[serde(default)]
    pub bind_password: Option<String>,
    /// Where users are searched (subtree).
    pub base_dn: String,
    /// e.g. `(&(objectClass=inetOrgPerson)(uid={login}))`, AD
    /// `(&(objectClass=user)(sAMAccountName={login}))`. Must contain `{login}`.
    pub user_filter: String,
    /// Attribute holding the canonical login: `uid`, `sAMAccountName`, `userPrincipalName`.
    #[serde(default = "default_login_attribute")]
    pub login_attribute: String,
    /// Display name: `cn`, `displayName`.
    #[serde(default = "default_name_attribute")]
    pub name_attribute: String,
    #[serde(default = "default_mail_attribute")]
    pub mail_attribute: String,
    /// Attribute of the user entry listing its groups' DNs (`memberOf`).
    #[serde(default)]
    pub group_attribute: Option<String>,
    /// Group search instead of (or besides) `group_attribute`: base of the search ...
    #[serde(default)]
    pub group_base: Option<String>,
    /// ... and its filter, e.g. `(&(objectClass=groupOfNames)(member={dn}))`, AD nested groups
    /// `(&(objectClass=group)(member:1.2.840.113556.1.4.1941:={dn}))`, posixGroup
    /// `(memberUid={login})`.
    #[serde(default)]
    pub group_filter: Option<String>,
    /// Timeout of each connect (TCP + TLS + StartTLS) and of each LDAP operation.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_login_attribute() -> String {
    "uid".into()
}
fn default_name_attribute() -> String {
    "cn".into()
}
fn default_mail_attribute() -> String {
    "mail".into()
}
fn default_timeout_secs() -> u64 {
    10
}

/// Sign-in with a directory (LDAP, Active Directory): the connection and schema, the groups that
/// give an organisation and a profile, and whether unknown users get an account at first
/// sign-in (`[ldap]` in the TOML file, `[[ldap.groups]]` for the mapping).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct LdapSettings {
    #[serde(flatten)]
    pub directory: LdapConfig,
    /// Create the account of a directory user at first sign-in (in the organisation and with the
    /// profile of their first mapped group).
    #[serde(default)]
    pub create_users: bool,
    #[serde(default)]
    pub groups: Vec<GroupMapping>,
}

/// A directory group (its DN, compared case-insensitively) and what it gives.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupMapping {
    pub group: String,
    pub organisation: String,
    pub profile: String,
}

/// Sign-in with certificates: the mapping rule, auto-creation, and a trusted proxy's header.
#[derive(Debug, Clone, Default)]
pub struct CertificateLogin {
    pub rule: CertRule,
    /// `(organisation, profile)` an unknown holder's account is created in.
    pub create: Option<(String, Profile)>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Lower-case header name.
    pub header: Option<String>,
}

pub const DEFAULT_ADMIN_LOGIN: &str = "admin@waggle.local";

/// Analyzer processes at once by default: one per core, but one core kept for the server
/// (its API stays responsive while jobs drain), at least one.
pub fn default_analysis_concurrency() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).saturating_sub(1).max(1)
}

/// The default memory budget (MiB): sane on a 4 GiB machine.
pub const DEFAULT_MEMORY_BUDGET_MB: u64 = 1024;

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
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET_MB << 20,
            secure_cookies: false,
            session_minutes: 480,
            session_max_hours: 24,
            tls: None,
            certificates: CertificateLogin::default(),
            ldap: None,
            misp: Vec::new(),
            cortex: Vec::new(),
            analysis: AnalysisSettings { analyzer_dirs: Vec::new(), concurrency: 2, keep_job_dirs: false, path: Vec::new() },
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
        // Without an explicit choice, cookies are Secure exactly when Waggle serves HTTPS itself.
        let secure_cookies_set = if args.secure_cookies {
            Some(true)
        } else if let Some(b) = file.secure_cookies {
            Some(b)
        } else {
            parsed::<bool>("WAGGLE_SECURE_COOKIES", env_parse("WAGGLE_SECURE_COOKIES")?)?
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
        let session_max_hours = match args.session_max_hours.or(file.session_max_hours) {
            Some(h) => h,
            None => parsed("WAGGLE_SESSION_MAX_HOURS", env_parse("WAGGLE_SESSION_MAX_HOURS")?)?.unwrap_or(24),
        };
        if session_max_hours < 1 {
            anyhow::bail!("session_max_hours must be at least 1");
        }
        let tls_args = &args.tls;
        let tls_cert = tls_args.tls_cert.clone().or(file.tls_cert).or(env_parse("WAGGLE_TLS_CERT")?.map(PathBuf::from));
        let tls_key = tls_args.tls_key.clone().or(file.tls_key).or(env_parse("WAGGLE_TLS_KEY")?.map(PathBuf::from));
        let client_ca = tls_args.client_ca.clone().or(file.client_ca).or(env_parse("WAGGLE_CLIENT_CA")?.map(PathBuf::from));
        let crls = if tls_args.crl.is_empty() { file.crl } else { tls_args.crl.clone() };
        let client_auth = match tls_args.client_cert.clone().or(file.client_cert) {
            Some(mode) => mode.parse::<ClientAuth>().map_err(|e| anyhow::anyhow!("client_cert: {e}"))?,
            None if client_ca.is_some() => ClientAuth::Optional,
            None => ClientAuth::Off,
        };
        let tls = match (tls_cert, tls_key) {
            (Some(cert_chain), Some(key)) => {
                if client_auth != ClientAuth::Off && client_ca.is_none() {
                    anyhow::bail!("client certificates need --client-ca (the CAs that issue them)");
                }
                Some(TlsConfig { cert_chain, key, client_auth, client_ca, crls, verify_depth: 4, require_eku_client_auth: true })
            }
            (None, None) => {
                if client_ca.is_some() || !crls.is_empty() {
                    anyhow::bail!("--client-ca and --crl need TLS: give --tls-cert and --tls-key");
                }
                None
            }
            _ => anyhow::bail!("TLS needs both --tls-cert and --tls-key"),
        };
        let rule = match tls_args.cert_user.clone().or(file.cert_user) {
            Some(r) => r.parse::<CertRule>().map_err(|e| anyhow::anyhow!("cert_user: {e}"))?,
            None => CertRule::default(),
        };
        let create = match tls_args.cert_create.clone().or(file.cert_create) {
            Some(v) => {
                let (org, profile) = v.split_once('/').ok_or_else(|| anyhow::anyhow!("cert_create: expected ORG/PROFILE, not {v:?}"))?;
                let profile = Profile::parse(profile.trim())
                    .filter(|p| *p != Profile::Admin)
                    .ok_or_else(|| anyhow::anyhow!("cert_create: {profile:?} is not a profile an account can be created with (read-only, analyst, org-admin)"))?;
                Some((org.trim().to_string(), profile))
            }
            None => None,
        };
        let trusted_proxies = if tls_args.trusted_proxy.is_empty() { file.trusted_proxy } else { tls_args.trusted_proxy.clone() };
        let header = tls_args.cert_header.clone().or(file.cert_header).map(|h| h.trim().to_ascii_lowercase());
        if header.is_some() && trusted_proxies.is_empty() {
            anyhow::bail!("cert_header needs trusted_proxy: the header is only believed from a proxy's address");
        }
        let certificates = CertificateLogin { rule, create, trusted_proxies, header };
        if let Some(l) = &file.ldap {
            for g in &l.groups {
                match Profile::parse(g.profile.trim()) {
                    Some(Profile::Admin) => anyhow::bail!("[[ldap.groups]] {}: directory users are never made platform administrators", g.group),
                    Some(_) => {}
                    None => anyhow::bail!("[[ldap.groups]] {}: unknown profile {:?} (read-only, analyst, org-admin)", g.group, g.profile),
                }
            }
        }
        let analysis = {
            let analyzer_dirs = if args.analysis.analyzers.is_empty() { file.analysis.analyzers } else { args.analysis.analyzers.clone() };
            let concurrency = args.analysis.analysis_concurrency.or(file.analysis.concurrency).unwrap_or_else(default_analysis_concurrency);
            if concurrency == 0 {
                anyhow::bail!("analysis concurrency must be at least 1");
            }
            let path = if args.analysis.analyzer_path.is_empty() { file.analysis.path } else { args.analysis.analyzer_path.clone() };
            // Analyzers run in their own directory: relative paths would point elsewhere there.
            let absolute = |list: Vec<PathBuf>| -> anyhow::Result<Vec<PathBuf>> {
                list.into_iter().map(|p| std::path::absolute(&p).with_context(|| format!("analysis path {}", p.display()))).collect()
            };
            let (analyzer_dirs, path) = (absolute(analyzer_dirs)?, absolute(path)?);
            AnalysisSettings { analyzer_dirs, concurrency, keep_job_dirs: file.analysis.keep_job_dirs, path }
        };
        let memory_budget_mb = match args.memory_budget_mb.or(file.memory_budget_mb) {
            Some(m) => m,
            None => parsed("WAGGLE_MEMORY_BUDGET_MB", env_parse("WAGGLE_MEMORY_BUDGET_MB")?)?.unwrap_or(DEFAULT_MEMORY_BUDGET_MB),
        };
        if memory_budget_mb < 128 {
            anyhow::bail!("memory_budget_mb must be at least 128 (MiB)");
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
                .or(env_parse("WAGGLE_DATABASE_PASSWORD")?.map(Secret::from)),
            log_format,
            log: args.log.clone().or(file.log).or(env_parse("WAGGLE_LOG")?).unwrap_or_else(|| DEFAULT_LOG.into()),
            org,
            admin_login: env_parse("WAGGLE_ADMIN_LOGIN")?.unwrap_or_else(|| DEFAULT_ADMIN_LOGIN.into()),
            admin_password: env_parse("WAGGLE_ADMIN_PASSWORD")?.map(Secret::from),
            max_body_bytes: usize::try_from(max_body_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
            memory_budget_bytes: memory_budget_mb.saturating_mul(1 << 20),
            secure_cookies: secure_cookies_set.unwrap_or(tls.is_some()),
            session_minutes,
            session_max_hours,
            tls,
            certificates,
            ldap: file.ldap,
            misp: check_misp(file.misp)?,
            cortex: file.cortex,
            analysis,
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
        assert_eq!(s.memory_budget_bytes, 1024 << 20);
    }

    #[test]
    fn memory_budget() {
        let s = Settings::resolve_with_env(&ServeArgs::default(), env_of(&[("WAGGLE_MEMORY_BUDGET_MB", "4096")])).unwrap();
        assert_eq!(s.memory_budget_bytes, 4096 << 20);
        let args = ServeArgs { memory_budget_mb: Some(512), ..Default::default() };
        assert_eq!(Settings::resolve_with_env(&args, env_of(&[("WAGGLE_MEMORY_BUDGET_MB", "4096")])).unwrap().memory_budget_bytes, 512 << 20);
        let err = Settings::resolve_with_env(&ServeArgs::default(), env_of(&[("WAGGLE_MEMORY_BUDGET_MB", "64")])).unwrap_err();
        assert!(err.to_string().contains("at least 128"), "{err}");
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let args = ServeArgs { database_password: Some("db-s3cret".into()), ..Default::default() };
        let mut s = Settings::resolve_with_env(&args, env_of(&[("WAGGLE_ADMIN_PASSWORD", "adm-s3cret")])).unwrap();
        s.cortex.push(RemoteServer { name: "m".into(), url: "https://cortex".into(), key: Some("key-s3cret".into()) });
        let shown = format!("{args:?} {s:?}");
        for secret in ["db-s3cret", "adm-s3cret", "key-s3cret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert_eq!(s.admin_password.as_ref().map(Secret::expose), Some("adm-s3cret"));
    }

    #[test]
    fn tls_and_certificate_settings() {
        let tls = |cert: Option<&str>, key: Option<&str>, ca: Option<&str>| TlsArgs {
            tls_cert: cert.map(PathBuf::from),
            tls_key: key.map(PathBuf::from),
            client_ca: ca.map(PathBuf::from),
            ..Default::default()
        };
        let resolve = |t: TlsArgs| Settings::resolve_with_env(&ServeArgs { tls: t, ..Default::default() }, env_of(&[]));
        let s = resolve(tls(Some("c.pem"), Some("k.pem"), Some("ca.pem"))).unwrap();
        let t = s.tls.expect("TLS on");
        assert_eq!(t.client_auth, ClientAuth::Optional, "a client CA asks for certificates");
        assert!(s.secure_cookies, "Secure cookies follow TLS");
        assert_eq!(resolve(tls(Some("c.pem"), Some("k.pem"), None)).unwrap().tls.unwrap().client_auth, ClientAuth::Off);
        assert!(resolve(tls(Some("c.pem"), None, None)).is_err(), "a certificate needs its key");
        assert!(resolve(tls(None, None, Some("ca.pem"))).is_err(), "client CAs need TLS");
        let plain = resolve(TlsArgs::default()).unwrap();
        assert!(plain.tls.is_none() && !plain.secure_cookies);
        let create = |v: &str| resolve(TlsArgs { cert_create: Some(v.into()), ..Default::default() });
        assert_eq!(create("soc/read-only").unwrap().certificates.create, Some(("soc".into(), Profile::ReadOnly)));
        assert!(create("admin-org/admin").is_err(), "never a platform administrator");
        assert!(create("soc").is_err());
        assert!(resolve(TlsArgs { cert_header: Some("X-SSL-Client-Cert".into()), ..Default::default() }).is_err(), "a header needs a trusted proxy");
        assert!(resolve(TlsArgs { cert_user: Some("dn:CN=x".into()), ..Default::default() }).is_err());
    }

    #[test]
    fn flags_beat_file_beat_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("waggle.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9100\"\ndata = \"/from/file\"\norg = \"fileorg\"\n[[misp]]\nname = \"m\"\nurl = \"http://127.0.0.1:1\"\nkey = \"k\"\ninterval = \"30m\"\n").unwrap();
        let env = env_of(&[("WAGGLE_LISTEN", "127.0.0.1:9200"), ("WAGGLE_DATA", "/from/env"), ("WAGGLE_ORG", "envorg"), ("WAGGLE_LOG", "debug")]);
        let args = ServeArgs { config: Some(path), listen: Some("127.0.0.1:9300".parse().unwrap()), ..Default::default() };
        let s = Settings::resolve_with_env(&args, env).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9300", "flag wins");
        assert_eq!(s.data_dir, PathBuf::from("/from/file"), "file beats env");
        assert_eq!(s.org, "fileorg");
        assert_eq!(s.log, "debug", "env beats default");
        assert_eq!(s.misp.len(), 1);
        assert_eq!(s.misp[0].interval, "30m");
        // A MISP connection is checked when the file is read.
        let bad = dir.path().join("bad.toml");
        for (text, why) in [
            ("[[misp]]\nname = \"m\"\nurl = \"http://127.0.0.1:1\"\n", "a key"),
            ("[[misp]]\nname = \"m\"\nfeed = \"/srv/feed\"\ninterval = \"often\"\n", "interval"),
            ("[[misp]]\nname = \"m\"\nfeed = \"/srv/feed\"\n[[misp]]\nname = \"m\"\nfeed = \"/srv/other\"\n", "two connections"),
            ("[[misp]]\nname = \"m\"\nfeed = \"/srv/feed\"\nkye = \"typo\"\n", "kye"),
        ] {
            std::fs::write(&bad, text).unwrap();
            let args = ServeArgs { config: Some(bad.clone()), ..Default::default() };
            let err = Settings::resolve_with_env(&args, env_of(&[])).unwrap_err();
            assert!(format!("{err:#}").contains(why), "{why}: {err:#}");
        }
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
