//! Platform server functions: sign-in, the current user, status, users and organisations.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::Backend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn Backend>, ApiError> {
    super::backend_of::<dyn Backend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    /// What the server provides for the platform's server functions, bound to the request's
    /// caller (or to nobody, for `login`).
    #[async_trait::async_trait]
    pub trait Backend: Send + Sync {
        async fn login(&self, login: String, password: String) -> Result<CurrentUser, ApiError>;
        async fn logout(&self) -> Result<(), ApiError>;
        async fn certificate_account(&self) -> Result<Option<String>, ApiError>;
        async fn sign_in_methods(&self) -> Result<Vec<String>, ApiError>;
        async fn auth_settings(&self) -> Result<AuthSettings, ApiError>;
        async fn test_directory(&self) -> Result<String, ApiError>;
        async fn test_directory_settings(&self, settings: LdapView) -> Result<String, ApiError>;
        async fn save_directory(&self, settings: Option<LdapView>) -> Result<AuthSettings, ApiError>;
        async fn security_events(&self) -> Result<Vec<SecurityEvent>, ApiError>;
        async fn set_membership(&self, user: String, org: String, profile: String) -> Result<User, ApiError>;
        async fn list_profiles(&self) -> Result<Vec<CustomProfile>, ApiError>;
        async fn save_profile(&self, name: String, permissions: Vec<Permission>, create: bool) -> Result<CustomProfile, ApiError>;
        async fn delete_profile(&self, name: String) -> Result<(), ApiError>;
        async fn remove_membership(&self, user: String, org: String) -> Result<User, ApiError>;
        async fn certificate_login(&self) -> Result<CurrentUser, ApiError>;
        async fn current_user(&self) -> Result<CurrentUser, ApiError>;
        async fn switch_org(&self, org: String) -> Result<CurrentUser, ApiError>;
        async fn app_status(&self) -> Result<AppStatus, ApiError>;
        async fn update_me(&self, name: String) -> Result<CurrentUser, ApiError>;
        async fn change_password(&self, current: String, new: String) -> Result<(), ApiError>;
        async fn renew_api_key(&self) -> Result<String, ApiError>;
        async fn revoke_api_key(&self) -> Result<(), ApiError>;
        async fn list_users(&self) -> Result<Vec<User>, ApiError>;
        async fn create_user(&self, input: NewUser) -> Result<User, ApiError>;
        async fn update_user(&self, id: String, input: UserPatch) -> Result<User, ApiError>;
        async fn set_user_password(&self, id: String, password: String) -> Result<(), ApiError>;
        async fn list_orgs(&self) -> Result<Vec<Organisation>, ApiError>;
        async fn create_org(&self, name: String, description: String) -> Result<Organisation, ApiError>;
        async fn update_org(&self, id: String, name: Option<String>, locked: Option<bool>) -> Result<Organisation, ApiError>;
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub login: String,
    pub name: String,
    pub password: Option<String>,
    pub organisation: Option<String>,
    pub profile: Profile,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPatch {
    pub name: Option<String>,
    pub status: Option<UserStatus>,
    pub profile: Option<Profile>,
}

/// The sign-in methods that are on (public, as in `/api/status`): the login page says which.
#[server(prefix = "/ui", endpoint = "auth/methods", input = Json)]
pub async fn sign_in_methods() -> Result<Vec<String>, ApiError> {
    backend()?.sign_in_methods().await
}

/// How people sign in, as configured (platform administrators; no secret in it).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthSettings {
    /// The methods that are on (`local`, `key`, `basic`, `session`, `ldap`, `pki`).
    pub methods: Vec<String>,
    /// Waggle serves HTTPS itself.
    pub tls: bool,
    /// `optional` or `required` when the handshake asks for client certificates.
    pub client_certificates: Option<String>,
    /// Which user a certificate names (`email`, `upn`, `cn`, `dn:PATTERN`).
    pub certificate_rule: String,
    /// `ORG/PROFILE` unknown certificate holders are created in.
    pub certificate_create: Option<String>,
    pub trusted_proxies: Vec<String>,
    pub certificate_header: Option<String>,
    pub ldap: Option<LdapView>,
}

/// The directory settings as the admin page shows and edits them. The service account's
/// password is never sent: `********` when one is set (sent back, it is kept).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LdapView {
    pub urls: Vec<String>,
    pub starttls: bool,
    pub ca_file: Option<String>,
    pub bind_dn: Option<String>,
    pub bind_password: Option<String>,
    pub base_dn: String,
    pub user_filter: String,
    pub login_attribute: String,
    pub name_attribute: String,
    pub mail_attribute: String,
    pub group_attribute: Option<String>,
    pub group_base: Option<String>,
    pub group_filter: Option<String>,
    pub timeout_secs: u64,
    pub create_users: bool,
    /// (group DN, organisation, profile)
    pub groups: Vec<(String, String, String)>,
    /// Where the settings in use come from: `configuration file`, or who changed them ...
    #[serde(default)]
    pub source: String,
    /// ... and when.
    #[serde(default)]
    pub changed_at: Option<crate::model::Millis>,
}

#[server(prefix = "/ui", endpoint = "admin/authentication", input = Json)]
pub async fn sign_in_settings() -> Result<AuthSettings, ApiError> {
    backend()?.auth_settings().await
}

/// Rename, lock or unlock an organisation (platform administrators).
#[server(prefix = "/ui", endpoint = "orgs/update", input = Json)]
pub async fn update_org(id: String, name: Option<String>, locked: Option<bool>) -> Result<Organisation, ApiError> {
    backend()?.update_org(id, name, locked).await
}

/// Put a user in an organisation with a profile, built-in or custom, by name (or change it
/// there); platform administrators.
#[server(prefix = "/ui", endpoint = "users/membership/set", input = Json)]
pub async fn set_membership(user: String, org: String, profile: String) -> Result<User, ApiError> {
    backend()?.set_membership(user, org, profile).await
}

/// The custom profiles.
#[server(prefix = "/ui", endpoint = "profiles/list", input = Json)]
pub async fn list_profiles() -> Result<Vec<CustomProfile>, ApiError> {
    backend()?.list_profiles().await
}

/// Make a custom profile (`create`) or change its permissions; platform administrators.
#[server(prefix = "/ui", endpoint = "profiles/save", input = Json)]
pub async fn save_profile(name: String, permissions: Vec<Permission>, create: bool) -> Result<CustomProfile, ApiError> {
    backend()?.save_profile(name, permissions, create).await
}

/// Delete a custom profile nobody holds; platform administrators.
#[server(prefix = "/ui", endpoint = "profiles/delete", input = Json)]
pub async fn delete_profile(name: String) -> Result<(), ApiError> {
    backend()?.delete_profile(name).await
}

/// Take a user out of an organisation; platform administrators.
#[server(prefix = "/ui", endpoint = "users/membership/remove", input = Json)]
pub async fn remove_membership(user: String, org: String) -> Result<User, ApiError> {
    backend()?.remove_membership(user, org).await
}

/// The latest security events (sign-ins, failed ones, credential and rights changes).
#[server(prefix = "/ui", endpoint = "admin/security-events", input = Json)]
pub async fn security_events() -> Result<Vec<SecurityEvent>, ApiError> {
    backend()?.security_events().await
}

/// Connect to the directory with the service account and report what works.
#[server(prefix = "/ui", endpoint = "admin/authentication/test-directory", input = Json)]
pub async fn test_directory() -> Result<String, ApiError> {
    backend()?.test_directory().await
}

/// Test directory settings before saving them.
#[server(prefix = "/ui", endpoint = "admin/directory/test", input = Json)]
pub async fn test_directory_settings(settings: LdapView) -> Result<String, ApiError> {
    backend()?.test_directory_settings(settings).await
}

/// Use these directory settings from now on (`None`: no directory); they replace the
/// configuration file's until changed again.
#[server(prefix = "/ui", endpoint = "admin/directory/save", input = Json)]
pub async fn save_directory(settings: Option<LdapView>) -> Result<AuthSettings, ApiError> {
    backend()?.save_directory(settings).await
}

#[server(prefix = "/ui", endpoint = "auth/login", input = Json)]
pub async fn login(login: String, password: String) -> Result<CurrentUser, ApiError> {
    backend()?.login(login, password).await
}

#[server(prefix = "/ui", endpoint = "auth/logout", input = Json)]
pub async fn logout() -> Result<(), ApiError> {
    backend()?.logout().await
}

/// The login of the account the browser's client certificate names, if it names one (the login
/// page offers to sign in with it).
#[server(prefix = "/ui", endpoint = "auth/certificate", input = Json)]
pub async fn certificate_account() -> Result<Option<String>, ApiError> {
    backend()?.certificate_account().await
}

/// Sign in with the browser's client certificate (again, after signing out of it).
#[server(prefix = "/ui", endpoint = "auth/certificate-login", input = Json)]
pub async fn certificate_login() -> Result<CurrentUser, ApiError> {
    backend()?.certificate_login().await
}

#[server(prefix = "/ui", endpoint = "auth/current", input = Json)]
pub async fn whoami() -> Result<CurrentUser, ApiError> {
    backend()?.current_user().await
}

#[server(prefix = "/ui", endpoint = "auth/switch-org", input = Json)]
pub async fn switch_org(org: String) -> Result<CurrentUser, ApiError> {
    backend()?.switch_org(org).await
}

#[server(prefix = "/ui", endpoint = "status", input = Json)]
pub async fn platform_status() -> Result<AppStatus, ApiError> {
    backend()?.app_status().await
}

#[server(prefix = "/ui", endpoint = "me/update", input = Json)]
pub async fn update_me(name: String) -> Result<CurrentUser, ApiError> {
    backend()?.update_me(name).await
}

#[server(prefix = "/ui", endpoint = "me/password", input = Json)]
pub async fn change_password(current: String, new: String) -> Result<(), ApiError> {
    backend()?.change_password(current, new).await
}

#[server(prefix = "/ui", endpoint = "me/key/renew", input = Json)]
pub async fn renew_api_key() -> Result<String, ApiError> {
    backend()?.renew_api_key().await
}

#[server(prefix = "/ui", endpoint = "me/key/revoke", input = Json)]
pub async fn revoke_api_key() -> Result<(), ApiError> {
    backend()?.revoke_api_key().await
}

#[server(prefix = "/ui", endpoint = "admin/users", input = Json)]
pub async fn list_users() -> Result<Vec<User>, ApiError> {
    backend()?.list_users().await
}

#[server(prefix = "/ui", endpoint = "admin/users/create", input = Json)]
pub async fn create_user(input: NewUser) -> Result<User, ApiError> {
    backend()?.create_user(input).await
}

#[server(prefix = "/ui", endpoint = "admin/users/update", input = Json)]
pub async fn update_user(id: String, input: UserPatch) -> Result<User, ApiError> {
    backend()?.update_user(id, input).await
}

#[server(prefix = "/ui", endpoint = "admin/users/password", input = Json)]
pub async fn set_user_password(id: String, password: String) -> Result<(), ApiError> {
    backend()?.set_user_password(id, password).await
}

#[server(prefix = "/ui", endpoint = "admin/orgs", input = Json)]
pub async fn list_orgs() -> Result<Vec<Organisation>, ApiError> {
    backend()?.list_orgs().await
}

#[server(prefix = "/ui", endpoint = "admin/orgs/create", input = Json)]
pub async fn create_org(name: String, description: String) -> Result<Organisation, ApiError> {
    backend()?.create_org(name, description).await
}
