use serde::{Deserialize, Serialize};

use super::{Id, Millis};

/// A named set of permissions a user holds in one organisation (TheHive 4's profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Platform administration; only in the `admin` organisation.
    Admin,
    /// Manages an organisation: its users, templates, custom fields, analyzers, and all its data.
    OrgAdmin,
    /// Works cases and alerts.
    Analyst,
    /// Sees everything in the organisation, changes nothing but their own dashboards.
    ReadOnly,
}

impl Profile {
    pub const ALL: [Profile; 4] = [Profile::Admin, Profile::OrgAdmin, Profile::Analyst, Profile::ReadOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::OrgAdmin => "org-admin",
            Self::Analyst => "analyst",
            Self::ReadOnly => "read-only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "Platform administrator",
            Self::OrgAdmin => "Organisation administrator",
            Self::Analyst => "Analyst",
            Self::ReadOnly => "Read-only",
        }
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Admin => &[ManageOrganisation, ManageUser, ManagePlatform],
            Self::OrgAdmin => &[
                ManageUser,
                ManageCase,
                ManageTask,
                ManageObservable,
                ManageAlert,
                ManageCaseTemplate,
                ManageCustomField,
                ManageObservableType,
                ManageAnalyze,
                ManageAnalyzer,
                ManageDashboard,
            ],
            Self::Analyst => &[ManageCase, ManageTask, ManageObservable, ManageAlert, ManageAnalyze, ManageDashboard],
            Self::ReadOnly => &[ManageDashboard],
        }
    }

    pub fn has(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }

    /// TheHive 3's role list for this profile (`read`, `write`, `alert`, `admin`), used by v0 clients.
    pub fn v0_roles(self) -> Vec<&'static str> {
        match self {
            Self::Admin | Self::OrgAdmin => vec!["read", "write", "alert", "admin"],
            Self::Analyst => vec!["read", "write", "alert"],
            Self::ReadOnly => vec!["read"],
        }
    }

    /// The profile that matches a TheHive 3 role list best.
    pub fn from_v0_roles(roles: &[String]) -> Option<Self> {
        let has = |r: &str| roles.iter().any(|x| x.eq_ignore_ascii_case(r));
        if roles.is_empty() {
            None
        } else if has("admin") {
            Some(Self::OrgAdmin)
        } else if has("write") || has("alert") {
            Some(Self::Analyst)
        } else if has("read") {
            Some(Self::ReadOnly)
        } else {
            None
        }
    }
}

/// What a caller may do in the organisation they are working in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Permission {
    ManageOrganisation,
    ManageUser,
    ManagePlatform,
    ManageCase,
    ManageTask,
    ManageObservable,
    ManageAlert,
    ManageCaseTemplate,
    ManageCustomField,
    ManageObservableType,
    ManageAnalyze,
    ManageAnalyzer,
    ManageDashboard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum UserStatus {
    #[default]
    Ok,
    Locked,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::ManageCase,
        Permission::ManageTask,
        Permission::ManageObservable,
        Permission::ManageAlert,
        Permission::ManageCaseTemplate,
        Permission::ManageCustomField,
        Permission::ManageObservableType,
        Permission::ManageAnalyze,
        Permission::ManageAnalyzer,
        Permission::ManageDashboard,
        Permission::ManageUser,
        Permission::ManageOrganisation,
        Permission::ManagePlatform,
    ];

    /// TheHive 4's name of the permission (`manageCase`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManageOrganisation => "manageOrganisation",
            Self::ManageUser => "manageUser",
            Self::ManagePlatform => "managePlatform",
            Self::ManageCase => "manageCase",
            Self::ManageTask => "manageTask",
            Self::ManageObservable => "manageObservable",
            Self::ManageAlert => "manageAlert",
            Self::ManageCaseTemplate => "manageCaseTemplate",
            Self::ManageCustomField => "manageCustomField",
            Self::ManageObservableType => "manageObservableType",
            Self::ManageAnalyze => "manageAnalyze",
            Self::ManageAnalyzer => "manageAnalyzer",
            Self::ManageDashboard => "manageDashboard",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s) || (s == "manageAnalyse" && *p == Self::ManageAnalyze))
    }

    /// Permissions only the platform's administration holds (never in a custom profile).
    pub fn is_platform(self) -> bool {
        matches!(self, Self::ManagePlatform | Self::ManageOrganisation)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ManageOrganisation => "Manage organisations",
            Self::ManageUser => "Manage users",
            Self::ManagePlatform => "Manage the platform",
            Self::ManageCase => "Work cases",
            Self::ManageTask => "Work tasks",
            Self::ManageObservable => "Work observables",
            Self::ManageAlert => "Triage alerts",
            Self::ManageCaseTemplate => "Manage case templates",
            Self::ManageCustomField => "Manage custom fields",
            Self::ManageObservableType => "Manage observable types",
            Self::ManageAnalyze => "Run analyzers",
            Self::ManageAnalyzer => "Configure analyzers",
            Self::ManageDashboard => "Share dashboards",
        }
    }
}

/// A profile an administrator made: a name and a set of permissions (never the platform's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomProfile {
    pub id: Id,
    pub name: String,
    pub permissions: Vec<Permission>,
    pub created_at: Millis,
    pub created_by: String,
}

/// A user's role in one organisation: a built-in profile, or a custom one (`custom`, its name;
/// `profile` is then read-only, what TheHive 3 clients see).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub org_id: Id,
    pub org_name: String,
    pub profile: Profile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<String>,
}

impl Membership {
    /// The profile's name as people see it.
    pub fn profile_name(&self) -> &str {
        self.custom.as_deref().unwrap_or(self.profile.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organisation {
    pub id: Id,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A locked organisation: nobody works in it (its data is kept).
    #[serde(default)]
    pub locked: bool,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// A user as listed by administrators and returned by the API (never with secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Id,
    pub login: String,
    pub name: String,
    pub status: UserStatus,
    pub memberships: Vec<Membership>,
    pub default_org: Id,
    pub has_key: bool,
    pub has_password: bool,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// The signed-in user as the UI sees them: who they are, where they work, what they may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUser {
    pub id: Id,
    pub login: String,
    pub name: String,
    pub org_id: Id,
    pub org_name: String,
    pub profile: Profile,
    pub memberships: Vec<Membership>,
    pub has_key: bool,
    /// Signed in by an X.509 client certificate (no password, no session to close).
    #[serde(default)]
    pub by_certificate: bool,
    /// The password was chosen by someone else: the UI asks for a new one first.
    #[serde(default)]
    pub must_change_password: bool,
    /// With a custom profile in this organisation: its permissions (else the profile's).
    #[serde(default)]
    pub permissions: Option<Vec<Permission>>,
}

impl CurrentUser {
    pub fn can(&self, p: Permission) -> bool {
        match &self.permissions {
            Some(set) => set.contains(&p),
            None => self.profile.has(p),
        }
    }

    pub fn is_platform_admin(&self) -> bool {
        self.profile == Profile::Admin
    }
}

/// One entry of the security trail: a sign-in, a failed one, or a change of credentials or
/// rights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEvent {
    pub at: Millis,
    /// `login`, `login-failed`, `logout`, `user-created`, `password-changed`, `key-renewed`,
    /// `key-revoked`, `locked`, `unlocked`, `profile-changed`.
    pub kind: String,
    /// The account concerned (as typed, for a failed sign-in).
    pub login: String,
    /// Who made the change (the account itself for a sign-in).
    #[serde(default)]
    pub by: Option<String>,
    /// The client's address.
    #[serde(default)]
    pub from: Option<String>,
    /// How (password, directory, certificate) or what (the new profile).
    #[serde(default)]
    pub detail: Option<String>,
}
