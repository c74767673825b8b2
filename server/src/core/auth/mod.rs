//! Who is calling: API keys (`Authorization: Bearer`), HTTP Basic, a session cookie, or a verified
//! X.509 client certificate ([`certificate`]); and in which organisation (`X-Organisation`, the
//! session's choice, or the user's default).
//!
//! [`Caller`] is an axum extractor: a handler that takes one cannot run unauthenticated.

pub mod account;
pub mod certificate;
pub mod events;
pub mod ldap;
pub mod password;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::model::{CurrentUser, Membership, Permission, Profile, UserStatus};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use crate::config::CertificateLogin;
use crate::core::cache::EpochCache;
use crate::core::tls::PeerCert;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, Store, now_millis};
use crate::vars;
use serde_json::Value;
use account::UserRow;

pub use crate::core::store::{SESSION_CERT_DECLINED, SESSION_ORG, SESSION_STARTED, SESSION_USER};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Session,
    ApiKey,
    Basic,
    Certificate,
    /// Work the server does later for a user (an analysis job's operations).
    OnBehalf,
}

/// Creates the account of someone an outside authority vouches for (a certificate, a
/// directory) at their first sign-in. The identity domain provides it (the rules of accounts
/// live there); the composition root installs it with [`AuthGuard::set_provisioner`].
#[async_trait::async_trait]
pub trait Provisioner: Send + Sync {
    /// Create `login` in the organisation named `org` with `profile`; `source` names the
    /// authority (logs).
    async fn provision(&self, store: &Store, login: &str, name: &str, org: &str, profile: Profile, source: &str) -> Result<UserRow>;

    /// Add memberships `(organisation name, profile)` the authority vouches for to an account.
    async fn add_memberships(&self, store: &Store, row: &UserRow, add: &[(String, Profile)], source: &str) -> Result<UserRow>;
}

/// The authenticated caller and the organisation they act in.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub login: String,
    pub name: String,
    pub org_id: String,
    pub org_name: String,
    pub profile: Profile,
    pub memberships: Vec<Membership>,
    pub has_key: bool,
    pub must_change_password: bool,
    /// With a custom profile in the organisation: its permissions (else the profile's own).
    pub permissions: Option<Vec<Permission>>,
    pub method: AuthMethod,
    /// The request's `x-request-id` (audit entries carry it).
    pub request_id: Option<String>,
}

impl Caller {
    pub fn can(&self, p: Permission) -> bool {
        match &self.permissions {
            Some(set) => set.contains(&p),
            None => self.profile.has(p),
        }
    }

    /// A platform administrator (by a membership of the admin organisation), whichever
    /// organisation they work in now.
    pub fn is_platform_admin(&self) -> bool {
        self.memberships.iter().any(|m| m.profile == Profile::Admin)
    }

    /// `Ok` when the caller holds `p`; otherwise an authorization error naming `action`.
    pub fn require(&self, p: Permission, action: &str) -> Result<()> {
        if self.can(p) { Ok(()) } else { Err(Error::forbidden(action)) }
    }

    /// The store handle for the caller's organisation: every query through it is scoped to it.
    pub fn store(&self, state: &AppState) -> OrgStore {
        state.store.org(&self.org_id)
    }

    pub fn current_user(&self) -> CurrentUser {
        CurrentUser {
            id: self.user_id.clone(),
            login: self.login.clone(),
            name: self.name.clone(),
            org_id: self.org_id.clone(),
            org_name: self.org_name.clone(),
            profile: self.profile,
            memberships: self.memberships.clone(),
            has_key: self.has_key,
            by_certificate: self.method == AuthMethod::Certificate,
            must_change_password: self.must_change_password,
            permissions: self.permissions.clone(),
        }
    }

    /// The server itself acting in an organisation for a connector (`login` names it in the
    /// audit trail, e.g. `misp:circl`): an organisation administrator's rights there, nothing
    /// elsewhere.
    pub fn service(login: &str, org_id: &str, org_name: &str) -> Caller {
        Caller {
            user_id: String::new(),
            login: login.into(),
            name: login.into(),
            org_id: org_id.into(),
            org_name: org_name.into(),
            profile: Profile::OrgAdmin,
            memberships: vec![Membership { org_id: org_id.into(), org_name: org_name.into(), profile: Profile::OrgAdmin, custom: None }],
            has_key: false,
            must_change_password: false,
            permissions: None,
            method: AuthMethod::OnBehalf,
            request_id: None,
        }
    }

    /// Build the caller for `user` in the organisation `wanted` (id or name) or their default.
    pub fn for_user(user: &UserRow, wanted: Option<&str>, method: AuthMethod) -> Result<Caller> {
        if user.status != UserStatus::Ok {
            return Err(Error::Authentication("This account is locked".into()));
        }
        let membership = match wanted {
            Some(w) => user
                .memberships
                .iter()
                .find(|m| m.org_id == w || m.org_name == w)
                .ok_or_else(|| Error::Authorization(format!("You are not a member of the organisation {w}")))?,
            None => user
                .membership(&user.default_org)
                .or_else(|| user.memberships.first())
                .ok_or_else(|| Error::Authorization("You are not a member of any organisation".into()))?,
        };
        Ok(Caller {
            user_id: user.id.clone(),
            login: user.login.clone(),
            name: user.name.clone(),
            org_id: membership.org_id.clone(),
            org_name: membership.org_name.clone(),
            profile: membership.profile,
            memberships: user.memberships.clone(),
            has_key: user.has_key,
            must_change_password: user.must_change_password,
            permissions: None,
            method,
            request_id: None,
        })
    }
}

/// The directory in use: its client and the settings it was made from.
pub struct ActiveDirectory {
    pub client: ldap::LdapDirectory,
    pub settings: crate::config::LdapSettings,
    /// Where the settings come from: the configuration file, or an administrator (who, when).
    pub source: DirectorySource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DirectorySource {
    File,
    Changed { by: String, at: i64 },
}

/// Failed-login throttling, a short cache of verified Basic credentials (argon2 is slow on
/// purpose; scripts using Basic auth must not pay it on every request), and the users behind
/// API keys and sessions kept in memory (see [`UserCache`]).
pub struct AuthGuard {
    /// Failed logins per (login, client address), keyed by a hash (never the attacker's string
    /// itself): how many, and when the last one was. At most [`MAX_TRACKED_LOGINS`].
    failures: Mutex<HashMap<[u8; 32], (u32, Instant)>>,
    basic_cache: Mutex<HashMap<[u8; 32], (String, Instant)>>,
    users: UserCache,
    provisioner: std::sync::OnceLock<Arc<dyn Provisioner>>,
    /// The directory passwords are checked against, with its settings (swapped when an
    /// administrator changes them).
    directory: arc_swap::ArcSwapOption<ActiveDirectory>,
    /// Organisations nobody works in (read at start, kept by the organisation service).
    locked_orgs: Mutex<std::collections::HashSet<String>>,
    /// Custom profiles by name: their permissions (read at start, kept by the profile service).
    custom_profiles: Mutex<HashMap<String, Vec<Permission>>>,
}

/// Every authenticated request needs its user (status, memberships, profiles). Reading it from
/// the database cost an engine query per request; the users are few and change rarely, so they
/// are kept here, by id and by API key hash, coherent with every user and key write (see
/// [`crate::core::cache`]). Unknown keys are never cached: a new key works at once.
struct UserCache {
    by_id: EpochCache<String, Arc<UserRow>>,
    by_key: EpochCache<[u8; 32], Arc<UserRow>>,
    /// By certificate fingerprint (the holder's login is what the mapping rule reads).
    by_cert: EpochCache<String, Arc<UserRow>>,
}

const USER_CACHE_TTL: Duration = Duration::from_secs(10);
const USER_CACHE_MAX: usize = 25_000;

impl UserCache {
    fn changed(&self) {
        self.by_id.changed();
        self.by_key.changed();
        self.by_cert.changed();
    }
}

/// After this many failures from one address, that address waits before trying that login
/// again: 1 s after the next failure, then 2, 4... up to [`LOCKOUT_WINDOW`]. Other addresses
/// (the administrator, feeders using Basic credentials) are not held back.
pub const MAX_FAILURES: u32 = 5;
/// The longest wait, and how long failures are remembered after the last one.
pub const LOCKOUT_WINDOW: Duration = Duration::from_secs(10 * 60);

/// How long to wait after the last of `failures` failures.
pub fn throttle_delay(failures: u32) -> Duration {
    if failures < MAX_FAILURES {
        return Duration::ZERO;
    }
    let exponent = (failures - MAX_FAILURES).min(16);
    Duration::from_secs(1u64 << exponent).min(LOCKOUT_WINDOW)
}
const BASIC_CACHE_TTL: Duration = Duration::from_secs(5 * 60);
/// The most logins whose failures are remembered at once.
const MAX_TRACKED_LOGINS: usize = 100_000;
/// The longest login accepted (longer ones are refused before anything is kept or logged).
pub const MAX_LOGIN_LEN: usize = 128;
/// The longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The throttle's key for a login tried from an address.
fn login_key(login: &str, from: Option<IpAddr>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(login.as_bytes());
    h.update([0]);
    h.update(from.map(|a| a.to_string()).unwrap_or_default().as_bytes());
    h.finalize().into()
}

/// Refuse a login or password too long to be real before any other work (hashing, lookups,
/// the throttle, the log).
pub fn check_credential_sizes(login: &str, password: &str) -> Result<()> {
    if login.chars().count() > MAX_LOGIN_LEN {
        return Err(Error::BadRequest(format!("The login is too long (at most {MAX_LOGIN_LEN} characters)")));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::BadRequest(format!("The password is too long (at most {MAX_PASSWORD_BYTES} bytes)")));
    }
    Ok(())
}

impl Default for AuthGuard {
    fn default() -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            basic_cache: Mutex::new(HashMap::new()),
            users: UserCache {
                by_id: EpochCache::new(USER_CACHE_TTL, USER_CACHE_MAX),
                by_key: EpochCache::new(USER_CACHE_TTL, USER_CACHE_MAX),
                by_cert: EpochCache::new(USER_CACHE_TTL, USER_CACHE_MAX),
            },
            provisioner: std::sync::OnceLock::new(),
            directory: arc_swap::ArcSwapOption::empty(),
            locked_orgs: Mutex::new(std::collections::HashSet::new()),
            custom_profiles: Mutex::new(HashMap::new()),
        }
    }
}

impl AuthGuard {
    fn check_throttle(&self, login: &str, from: Option<IpAddr>) -> Result<()> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((n, last)) = failures.get(&login_key(login, from)) {
            let wait = throttle_delay(*n);
            if last.elapsed() < wait {
                let seconds = (wait - last.elapsed()).as_secs() + 1;
                return Err(Error::Authentication(format!(
                    "Too many failed attempts for this account from this address; try again in {seconds} second(s)"
                )));
            }
        }
        Ok(())
    }

    fn record_failure(&self, login: &str, from: Option<IpAddr>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_TRACKED_LOGINS {
            failures.retain(|_, (_, t)| t.elapsed() < LOCKOUT_WINDOW);
            if failures.len() >= MAX_TRACKED_LOGINS {
                // Still full of recent failures (a spray of distinct logins): start over rather
                // than grow.
                failures.clear();
            }
        }
        let entry = failures.entry(login_key(login, from)).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= LOCKOUT_WINDOW {
            entry.0 = 0;
        }
        entry.0 += 1;
        entry.1 = Instant::now();
    }

    /// Forget the failures of a login from an address; whether any were counted.
    fn record_success(&self, login: &str, from: Option<IpAddr>) -> bool {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&login_key(login, from)).is_some()
    }

    /// Another Waggle process on the database counted failures (`count`, the last at epoch
    /// `last_ms`) for the throttle key `key`, or (`None`) forgot them: take its count.
    fn shared_failures(&self, key: [u8; 32], seen: Option<(u32, i64)>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match seen {
            Some((count, last_ms)) => {
                let ago = Duration::from_millis(u64::try_from(now_millis() - last_ms).unwrap_or(0));
                let Some(at) = Instant::now().checked_sub(ago) else { return };
                if ago >= LOCKOUT_WINDOW || failures.len() >= MAX_TRACKED_LOGINS {
                    return;
                }
                let entry = failures.entry(key).or_insert((0, at));
                if count >= entry.0 {
                    *entry = (count, at.max(entry.1));
                }
            }
            None => {
                failures.remove(&key);
            }
        }
    }

    /// A user or an API key was written: forget every user kept in memory. Called by the
    /// service layer after each such write.
    pub fn users_changed(&self) {
        self.users.changed();
    }

    /// Drop cached credentials of a user (password changed, account locked) and every user
    /// kept in memory.
    pub fn forget_user(&self, user_id: &str) {
        self.basic_cache.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, (u, _)| u != user_id);
        self.users.changed();
    }

    /// The user behind an API key.
    pub async fn user_by_key(&self, store: &Store, key: &str) -> Result<Option<Arc<UserRow>>> {
        let hash = password::key_hash_bytes(key);
        self.users.by_key.get_or_load(&hash, async { Ok(account::row_by_key_hash(store, &hash).await?.map(Arc::new)) }).await
    }

    /// A user by id (sessions, cached Basic credentials).
    pub async fn user_by_id(&self, store: &Store, id: &str) -> Result<Option<Arc<UserRow>>> {
        self.users.by_id.get_or_load(id, async { Ok(account::row(store, id).await?.map(Arc::new)) }).await
    }

    /// Mark an organisation locked (nobody works in it) or not.
    pub fn set_org_locked(&self, org_id: &str, locked: bool) {
        let mut set = self.locked_orgs.lock().unwrap_or_else(|e| e.into_inner());
        if locked {
            set.insert(org_id.to_string());
        } else {
            set.remove(org_id);
        }
    }

    /// A custom profile's permissions (`None`: removes it).
    pub fn set_custom_profile(&self, name: &str, permissions: Option<Vec<Permission>>) {
        let mut map = self.custom_profiles.lock().unwrap_or_else(|e| e.into_inner());
        match permissions {
            Some(p) => {
                map.insert(name.to_string(), p);
            }
            None => {
                map.remove(name);
            }
        }
    }

    /// Every custom profile at once (read again after another Waggle process changed one).
    pub fn replace_custom_profiles(&self, profiles: HashMap<String, Vec<Permission>>) {
        *self.custom_profiles.lock().unwrap_or_else(|e| e.into_inner()) = profiles;
    }

    /// Every locked organisation at once (read again after another Waggle process changed one).
    pub fn replace_locked_orgs(&self, ids: impl IntoIterator<Item = String>) {
        *self.locked_orgs.lock().unwrap_or_else(|e| e.into_inner()) = ids.into_iter().collect();
    }

    /// The permissions of a custom profile; none for one that no longer exists.
    fn custom_permissions(&self, name: &str) -> Vec<Permission> {
        self.custom_profiles.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned().unwrap_or_default()
    }

    fn org_locked(&self, org_id: &str) -> bool {
        self.locked_orgs.lock().unwrap_or_else(|e| e.into_inner()).contains(org_id)
    }

    /// Install (or remove) the directory (LDAP, Active Directory) passwords are checked against.
    pub fn set_directory(&self, d: Option<ActiveDirectory>) {
        self.directory.store(d.map(Arc::new));
        // Credentials the old directory verified are checked again.
        self.basic_cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The directory, when one is configured.
    pub fn directory(&self) -> Option<Arc<ActiveDirectory>> {
        self.directory.load_full()
    }

    /// Install what creates accounts at first sign-in (certificates, directories).
    pub fn set_provisioner(&self, p: Arc<dyn Provisioner>) {
        let _ = self.provisioner.set(p);
    }

    /// The user a verified certificate names under `config`'s rule; created when the rule says
    /// so and the holder has no account yet. `None`: no account for this certificate.
    pub async fn user_by_certificate(&self, store: &Store, cert: &PeerCert, config: &CertificateLogin) -> Result<Option<Arc<UserRow>>> {
        let Some(login) = config.rule.login(cert) else {
            tracing::info!(subject = ?cert.subject, "client certificate names no login under the mapping rule");
            return Ok(None);
        };
        let found = self.users.by_cert.get_or_load(&cert.sha256, async { Ok(account::row_by_login(store, &login).await?.map(Arc::new)) }).await?;
        if found.is_some() {
            return Ok(found);
        }
        let (Some((org, profile)), Some(p)) = (&config.create, self.provisioner.get()) else {
            tracing::info!(login = ?login, subject = ?cert.subject, "client certificate of no account refused");
            return Ok(None);
        };
        let name = cert.common_name.clone().unwrap_or_else(|| login.clone());
        let row = p.provision(store, &login, &name, org, *profile, "certificate").await?;
        self.users.changed();
        Ok(Some(Arc::new(row)))
    }
}

fn basic_cache_key(login: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(login.as_bytes());
    h.update([0]);
    h.update(password.as_bytes());
    h.finalize().into()
}

/// Check a login and password sent from `from` (the client's address). Throttled per login
/// and address; the error never says which part was wrong.
pub async fn verify_credentials(state: &AppState, login: &str, password: &str, from: Option<IpAddr>) -> Result<UserRow> {
    check_credential_sizes(login, password)?;
    let login = login.trim().to_lowercase();
    state.auth.check_throttle(&login, from)?;
    let bad = || Error::Authentication("Authentication failure: wrong login or password".into());
    if password.is_empty() || login.is_empty() {
        failed(state, &login, from).await;
        return Err(bad());
    }
    let cache_key = basic_cache_key(&login, password);
    let cached = {
        let cache = state.auth.basic_cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(&cache_key).filter(|(_, t)| t.elapsed() < BASIC_CACHE_TTL).map(|(u, _)| u.clone())
    };
    if let Some(user_id) = cached {
        if let Some(row) = state.auth.user_by_id(&state.store, &user_id).await? {
            if row.status == UserStatus::Ok {
                return Ok(Arc::unwrap_or_clone(row));
            }
        }
    }
    let row = account::row_by_login(&state.store, &login).await?;
    let hash = row.as_ref().and_then(|r| r.password_hash.clone());
    // An account without a local password (or no account) is the directory's to check, when
    // there is one; a local password is never checked against the directory.
    if hash.is_none() {
        if let Some(directory) = state.auth.directory() {
            return directory_sign_in(state, &directory, &login, password, row, from, cache_key).await;
        }
    }
    // Verify against a dummy hash when the user does not exist, so timing does not tell.
    let hash_to_check = hash.clone().unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = password::verify_password_async(password.to_string(), hash_to_check).await && hash.is_some();
    match row {
        Some(row) if ok => {
            if row.status != UserStatus::Ok {
                return Err(Error::Authentication("This account is locked".into()));
            }
            signed_in(state, &login, &row, from, cache_key, "password").await;
            Ok(row)
        }
        _ => {
            failed(state, &login, from).await;
            // Debug-formatted: quotes and escapes, so a login cannot forge log lines.
            tracing::info!(login = ?login, "failed login");
            events::record(&state.store, events::Kind::LoginFailed, &login, None, from, Some("password")).await;
            Err(bad())
        }
    }
}

/// A failed sign-in: counted here at once, and in the database for the other Waggle processes
/// sharing it (the change feed brings them the count: [`follow_other_instances`]).
async fn failed(state: &AppState, login: &str, from: Option<IpAddr>) {
    state.auth.record_failure(login, from);
    let key = hex::encode(login_key(login, from));
    let window = i64::try_from(LOCKOUT_WINDOW.as_millis()).unwrap_or(i64::MAX);
    let r = state
        .store
        .query(
            "UPSERT type::record('login_failure', $k) SET count = IF last != NONE AND last > $now - $window THEN count + 1 ELSE 1 END, last = $now RETURN NONE",
            vars! { "k" => key, "now" => now_millis(), "window" => window },
        )
        .await;
    if let Err(e) = r {
        tracing::warn!(error = ?e, "counting a failed login in the database failed");
    }
}

/// Failed sign-ins counted by other Waggle processes on the same database reach this one's
/// throttle through the change feed (migration 14), so a login guessed on every process waits
/// as on one.
pub fn follow_other_instances(state: &AppState) {
    let auth = state.auth.clone();
    state.stats.watch("login_failure", move |changes| {
        for c in changes {
            let (row, gone) = match (c.get("update"), c.get("delete")) {
                (Some(r), _) => (r, false),
                (None, Some(r)) => (r, true),
                _ => continue,
            };
            let Some(key) = row.get("id").and_then(Value::as_str).and_then(|id| hex::decode(crate::core::store::record_key(id)).ok()) else { continue };
            let Ok(key) = <[u8; 32]>::try_from(key) else { continue };
            let seen = if gone {
                None
            } else {
                let count = row.get("count").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
                let Some(last) = row.get("last").and_then(Value::as_i64) else { continue };
                Some((count, last))
            };
            auth.shared_failures(key, seen);
        }
    });
}

/// Remove the shared failure counts older than the throttle's window (hourly).
pub async fn sweep_failures(store: &Store) -> Result<()> {
    let cut = now_millis() - i64::try_from(LOCKOUT_WINDOW.as_millis()).unwrap_or(i64::MAX);
    store.query("DELETE login_failure WHERE last < $cut RETURN NONE", vars! { "cut" => cut }).await.map(|_| ())
}

/// A verified login and password (`how`: password, directory): the failures counted for it are
/// forgotten, the credentials remembered for a while (Basic clients), the sign-in recorded.
async fn signed_in(state: &AppState, login: &str, row: &UserRow, from: Option<IpAddr>, cache_key: [u8; 32], how: &str) {
    if state.auth.record_success(login, from) {
        // Counted here or by another process: the shared count goes too.
        let key = hex::encode(login_key(login, from));
        if let Err(e) = state.store.query("DELETE type::record('login_failure', $k)", vars! { "k" => key }).await {
            tracing::warn!(error = ?e, "clearing the shared login failures failed");
        }
    }
    {
        let mut cache = state.auth.basic_cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(cache_key, (row.id.clone(), Instant::now()));
    }
    events::record(&state.store, events::Kind::Login, &row.login, Some(&row.login), from, Some(how)).await;
}

/// Check a password with the directory; its user gets their account at first sign-in when the
/// configuration says so, in the organisation and with the profile of their first mapped group.
async fn directory_sign_in(
    state: &AppState,
    active: &ActiveDirectory,
    login: &str,
    password: &str,
    row: Option<UserRow>,
    from: Option<IpAddr>,
    cache_key: [u8; 32],
) -> Result<UserRow> {
    let bad = || Error::Authentication("Authentication failure: wrong login or password".into());
    let (directory, settings) = (&active.client, &active.settings);
    let identity = match directory.authenticate(login, password).await {
        Ok(identity) => identity,
        Err(e) if e.is_credentials_failure() => {
            failed(state, login, from).await;
            tracing::info!(login = ?login, reason = %e, "failed directory login");
            events::record(&state.store, events::Kind::LoginFailed, login, None, from, Some("directory")).await;
            return Err(bad());
        }
        Err(e) => {
            tracing::warn!(login = ?login, error = %e, "directory unavailable for a login");
            return Err(Error::Authentication(
                "Authentication failure: the directory cannot be reached; try again later or ask your administrator".into(),
            ));
        }
    };
    let row = match row {
        Some(row) => row,
        None => {
            let groups: Vec<String> = identity.groups.iter().map(|g| normalize_dn(g)).collect();
            let mapped = settings.groups.iter().find(|m| groups.contains(&normalize_dn(&m.group)));
            let (Some(mapping), true, Some(provisioner)) = (mapped, settings.create_users, state.auth.provisioner.get()) else {
                tracing::info!(login = ?login, groups = ?identity.groups, "directory user without a Waggle account refused");
                return Err(Error::Authentication("Your directory account has no Waggle account; ask your administrator".into()));
            };
            let profile = Profile::parse(&mapping.profile).ok_or_else(|| Error::Internal(anyhow::anyhow!("bad profile in [[ldap.groups]]")))?;
            let name = identity.name.clone().unwrap_or_else(|| login.to_string());
            let row = provisioner.provision(&state.store, login, &name, &mapping.organisation, profile, "ldap").await?;
            state.auth.users_changed();
            row
        }
    };
    if row.status != UserStatus::Ok {
        return Err(Error::Authentication("This account is locked".into()));
    }
    // Groups the user joined in the directory since: the organisations they map to are added
    // (never removed nor changed here: an administrator may have given more).
    let row = match state.auth.provisioner.get() {
        Some(provisioner) => {
            let groups: Vec<String> = identity.groups.iter().map(|g| normalize_dn(g)).collect();
            let mut missing: Vec<(String, Profile)> = Vec::new();
            for m in settings.groups.iter().filter(|m| groups.contains(&normalize_dn(&m.group))) {
                let known = row.memberships.iter().any(|x| x.org_name == m.organisation) || missing.iter().any(|(o, _)| *o == m.organisation);
                if let (false, Some(p)) = (known, Profile::parse(&m.profile)) {
                    missing.push((m.organisation.clone(), p));
                }
            }
            if missing.is_empty() {
                row
            } else {
                let row = provisioner.add_memberships(&state.store, &row, &missing, "ldap").await?;
                state.auth.forget_user(&row.id);
                row
            }
        }
        _ => row,
    };
    signed_in(state, login, &row, from, cache_key, "directory").await;
    Ok(row)
}

/// A DN as directories may spell it differently: lower case, `\2C` for `\,`, no spaces
/// around separators.
fn normalize_dn(dn: &str) -> String {
    dn.to_lowercase().replace("\\2c", "\\,").split(',').map(str::trim).collect::<Vec<_>>().join(",")
}

/// An argon2id hash of a random string, so unknown logins cost as much as known ones.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2N0S0IkEPGhCGqVbt8O9YHj5Rwmb9vy9Q5SSbB+vHfo";

/// The address of the client that sent the request (the TCP peer).
pub fn client_addr(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())
}

fn org_header(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-organisation")
        .or_else(|| parts.headers.get("x-organization"))
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let wanted_org = org_header(parts);
        let caller = if let Some(auth) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let auth = auth.to_str().map_err(|_| Error::Authentication("Malformed Authorization header".into()))?;
            let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
            match scheme.to_ascii_lowercase().as_str() {
                "bearer" => {
                    let row = state
                        .auth
                        .user_by_key(&state.store, value.trim())
                        .await?
                        .ok_or_else(|| Error::Authentication("Authentication failure: invalid API key".into()))?;
                    Caller::for_user(&row, wanted_org.as_deref(), AuthMethod::ApiKey)?
                }
                "basic" => {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(value.trim())
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .ok_or_else(|| Error::Authentication("Malformed Basic credentials".into()))?;
                    let (login, password) = decoded
                        .split_once(':')
                        .ok_or_else(|| Error::Authentication("Malformed Basic credentials".into()))?;
                    let row = verify_credentials(state, login, password, client_addr(parts)).await?;
                    Caller::for_user(&row, wanted_org.as_deref(), AuthMethod::Basic)?
                }
                _ => return Err(Error::Authentication("Unsupported authorization scheme".into())),
            }
        } else {
            let session = Session::from_request_parts(parts, state)
                .await
                .map_err(|_| Error::Internal(anyhow::anyhow!("session layer missing")))?;
            let user_id: Option<String> = session
                .get(SESSION_USER)
                .await
                .map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
            let Some(user_id) = user_id else {
                return certificate_caller(parts, state, &session, wanted_org).await;
            };
            // The absolute lifetime: however active, a session ends this long after sign-in.
            let started: Option<i64> = session.get(SESSION_STARTED).await.ok().flatten();
            let max_ms = state.settings.session_max_hours.saturating_mul(3_600_000);
            if started.is_none_or(|t| crate::core::store::now_millis().saturating_sub(t) > max_ms) {
                let _ = session.flush().await;
                return Err(Error::Authentication("Your session has expired: sign in again".into()));
            }
            let row = match state.auth.user_by_id(&state.store, &user_id).await? {
                Some(r) if r.status == UserStatus::Ok => r,
                _ => {
                    let _ = session.flush().await;
                    return Err(Error::Authentication("Authentication required".into()));
                }
            };
            let session_org: Option<String> = session.get(SESSION_ORG).await.ok().flatten();
            let asked = wanted_org.is_some();
            let org = wanted_org.or(session_org);
            let caller = match Caller::for_user(&row, org.as_deref(), AuthMethod::Session) {
                Ok(c) => c,
                // The remembered organisation may have been taken away: fall back to the default.
                Err(Error::Authorization(_)) => Caller::for_user(&row, None, AuthMethod::Session)?,
                Err(e) => return Err(e),
            };
            // A browser is not stuck in an organisation that was locked: it moves to one of the
            // user's others (an explicit X-Organisation is refused instead, by `admit`).
            match row.memberships.iter().find(|m| !state.auth.org_locked(&m.org_id)) {
                Some(open) if !asked && state.auth.org_locked(&caller.org_id) => Caller::for_user(&row, Some(&open.org_id), AuthMethod::Session)?,
                _ => caller,
            }
        };
        admit(state, parts, caller)
    }
}

/// The caller a verified client certificate names, unless its holder signed out of it in this
/// browser (the session remembers; signing in with it again clears that).
async fn certificate_caller(parts: &mut Parts, state: &AppState, session: &Session, wanted_org: Option<String>) -> Result<Caller> {
    let required = || Error::Authentication("Authentication required".into());
    let Some(cert) = certificate::of_request(parts, &state.settings.certificates) else { return Err(required()) };
    let declined: Option<bool> = session.get(SESSION_CERT_DECLINED).await.ok().flatten();
    if declined == Some(true) {
        return Err(required());
    }
    let Some(row) = state.auth.user_by_certificate(&state.store, &cert, &state.settings.certificates).await? else {
        return Err(Error::Authentication("Your certificate is not linked to a Waggle account".into()));
    };
    let session_org: Option<String> = session.get(SESSION_ORG).await.ok().flatten();
    let caller = match Caller::for_user(&row, wanted_org.or(session_org).as_deref(), AuthMethod::Certificate) {
        Err(Error::Authorization(_)) => Caller::for_user(&row, None, AuthMethod::Certificate)?,
        other => other?,
    };
    admit(state, parts, caller)
}

/// The last checks of every caller, however they signed in: the organisation they act in is
/// not locked; the request id is theirs; later extractions of the request reuse them.
fn admit(state: &AppState, parts: &mut Parts, mut caller: Caller) -> Result<Caller> {
    if state.auth.org_locked(&caller.org_id) {
        return Err(Error::Authorization(format!("The organisation {} is locked", caller.org_name)));
    }
    // A custom profile's permissions, as they are now.
    if let Some(name) = caller.memberships.iter().find(|m| m.org_id == caller.org_id).and_then(|m| m.custom.clone()) {
        caller.permissions = Some(state.auth.custom_permissions(&name));
    }
    caller.request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    parts.extensions.insert(caller.clone());
    Ok(caller)
}

/// The caller `login` is in `org` now, for work the server does later on their behalf (with
/// the rights they have then: a locked account, a lost membership or a locked organisation
/// refuse it).
pub async fn on_behalf(state: &AppState, login: &str, org: &str) -> Result<Caller> {
    let row = account::row_by_login(&state.store, login).await?.ok_or_else(|| Error::Authentication(format!("{login} no longer exists")))?;
    if state.auth.org_locked(org) {
        return Err(Error::Authorization("The organisation is locked".into()));
    }
    let mut caller = Caller::for_user(&row, Some(org), AuthMethod::OnBehalf)?;
    if let Some(name) = caller.memberships.iter().find(|m| m.org_id == caller.org_id).and_then(|m| m.custom.clone()) {
        caller.permissions = Some(state.auth.custom_permissions(&name));
    }
    Ok(caller)
}

/// Sign in on a session with a login and password (every dialect's login): the verified user
/// and the caller they are now.
pub async fn sign_in(state: &AppState, session: &Session, login: &str, password: &str, from: Option<IpAddr>) -> Result<(UserRow, Caller)> {
    let row = verify_credentials(state, login, password, from).await?;
    let caller = Caller::for_user(&row, None, AuthMethod::Session)?;
    start_session(session, &row).await?;
    Ok((row, caller))
}

/// Sign a user in on a session: a new session id (no fixation), the user remembered, and when
/// (the absolute lifetime counts from here).
pub async fn start_session(session: &Session, row: &UserRow) -> Result<()> {
    let err = |e: tower_sessions::session::Error| Error::Internal(anyhow::anyhow!("session: {e}"));
    session.cycle_id().await.map_err(err)?;
    session.insert(SESSION_USER, &row.id).await.map_err(err)?;
    session.insert(SESSION_STARTED, crate::core::store::now_millis()).await.map_err(err)?;
    session.remove::<String>(SESSION_ORG).await.map_err(err)?;
    Ok(())
}

/// After a change that ended every session of the caller (their password): the session this
/// request came with is signed in again, so the person who made the change stays signed in.
pub async fn keep_signed_in(state: &AppState, caller: &Caller, session: &Session) -> Result<()> {
    if caller.method != AuthMethod::Session {
        return Ok(());
    }
    let row = account::row(&state.store, &caller.user_id).await?.ok_or_else(|| Error::Authentication("Authentication required".into()))?;
    let org: Option<String> = session.get(SESSION_ORG).await.ok().flatten();
    start_session(session, &row).await?;
    if let Some(org) = org {
        session.insert(SESSION_ORG, org).await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
    }
    Ok(())
}

/// Sign out: the session is deleted from the store and the cookie cleared.
pub async fn end_session(session: &Session) -> Result<()> {
    session.flush().await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))
}

/// Sign out of a browser that presents a client certificate: the session ends, and the
/// certificate no longer signs this browser in until its holder chooses to
/// ([`use_certificate_again`]); otherwise signing out would sign them straight back in.
pub async fn sign_out(state: &AppState, session: &Session, with_certificate: bool, from: Option<IpAddr>) -> Result<()> {
    let user: Option<String> = session.get(SESSION_USER).await.ok().flatten();
    if let Some(row) = match user {
        Some(id) => state.auth.user_by_id(&state.store, &id).await?,
        None => None,
    } {
        events::record(&state.store, events::Kind::Logout, &row.login, Some(&row.login), from, None).await;
    }
    end_session(session).await?;
    if with_certificate {
        session
            .insert(SESSION_CERT_DECLINED, true)
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
    }
    Ok(())
}

/// Let the certificate sign this browser in again (the login page's "Sign in with your
/// certificate").
pub async fn use_certificate_again(session: &Session) -> Result<()> {
    session.cycle_id().await.map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
    session
        .remove::<bool>(SESSION_CERT_DECLINED)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_is_valid() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn throttle() {
        let g = AuthGuard::default();
        let here: Option<IpAddr> = Some("192.0.2.1".parse().unwrap());
        let there: Option<IpAddr> = Some("192.0.2.2".parse().unwrap());
        for _ in 0..MAX_FAILURES {
            assert!(g.check_throttle("bob", here).is_ok());
            g.record_failure("bob", here);
        }
        assert!(g.check_throttle("bob", here).is_err(), "this address waits");
        assert!(g.check_throttle("bob", there).is_ok(), "another address does not");
        assert!(g.check_throttle("alice", here).is_ok(), "nor another login");
        g.record_success("bob", here);
        assert!(g.check_throttle("bob", here).is_ok(), "a success clears the count");
    }

    #[test]
    fn throttle_delays_escalate_up_to_the_window() {
        assert_eq!(throttle_delay(MAX_FAILURES - 1), Duration::ZERO);
        assert_eq!(throttle_delay(MAX_FAILURES), Duration::from_secs(1));
        assert_eq!(throttle_delay(MAX_FAILURES + 3), Duration::from_secs(8));
        assert_eq!(throttle_delay(MAX_FAILURES + 40), LOCKOUT_WINDOW);
    }
}
