//! The organization roles and the PAT scopes: the vocabulary the policy module
//! (`auth::policy`) decides with, re-exported from there.

/// A member's role in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    OrgContributor,
    TeamContributor,
    OrgUser,
    FinancialManager,
}

impl Role {
    /// Every role, strongest first.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::OrgContributor,
        Role::TeamContributor,
        Role::OrgUser,
        Role::FinancialManager,
    ];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// The id stored in the database and used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::OrgContributor => "org_contributor",
            Role::TeamContributor => "team_contributor",
            Role::OrgUser => "org_user",
            Role::FinancialManager => "financial_manager",
        }
    }

    /// The label the screens show.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::OrgContributor => "Organization Contributor (all apps)",
            Role::TeamContributor => "Team Contributor (select apps)",
            Role::OrgUser => "Organization User (all apps, read-only)",
            Role::FinancialManager => "Financial Manager",
        }
    }
}

/// The PAT scopes, with what each lets a token do.
pub const SCOPES: &[(&str, &str)] = &[
    ("apps:read", "List and read apps"),
    ("apps:write", "Create, edit, duplicate, pin and delete apps"),
    ("orgs:read", "Read organizations and memberships"),
    ("orgs:write", "Create, edit, leave and delete organizations"),
    ("keys:read", "List personal access tokens"),
    ("keys:write", "Create and revoke personal access tokens"),
    (
        "inputs:write",
        "Upload, label and delete inputs; create and rename concepts",
    ),
    (
        "models:write",
        "Create, edit, star and delete models and versions",
    ),
    ("models:train", "Train models (create versions)"),
    ("predict", "Predict with models"),
];

/// True when `scope` is one of [`SCOPES`].
pub fn is_known_scope(scope: &str) -> bool {
    SCOPES.iter().any(|(s, _)| *s == scope)
}
