//! The platform's server functions: sign-in, the current user, status, users, organisations.

use app::api::{AuthSettings, Backend, LdapView};
use app::model::*;

use super::{R, UiBackend};
use crate::core::auth::{self, Caller, SESSION_ORG};
use crate::config::ClientAuth;
use crate::core::error::Error;
use crate::{domain::identity::directory, domain::identity::org, domain::identity::profile, domain::platform::status, domain::identity::user};

#[async_trait::async_trait]
impl Backend for UiBackend {
    async fn login(&self, login: String, password: String) -> R<CurrentUser> {
        let (_, caller) = auth::sign_in(&self.state, &self.session, &login, &password, self.from).await?;
        Ok(caller.current_user())
    }

    async fn logout(&self) -> R<()> {
        Ok(auth::sign_out(&self.state, &self.session, self.certificate.is_some(), self.from).await?)
    }

    async fn certificate_account(&self) -> R<Option<String>> {
        let Some(cert) = &self.certificate else { return Ok(None) };
        let config = &self.state.settings.certificates;
        let Some(login) = config.rule.login(cert) else { return Ok(None) };
        let known = user::row_by_login(&self.state.store, &login).await?.is_some();
        Ok((known || config.create.is_some()).then_some(login))
    }

    async fn sign_in_methods(&self) -> R<Vec<String>> {
        Ok(status::auth_methods(&self.state))
    }

    async fn auth_settings(&self) -> R<AuthSettings> {
        platform_admin(self.caller()?, "see the sign-in settings")?;
        let settings = &self.state.settings;
        let certs = &settings.certificates;
        Ok(AuthSettings {
            methods: status::auth_methods(&self.state),
            tls: settings.tls.is_some(),
            client_certificates: settings.tls.as_ref().and_then(|t| match t.client_auth {
                ClientAuth::Off => None,
                ClientAuth::Optional => Some("optional".into()),
                ClientAuth::Required => Some("required".into()),
            }),
            certificate_rule: certs.rule.to_string(),
            certificate_create: certs.create.as_ref().map(|(o, p)| format!("{o}/{}", p.as_str())),
            trusted_proxies: certs.trusted_proxies.iter().map(|a| a.to_string()).collect(),
            certificate_header: certs.header.clone(),
            ldap: directory::view(&self.state, self.caller()?)?,
        })
    }

    async fn set_membership(&self, user_id: String, org: String, profile: String) -> R<User> {
        Ok(user::set_membership_named(&self.state, self.caller()?, &user_id, &org, &profile).await?)
    }

    async fn list_profiles(&self) -> R<Vec<CustomProfile>> {
        Ok(profile::list(&self.state, self.caller()?).await?)
    }

    async fn save_profile(&self, name: String, permissions: Vec<Permission>, create: bool) -> R<CustomProfile> {
        let caller = self.caller()?;
        Ok(if create { profile::create(&self.state, caller, &name, &permissions).await? } else { profile::update(&self.state, caller, &name, &permissions).await? })
    }

    async fn delete_profile(&self, name: String) -> R<()> {
        Ok(profile::delete(&self.state, self.caller()?, &name).await?)
    }

    async fn remove_membership(&self, user_id: String, org: String) -> R<User> {
        Ok(user::remove_membership(&self.state, self.caller()?, &user_id, &org).await?)
    }

    async fn security_events(&self) -> R<Vec<SecurityEvent>> {
        Ok(user::security_events(&self.state, self.caller()?, None, 100).await?)
    }

    async fn test_directory(&self) -> R<String> {
        platform_admin(self.caller()?, "test the directory")?;
        let directory = self.state.auth.directory().ok_or_else(|| Error::BadRequest("No directory is configured".into()))?;
        directory.client.test_connection().await.map_err(|e| Error::BadRequest(format!("{e}")).into())
    }

    async fn test_directory_settings(&self, settings: LdapView) -> R<String> {
        Ok(directory::test(&self.state, self.caller()?, settings).await?)
    }

    async fn save_directory(&self, settings: Option<LdapView>) -> R<AuthSettings> {
        directory::save(&self.state, self.caller()?, settings).await?;
        self.auth_settings().await
    }

    async fn certificate_login(&self) -> R<CurrentUser> {
        let cert = self.certificate.as_ref().ok_or_else(|| Error::Authentication("Your browser sent no client certificate".into()))?;
        let row = self
            .state
            .auth
            .user_by_certificate(&self.state.store, cert, &self.state.settings.certificates)
            .await?
            .ok_or_else(|| Error::Authentication("Your certificate is not linked to a Waggle account".into()))?;
        let caller = Caller::for_user(&row, None, auth::AuthMethod::Certificate)?;
        auth::use_certificate_again(&self.session).await?;
        auth::events::record(&self.state.store, auth::events::Kind::Login, &row.login, Some(&row.login), self.from, Some("certificate")).await;
        Ok(caller.current_user())
    }

    async fn current_user(&self) -> R<CurrentUser> {
        Ok(self.caller()?.current_user())
    }

    async fn switch_org(&self, org: String) -> R<CurrentUser> {
        let caller = self.caller()?;
        let row = user::row(&self.state.store, &caller.user_id).await?.ok_or_else(|| Error::Authentication("Authentication required".into()))?;
        let switched = Caller::for_user(&row, Some(&org), caller.method)?;
        self.session
            .insert(SESSION_ORG, &switched.org_id)
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
        Ok(switched.current_user())
    }

    async fn app_status(&self) -> R<AppStatus> {
        Ok(status::status_for(&self.state, self.caller()?).await)
    }

    async fn update_me(&self, name: String) -> R<CurrentUser> {
        let caller = self.caller()?;
        let patch = user::UserPatch { name: Some(name.clone()), ..Default::default() };
        user::update(&self.state, caller, &caller.user_id, patch).await?;
        let mut me = caller.current_user();
        me.name = name.trim().to_string();
        Ok(me)
    }

    async fn change_password(&self, current: String, new: String) -> R<()> {
        let caller = self.caller()?;
        user::set_password(&self.state, caller, &caller.user_id, Some(current), new).await?;
        Ok(auth::keep_signed_in(&self.state, caller, &self.session).await?)
    }

    async fn renew_api_key(&self) -> R<String> {
        let caller = self.caller()?;
        Ok(user::renew_key(&self.state, caller, &caller.user_id).await?)
    }

    async fn revoke_api_key(&self) -> R<()> {
        let caller = self.caller()?;
        Ok(user::revoke_key(&self.state, caller, &caller.user_id).await?)
    }

    async fn list_users(&self) -> R<Vec<User>> {
        Ok(user::list(&self.state, self.caller()?).await?)
    }

    async fn create_user(&self, input: app::api::NewUser) -> R<User> {
        let new = user::NewUser {
            login: input.login,
            name: input.name,
            password: input.password.filter(|p| !p.is_empty()),
            organisation: input.organisation,
            profile: Some(input.profile),
        };
        Ok(user::create(&self.state, self.caller()?, new).await?)
    }

    async fn update_user(&self, id: String, input: app::api::UserPatch) -> R<User> {
        let patch = user::UserPatch { name: input.name, status: input.status, profile: input.profile };
        Ok(user::update(&self.state, self.caller()?, &id, patch).await?)
    }

    async fn set_user_password(&self, id: String, password: String) -> R<()> {
        Ok(user::set_password(&self.state, self.caller()?, &id, None, password).await?)
    }

    async fn list_orgs(&self) -> R<Vec<Organisation>> {
        Ok(org::list(&self.state, self.caller()?).await?)
    }

    async fn create_org(&self, name: String, description: String) -> R<Organisation> {
        Ok(crate::domain::platform::setup::create_organisation(&self.state, self.caller()?, &name, &description).await?)
    }

    async fn update_org(&self, id: String, name: Option<String>, locked: Option<bool>) -> R<Organisation> {
        Ok(org::update(&self.state, self.caller()?, &id, org::OrgPatch { name, locked, description: None }).await?)
    }
}

/// Sign-in settings are the platform's: only its administrators see them, from any organisation.
fn platform_admin(caller: &Caller, action: &str) -> Result<(), Error> {
    if caller.is_platform_admin() { Ok(()) } else { Err(Error::forbidden(action)) }
}
