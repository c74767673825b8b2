//! LDAP / Active Directory password authentication (infrastructure).
//!
//! Answers "who is this, and which groups is it in" for a login and password checked against a
//! directory, or says why not with a typed [`LdapError`]. It knows nothing of Waggle's users or
//! organisations: mapping an [`LdapIdentity`] to an account is the caller's business.
//!
//! [`LdapDirectory`] holds a checked [`LdapConfig`] and its TLS connector (build it when the
//! settings load); [`authenticate`] and [`test_connection`] are one-off shortcuts.
//!
//! The flow of [`LdapDirectory::authenticate`]:
//! 1. refuse an empty, blank or NUL-containing password and an empty, over-long or
//!    control-character login **before any network call** (an unauthenticated simple bind, a
//!    DN with an empty password, *succeeds* on many directories, Active Directory among them);
//! 2. connect to the first reachable URL (failover in order, a connect timeout each; TLS via
//!    `ldaps://` or StartTLS, trusting `ca_file`), then bind as the service account (or stay
//!    anonymous when `bind_dn` is unset);
//! 3. search `base_dn` (subtree) with `user_filter`, `{login}` replaced by the login escaped per
//!    RFC 4515; exactly one entry must come back (0: [`LdapError::UnknownUser`], more:
//!    [`LdapError::Ambiguous`]);
//! 4. bind as that entry's DN with the password on the same connection; only result code 0
//!    (success) counts;
//! 5. groups: the values of `group_attribute` (e.g. `memberOf`) and/or the DNs of the entries
//!    under `group_base` matching `group_filter` (`{dn}` = the user's DN, `{login}` = the login,
//!    both RFC 4515-escaped), searched after a re-bind as the service account.
//!
//! **User enumeration:** [`LdapError::UnknownUser`] and [`LdapError::Ambiguous`] exist for logs
//! and the admin's diagnostics; a login endpoint must answer them exactly like
//! [`LdapError::BadCredentials`] (see [`LdapError::public_message`]). An unknown user skips the
//! user bind, so it answers a little faster: callers that care should pad failed logins to a
//! fixed minimum duration.
//!
//! Nothing here logs or formats the password; `Debug` of [`LdapConfig`] redacts
//! `bind_password`, and [`LdapError`]'s texts carry only URLs, DNs and server diagnostics.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, ResultEntry, Scope, SearchEntry, SearchOptions, ldap_escape};

/// Longest login accepted, in characters.
pub const MAX_LOGIN_CHARS: usize = 256;
/// Most entries counted by [`test_connection`]'s sample search.
const SAMPLE_LIMIT: i32 = 1000;

pub use crate::config::LdapConfig;

impl fmt::Debug for LdapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapConfig")
            .field("urls", &self.urls)
            .field("starttls", &self.starttls)
            .field("ca_file", &self.ca_file)
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &self.bind_password.as_ref().map(|_| "<redacted>"))
            .field("base_dn", &self.base_dn)
            .field("user_filter", &self.user_filter)
            .field("login_attribute", &self.login_attribute)
            .field("name_attribute", &self.name_attribute)
            .field("mail_attribute", &self.mail_attribute)
            .field("group_attribute", &self.group_attribute)
            .field("group_base", &self.group_base)
            .field("group_filter", &self.group_filter)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl LdapConfig {
    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<(), LdapError> {
        let cfg = |m: String| Err(LdapError::Config(m));
        if self.urls.is_empty() {
            return cfg("no LDAP server URL configured".into());
        }
        for url in &self.urls {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("ldap://") || lower.starts_with("ldaps://")) {
                return cfg(format!("URL {url:?} must start with ldap:// or ldaps://"));
            }
        }
        if self.base_dn.trim().is_empty() {
            return cfg("base_dn is empty".into());
        }
        if !self.user_filter.contains("{login}") {
            return cfg("user_filter must contain {login}".into());
        }
        match (&self.bind_dn, &self.bind_password) {
            // A DN with an empty password is an *unauthenticated* bind: refused as a config.
            (Some(dn), pw) if !dn.trim().is_empty() && pw.as_deref().is_none_or(str::is_empty) => {
                return cfg("bind_dn is set but bind_password is empty".into());
            }
            (Some(dn), _) if dn.trim().is_empty() => return cfg("bind_dn is blank (leave it unset for anonymous search)".into()),
            _ => {}
        }
        for (what, attr) in [("login_attribute", &self.login_attribute), ("name_attribute", &self.name_attribute), ("mail_attribute", &self.mail_attribute)] {
            if attr.trim().is_empty() {
                return cfg(format!("{what} is empty"));
            }
        }
        match (&self.group_base, &self.group_filter) {
            (Some(_), None) | (None, Some(_)) => return cfg("group_base and group_filter go together".into()),
            (Some(_), Some(f)) if !(f.contains("{dn}") || f.contains("{login}")) => {
                return cfg("group_filter must contain {dn} or {login}".into());
            }
            _ => {}
        }
        if self.timeout_secs == 0 {
            return cfg("timeout_secs must be at least 1".into());
        }
        Ok(())
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    fn group_search(&self) -> Option<(&str, &str)> {
        Some((self.group_base.as_deref()?, self.group_filter.as_deref()?))
    }
}

/// Who authenticated.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LdapIdentity {
    /// The entry's DN, as the server spells it.
    pub dn: String,
    /// The `login_attribute` value (the directory's spelling), else the login as typed.
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Group DNs, as the server spells them, without duplicates.
    pub groups: Vec<String>,
}

/// Why a login or a connection test failed. Display texts are safe to log and to show an
/// administrator (never a password); end users should only see [`LdapError::public_message`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LdapError {
    /// Wrong password, or a password/login refused before asking the directory (empty, blank,
    /// NUL, too long), or the directory refused the bind (locked, disabled, expired account).
    #[error("invalid login or password")]
    BadCredentials,
    /// The user filter matched no entry. Show to users as [`LdapError::BadCredentials`].
    #[error("no directory entry matches this login")]
    UnknownUser,
    /// The user filter matched several entries; nobody can log in with this login until the
    /// filter or the directory is fixed. Show to users as [`LdapError::BadCredentials`].
    #[error("the login matches more than one directory entry")]
    Ambiguous,
    /// No configured server could be reached (refused, timed out, TLS failure...).
    #[error("LDAP server unreachable: {0}")]
    Unreachable(String),
    /// The configuration is wrong (bad URL, filter, base, service account credentials, CA file).
    #[error("LDAP configuration error: {0}")]
    Config(String),
    /// The directory answered with an unexpected error.
    #[error("LDAP directory error: {0}")]
    Directory(String),
}

impl LdapError {
    /// True when the person logging in should be told "invalid login or password": wrong
    /// password, unknown or ambiguous user (never tell those apart to the public).
    pub fn is_credentials_failure(&self) -> bool {
        matches!(self, Self::BadCredentials | Self::UnknownUser | Self::Ambiguous)
    }

    /// What to show the person logging in (no user enumeration, no infrastructure detail).
    pub fn public_message(&self) -> &'static str {
        if self.is_credentials_failure() { "invalid login or password" } else { "directory login is unavailable, try again later" }
    }
}

/// A checked configuration with its TLS connector built once (reading `ca_file` and setting up
/// OpenSSL costs milliseconds: do it when the settings load, not at every login). Cheap to
/// clone; build a new one when the settings (or the CA file) change.
#[derive(Clone)]
pub struct LdapDirectory {
    cfg: LdapConfig,
    tls: Option<native_tls::TlsConnector>,
}

impl fmt::Debug for LdapDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapDirectory").field("cfg", &self.cfg).field("tls", &self.tls.is_some()).finish()
    }
}

impl LdapDirectory {
    /// Validates `cfg` and builds the TLS connector when a URL or StartTLS needs one. No
    /// network call; errors are [`LdapError::Config`].
    pub async fn new(cfg: LdapConfig) -> Result<LdapDirectory, LdapError> {
        cfg.validate()?;
        let needs_tls = cfg.starttls || cfg.urls.iter().any(|u| u.to_ascii_lowercase().starts_with("ldaps://"));
        let tls = if needs_tls { Some(tls_connector(&cfg).await?) } else { None };
        Ok(LdapDirectory { cfg, tls })
    }

    pub fn config(&self) -> &LdapConfig {
        &self.cfg
    }

    /// Checks `login` and `password` with the directory. See the module documentation.
    pub async fn authenticate(&self, login: &str, password: &str) -> Result<LdapIdentity, LdapError> {
        // Before anything touches the network.
        check_password(password)?;
        check_login(login)?;

        let cfg = &self.cfg;
        let mut session = Session::open(cfg, self.tls.as_ref()).await?;
        let result = session.login(cfg, login, password).await;
        session.close().await;
        match &result {
            Ok(id) => tracing::info!(login, dn = %id.dn, server = %session.url, groups = id.groups.len(), "LDAP login succeeded"),
            Err(e) => tracing::info!(login, server = %session.url, error = %e, "LDAP login failed"),
        }
        result
    }

    /// Connects, binds and searches like a login would, and says what worked, e.g.
    /// `connected to ldaps://dc1:636 (LDAPS); bound as cn=svc,...; base dc=example,dc=org
    /// found; 42 entries match the user filter (...)`. A failure is the step's [`LdapError`].
    pub async fn test_connection(&self) -> Result<String, LdapError> {
        let mut session = Session::open(&self.cfg, self.tls.as_ref()).await?;
        let result = session.report(&self.cfg).await;
        session.close().await;
        result
    }
}

/// [`LdapDirectory::authenticate`] with a one-off [`LdapDirectory`]: the password and login
/// checks come first, before the configuration is even looked at.
pub async fn authenticate(cfg: &LdapConfig, login: &str, password: &str) -> Result<LdapIdentity, LdapError> {
    check_password(password)?;
    check_login(login)?;
    LdapDirectory::new(cfg.clone()).await?.authenticate(login, password).await
}

/// [`LdapDirectory::test_connection`] with a one-off [`LdapDirectory`].
pub async fn test_connection(cfg: &LdapConfig) -> Result<String, LdapError> {
    LdapDirectory::new(cfg.clone()).await?.test_connection().await
}

/// Refuses, without any network call, passwords a directory could take as an unauthenticated
/// bind (empty; blank ones too, and NUL which C servers may truncate at).
pub fn check_password(password: &str) -> Result<(), LdapError> {
    if password.trim().is_empty() || password.contains('\0') {
        return Err(LdapError::BadCredentials);
    }
    Ok(())
}

/// Refuses empty, blank, over-long and control-character (NUL...) logins.
pub fn check_login(login: &str) -> Result<(), LdapError> {
    if login.trim().is_empty() || login.chars().count() > MAX_LOGIN_CHARS || login.chars().any(char::is_control) {
        return Err(LdapError::BadCredentials);
    }
    Ok(())
}

/// `template` with each `{name}` replaced by its value escaped per RFC 4515 (`*`, `(`, `)`, `\`,
/// NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`): a value can never change the filter's shape.
/// One pass: a value containing `{login}` is not substituted again.
pub fn fill_filter(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    'scan: while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        for (name, value) in vars {
            if let Some(after) = rest.strip_prefix('{').and_then(|r| r.strip_prefix(*name)).and_then(|r| r.strip_prefix('}')) {
                out.push_str(&ldap_escape(*value));
                rest = after;
                continue 'scan;
            }
        }
        out.push('{');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// One connection: the URL it reached, the URLs that failed before it, and the handle.
struct Session {
    url: String,
    skipped: Vec<String>,
    tls: &'static str,
    ldap: Ldap,
    timeout: Duration,
}

/// A step that failed before a session was usable: try the next URL, or stop.
enum OpenError {
    Next(String),
    Stop(LdapError),
}

impl Session {
    /// Connects to the first URL that answers and binds as the service account there.
    async fn open(cfg: &LdapConfig, connector: Option<&native_tls::TlsConnector>) -> Result<Session, LdapError> {
        let mut skipped = Vec::new();
        for url in &cfg.urls {
            match Self::open_one(cfg, url, connector).await {
                Ok(mut s) => {
                    s.skipped = skipped;
                    return Ok(s);
                }
                Err(OpenError::Next(why)) => {
                    tracing::warn!(server = %url, error = %why, "LDAP server unusable, trying the next one");
                    skipped.push(format!("{url}: {why}"));
                }
                Err(OpenError::Stop(e)) => return Err(e),
            }
        }
        Err(LdapError::Unreachable(skipped.join("; ")))
    }

    async fn open_one(cfg: &LdapConfig, url: &str, connector: Option<&native_tls::TlsConnector>) -> Result<Session, OpenError> {
        let timeout = cfg.timeout();
        let ldaps = url.to_ascii_lowercase().starts_with("ldaps://");
        let starttls = cfg.starttls && !ldaps;
        let mut settings = LdapConnSettings::new().set_conn_timeout(timeout).set_starttls(starttls);
        if let Some(c) = connector {
            settings = settings.set_connector(c.clone());
        }
        let (conn, ldap) = match LdapConnAsync::with_settings(settings, url).await {
            Ok(pair) => pair,
            Err(ldap3::LdapError::UrlParsing { source }) => {
                return Err(OpenError::Stop(LdapError::Config(format!("URL {url:?} is invalid: {source}"))));
            }
            Err(e) => return Err(OpenError::Next(describe_connect_error(&e, timeout))),
        };
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "LDAP connection ended with an error");
            }
        });
        let tls = if ldaps {
            "LDAPS"
        } else if starttls {
            "StartTLS"
        } else {
            "plain, unencrypted"
        };
        let mut session = Session { url: url.to_string(), skipped: Vec::new(), tls, ldap, timeout };
        match session.bind_service(cfg).await {
            Ok(()) => Ok(session),
            Err(e @ LdapError::Unreachable(_)) => {
                session.close().await;
                Err(OpenError::Next(e.to_string()))
            }
            Err(e) => {
                session.close().await;
                Err(OpenError::Stop(e))
            }
        }
    }

    /// Binds as the service account, or anonymously (an explicit anonymous bind) without one.
    /// Also how the connection goes back to its search identity after the user's bind.
    async fn bind_service(&mut self, cfg: &LdapConfig) -> Result<(), LdapError> {
        let (dn, pw) = match (&cfg.bind_dn, &cfg.bind_password) {
            (Some(dn), Some(pw)) => (dn.as_str(), pw.as_str()),
            _ => ("", ""),
        };
        let res = self.ldap.with_timeout(self.timeout).simple_bind(dn, pw).await.map_err(|e| self.transport(e))?;
        match res.rc {
            0 => Ok(()),
            51 | 52 => Err(LdapError::Unreachable(format!("{}: {}", self.url, rc_text(&res)))),
            _ if dn.is_empty() => Err(LdapError::Config(format!("anonymous bind refused: {}", rc_text(&res)))),
            _ => Err(LdapError::Config(format!("service account bind as {dn:?} refused: {}", rc_text(&res)))),
        }
    }

    async fn login(&mut self, cfg: &LdapConfig, login: &str, password: &str) -> Result<LdapIdentity, LdapError> {
        let entry = self.find_user(cfg, login).await?;
        if entry.dn.trim().is_empty() {
            // Binding as "" would be an anonymous bind: never.
            return Err(LdapError::Directory("the user entry has an empty DN".into()));
        }

        let res = self.ldap.with_timeout(self.timeout).simple_bind(&entry.dn, password).await.map_err(|e| self.transport(e))?;
        match res.rc {
            0 => {}
            // invalidCredentials (AD: also locked/disabled/expired, see `text` "data 775"...),
            // inappropriateAuthentication, insufficientAccessRights, unwillingToPerform,
            // constraintViolation (password policies).
            49 | 48 | 50 | 53 | 19 => {
                // The server's text says why (AD: "data 52e" wrong password, 775 locked, 533
                // disabled, 532 expired...): for the logs, never for the person logging in.
                tracing::info!(dn = %entry.dn, result = %rc_text(&res), "LDAP user bind refused");
                return Err(LdapError::BadCredentials);
            }
            8 | 13 => {
                return Err(LdapError::Config(format!(
                    "the server requires a protected connection for binds (use ldaps:// or starttls): {}",
                    rc_text(&res)
                )));
            }
            51 | 52 => return Err(LdapError::Unreachable(format!("{}: {}", self.url, rc_text(&res)))),
            _ => return Err(LdapError::Directory(format!("user bind: {}", rc_text(&res)))),
        }

        let login_value = first(&entry, &cfg.login_attribute).unwrap_or_else(|| login.to_string());
        let mut groups = Vec::new();
        if let Some(attr) = &cfg.group_attribute {
            groups.extend(values(&entry, attr));
        }
        if let Some((base, filter)) = cfg.group_search() {
            // Groups are read with the service identity, not the user's.
            self.bind_service(cfg).await?;
            let filter = fill_filter(filter, &[("dn", &entry.dn), ("login", &login_value)]);
            let (entries, _) = self.search(base, &filter, &["1.1"], None, "group search").await?;
            groups.extend(entries.into_iter().map(|e| e.dn));
        }
        let mut seen = std::collections::HashSet::new();
        groups.retain(|g| seen.insert(g.to_lowercase()));

        Ok(LdapIdentity {
            login: login_value,
            name: first(&entry, &cfg.name_attribute),
            email: first(&entry, &cfg.mail_attribute),
            groups,
            dn: entry.dn,
        })
    }

    /// The one entry `user_filter` matches for `login`.
    async fn find_user(&mut self, cfg: &LdapConfig, login: &str) -> Result<SearchEntry, LdapError> {
        let filter = fill_filter(&cfg.user_filter, &[("login", login)]);
        let mut attrs = vec![cfg.login_attribute.as_str(), cfg.name_attribute.as_str(), cfg.mail_attribute.as_str()];
        if let Some(a) = &cfg.group_attribute {
            attrs.push(a);
        }
        // Two are enough to know it is ambiguous.
        let (mut entries, rc) = self.search(&cfg.base_dn, &filter, &attrs, Some(2), "user search").await?;
        if entries.len() > 1 || rc == 4 {
            tracing::warn!(login, base = %cfg.base_dn, "LDAP user filter matches several entries");
            return Err(LdapError::Ambiguous);
        }
        entries.pop().ok_or(LdapError::UnknownUser)
    }

    /// A subtree search returning its entries and result code (0, or 4 when `limit` was hit).
    async fn search(&mut self, base: &str, filter: &str, attrs: &[&str], limit: Option<i32>, what: &str) -> Result<(Vec<SearchEntry>, u32), LdapError> {
        self.search_scope(base, Scope::Subtree, filter, attrs, limit, what).await
    }

    async fn search_scope(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        limit: Option<i32>,
        what: &str,
    ) -> Result<(Vec<SearchEntry>, u32), LdapError> {
        let mut opts = SearchOptions::new();
        if let Some(n) = limit {
            opts = opts.sizelimit(n);
        }
        let res = self.ldap.with_search_options(opts).with_timeout(self.timeout).search(base, scope, filter, attrs.to_vec()).await;
        let ldap3::SearchResult(raw, result) = match res {
            Ok(r) => r,
            Err(ldap3::LdapError::FilterParsing) => {
                return Err(LdapError::Config(format!("{what}: invalid LDAP filter {filter:?}")));
            }
            Err(e) => return Err(self.transport(e)),
        };
        match result.rc {
            0 => {}
            4 if limit.is_some() => {}
            32 => return Err(LdapError::Config(format!("{what}: base {base:?} does not exist: {}", rc_text(&result)))),
            10 => {
                return Err(LdapError::Config(format!(
                    "{what}: the server sent a referral to {:?} (referrals are not followed; point the URL at a server holding {base:?})",
                    result.refs
                )));
            }
            50 => return Err(LdapError::Config(format!("{what}: access denied (check the service account's rights): {}", rc_text(&result)))),
            51 | 52 => return Err(LdapError::Unreachable(format!("{}: {}", self.url, rc_text(&result)))),
            _ => return Err(LdapError::Directory(format!("{what}: {}", rc_text(&result)))),
        }
        let entries = raw.into_iter().map(parse_entry).collect::<Result<Vec<_>, _>>()?;
        Ok((entries, result.rc))
    }

    async fn report(&mut self, cfg: &LdapConfig) -> Result<String, LdapError> {
        let mut parts = vec![format!("connected to {} ({})", self.url, self.tls)];
        if !self.skipped.is_empty() {
            parts.push(format!("skipped {}", self.skipped.join("; ")));
        }
        parts.push(match &cfg.bind_dn {
            Some(dn) => format!("bound as {dn}"),
            None => "searching anonymously".into(),
        });
        self.search_scope(&cfg.base_dn, Scope::Base, "(objectClass=*)", &["1.1"], None, "base check").await?;
        parts.push(format!("base {} found", cfg.base_dn));

        let sample = cfg.user_filter.replace("{login}", "*");
        let (entries, rc) = self.search(&cfg.base_dn, &sample, &["1.1"], Some(SAMPLE_LIMIT), "user filter sample").await?;
        let n = entries.len();
        parts.push(match (n, rc) {
            (0, _) => format!("no entry matches the user filter {sample} (check user_filter and base_dn)"),
            (_, 4) => format!("at least {n} entries match the user filter {sample}"),
            (1, _) => format!("1 entry matches the user filter {sample}"),
            _ => format!("{n} entries match the user filter {sample}"),
        });
        if let Some(base) = &cfg.group_base {
            self.search_scope(base, Scope::Base, "(objectClass=*)", &["1.1"], None, "group base check").await?;
            parts.push(format!("group base {base} found"));
        }
        if self.tls.starts_with("plain") {
            parts.push("WARNING: the connection is not encrypted, passwords cross the network in clear text (use ldaps:// or starttls)".into());
        }
        Ok(parts.join("; "))
    }

    /// A transport failure during an operation (the connection broke or timed out).
    fn transport(&self, e: ldap3::LdapError) -> LdapError {
        LdapError::Unreachable(format!("{}: {}", self.url, describe_connect_error(&e, self.timeout)))
    }

    async fn close(&mut self) {
        // Best effort: the server may be gone. Dropping the last handle closes the socket.
        let _ = tokio::time::timeout(Duration::from_secs(1), self.ldap.unbind()).await;
    }
}

/// A native-tls (OpenSSL) connector trusting `ca_file` alone when set, TLS 1.2 at least.
async fn tls_connector(cfg: &LdapConfig) -> Result<native_tls::TlsConnector, LdapError> {
    let mut builder = native_tls::TlsConnector::builder();
    builder.min_protocol_version(Some(native_tls::Protocol::Tlsv12));
    if let Some(path) = &cfg.ca_file {
        let bytes = tokio::fs::read(path).await.map_err(|e| LdapError::Config(format!("cannot read ca_file {}: {e}", path.display())))?;
        let certs = parse_certificates(&bytes).map_err(|e| LdapError::Config(format!("ca_file {}: {e}", path.display())))?;
        builder.disable_built_in_roots(true);
        for cert in certs {
            builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| LdapError::Config(format!("TLS setup failed: {e}")))
}

/// Every certificate of a PEM bundle (or a single DER certificate).
fn parse_certificates(bytes: &[u8]) -> Result<Vec<native_tls::Certificate>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let Ok(text) = std::str::from_utf8(bytes) else {
        return native_tls::Certificate::from_der(bytes).map(|c| vec![c]).map_err(|e| format!("not a PEM or DER certificate: {e}"));
    };
    let mut certs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(len) = rest[start..].find(END) else {
            return Err("truncated PEM certificate".into());
        };
        let block = &rest[start..start + len + END.len()];
        certs.push(native_tls::Certificate::from_pem(block.as_bytes()).map_err(|e| format!("bad PEM certificate: {e}"))?);
        rest = &rest[start + len + END.len()..];
    }
    if certs.is_empty() {
        return Err("no PEM certificate found".into());
    }
    Ok(certs)
}

/// `SearchEntry::construct` panics on malformed BER from the server: turn that into an error.
fn parse_entry(raw: ResultEntry) -> Result<SearchEntry, LdapError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| SearchEntry::construct(raw)))
        .map_err(|_| LdapError::Directory("malformed search result entry".into()))
}

/// Values of `attr` (attribute names are case-insensitive).
fn values(entry: &SearchEntry, attr: &str) -> Vec<String> {
    entry.attrs.iter().filter(|(k, _)| k.eq_ignore_ascii_case(attr)).flat_map(|(_, v)| v.iter().cloned()).collect()
}

fn first(entry: &SearchEntry, attr: &str) -> Option<String> {
    values(entry, attr).into_iter().find(|v| !v.is_empty())
}

fn rc_text(res: &ldap3::LdapResult) -> String {
    let mut s = format!("result {} ({})", res.rc, rc_name(res.rc));
    if !res.text.is_empty() {
        s.push_str(&format!(": {}", res.text));
    }
    s
}

fn rc_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        13 => "confidentialityRequired",
        19 => "constraintViolation",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "unknown",
    }
}

/// A readable reason for a failed connect or operation.
fn describe_connect_error(e: &ldap3::LdapError, timeout: Duration) -> String {
    match e {
        ldap3::LdapError::Timeout { .. } => format!("timed out after {}s", timeout.as_secs()),
        ldap3::LdapError::Io { source } => source.to_string(),
        ldap3::LdapError::NativeTLS { source } => format!("TLS handshake failed (check ca_file and the server certificate's name): {source}"),
        ldap3::LdapError::LdapResult { result } => format!("StartTLS refused: {}", rc_text(result)),
        ldap3::LdapError::ResultRecv { .. } | ldap3::LdapError::OpSend { .. } | ldap3::LdapError::EndOfStream => {
            "connection closed by the server".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> LdapConfig {
        LdapConfig {
            urls: vec!["ldap://127.0.0.1:1".into()],
            starttls: false,
            ca_file: None,
            bind_dn: Some("cn=svc,dc=example,dc=org".into()),
            bind_password: Some("hunter2-service".into()),
            base_dn: "dc=example,dc=org".into(),
            user_filter: "(uid={login})".into(),
            login_attribute: "uid".into(),
            name_attribute: "cn".into(),
            mail_attribute: "mail".into(),
            group_attribute: Some("memberOf".into()),
            group_base: None,
            group_filter: None,
            timeout_secs: 5,
        }
    }

    #[test]
    fn filter_values_are_escaped() {
        assert_eq!(fill_filter("(uid={login})", &[("login", "*")]), r"(uid=\2a)");
        assert_eq!(fill_filter("(uid={login})", &[("login", "admin)(|(uid=*")]), r"(uid=admin\29\28|\28uid=\2a)");
        assert_eq!(fill_filter("(uid={login})", &[("login", "a\\b\0")]), r"(uid=a\5cb\00)");
        assert_eq!(
            fill_filter("(&(member={dn})(x={login}))", &[("dn", r"cn=Ext\2C Dave (c),dc=x"), ("login", "d")]),
            r"(&(member=cn=Ext\5c2C Dave \28c\29,dc=x)(x=d))"
        );
        // AD nested groups (LDAP_MATCHING_RULE_IN_CHAIN) is an extensible match ldap3 parses.
        let ad = fill_filter("(&(objectClass=group)(member:1.2.840.113556.1.4.1941:={dn}))", &[("dn", r"CN=Ext\, Dave (c),DC=corp")]);
        assert_eq!(ad, r"(&(objectClass=group)(member:1.2.840.113556.1.4.1941:=CN=Ext\5c, Dave \28c\29,DC=corp))");
        assert!(ldap3::parse_filter(&ad).is_ok());
        // One pass: a substituted value is not substituted again; unknown braces stay.
        assert_eq!(fill_filter("(&(member={dn})(uid={login}){x}", &[("dn", "cn={login}"), ("login", "a*")]), r"(&(member=cn={login})(uid=a\2a){x}");
        assert_eq!(fill_filter("{login}{login}", &[("login", "é")]), "éé");
        // Every escaped filter still parses as one equality item.
        assert!(ldap3::parse_filter(fill_filter("(uid={login})", &[("login", "a)(uid=*")])).is_ok());
    }

    #[test]
    fn passwords_and_logins_are_checked() {
        for bad in ["", " ", "\t\n", "\u{3000}", "pw\0x"] {
            assert_eq!(check_password(bad), Err(LdapError::BadCredentials), "{bad:?}");
        }
        assert!(check_password(" x ").is_ok());
        for bad in ["", "  ", "a\0", "a\nb", &"x".repeat(MAX_LOGIN_CHARS + 1)] {
            assert_eq!(check_login(bad), Err(LdapError::BadCredentials), "{bad:?}");
        }
        assert!(check_login(&"é".repeat(MAX_LOGIN_CHARS)).is_ok());
    }

    #[test]
    fn debug_redacts_the_service_password() {
        let s = format!("{:?}", cfg());
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("<redacted>"));
    }

    #[test]
    fn config_validation() {
        assert!(cfg().validate().is_ok());
        let mut c = cfg();
        c.bind_password = Some(String::new());
        assert!(matches!(c.validate(), Err(LdapError::Config(_))));
        let mut c = cfg();
        c.urls = vec!["http://x".into()];
        assert!(matches!(c.validate(), Err(LdapError::Config(_))));
        let mut c = cfg();
        c.user_filter = "(uid=alice)".into();
        assert!(matches!(c.validate(), Err(LdapError::Config(_))));
        let mut c = cfg();
        c.group_base = Some("ou=groups,dc=example,dc=org".into());
        assert!(matches!(c.validate(), Err(LdapError::Config(_))));
        c.group_filter = Some("(member={dn})".into());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn config_deserializes_with_defaults() {
        let c: LdapConfig = serde_json::from_str(
            r#"{"urls":["ldaps://dc1.corp.example"],"base_dn":"dc=corp,dc=example",
                "user_filter":"(&(objectClass=user)(sAMAccountName={login}))"}"#,
        )
        .unwrap();
        assert_eq!((c.login_attribute.as_str(), c.timeout_secs, c.starttls), ("uid", 10, false));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn pem_bundles_are_split() {
        assert!(parse_certificates(b"nothing here").is_err());
        assert!(parse_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA").is_err());
    }
}
