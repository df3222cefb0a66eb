//! An organization's SAML identity providers: created from metadata or fields,
//! listed, enabled or disabled (at most one enabled per organization, enforced by
//! a partial unique index), deleted. Also the organization's "Require SSO" switch.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::policy::Role;
use crate::db::schema::{accounts, identity_providers, sso_settings};
use crate::db::{is_unique_violation, DbConn};
use crate::models::{now, random_id, OrgId, UserId};
use crate::saml::IdpSettings;

/// Longest provider name accepted.
pub const MAX_NAME_LEN: usize = 100;

/// The roles a provider may give the members it creates (admins are made by admins).
pub const DEFAULT_ROLES: [Role; 4] = [
    Role::OrgContributor,
    Role::TeamContributor,
    Role::OrgUser,
    Role::FinancialManager,
];

/// A stored identity provider.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = identity_providers)]
pub struct IdentityProvider {
    pub id: i64,
    /// The id URLs and the API use.
    pub public_id: String,
    pub org_id: i64,
    pub name: String,
    pub entity_id: String,
    pub sso_url: String,
    /// Signing certificate, base64 DER.
    pub certificate: String,
    pub metadata_xml: Option<String>,
    /// Users of this domain are sent to this provider from "Sign in with SSO".
    pub email_domain: Option<String>,
    pub default_role: String,
    pub enabled: bool,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl IdentityProvider {
    /// What verification needs.
    pub fn settings(&self) -> IdpSettings {
        IdpSettings {
            entity_id: self.entity_id.clone(),
            sso_url: self.sso_url.clone(),
            certificate: self.certificate.clone(),
        }
    }

    /// The role given to members this provider creates.
    pub fn role(&self) -> Role {
        Role::parse(&self.default_role).unwrap_or(Role::OrgUser)
    }

    /// The facts the audit trail and the API show (never the whole certificate).
    pub fn summary_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.public_id,
            "name": self.name,
            "entity_id": self.entity_id,
            "sso_url": self.sso_url,
            "email_domain": self.email_domain,
            "default_role_id": self.default_role,
            "enabled": self.enabled,
        })
    }
}

/// A provider to create (already validated).
#[derive(Debug, Clone)]
pub struct NewIdp {
    pub name: String,
    pub settings: IdpSettings,
    pub metadata_xml: Option<String>,
    pub email_domain: Option<String>,
    pub default_role: Role,
    pub enabled: bool,
}

/// Why a provider could not be created.
#[derive(Debug)]
pub enum CreateIdpError {
    /// The organization already has a provider with this name.
    NameTaken,
    /// Another provider (of any organization) claims this e-mail domain.
    DomainTaken,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for CreateIdpError {
    fn from(e: diesel::result::Error) -> Self {
        CreateIdpError::Db(e)
    }
}

/// Checks a provider name; returns it trimmed.
pub fn validate_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Enter a name for the identity provider.".to_owned());
    }
    if name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(format!(
            "Names are at most {MAX_NAME_LEN} characters, without control characters."
        ));
    }
    Ok(name.to_owned())
}

/// Checks an optional e-mail domain (`example.com`); empty means none.
pub fn validate_domain(raw: &str) -> Result<Option<String>, String> {
    let d = raw.trim().trim_start_matches('@').to_ascii_lowercase();
    if d.is_empty() {
        return Ok(None);
    }
    let ok = d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(Some(d))
    } else {
        Err("Enter a domain like example.com (or leave it empty).".to_owned())
    }
}

/// Reads a default role id; admins cannot be a provider's default.
pub fn parse_default_role(raw: &str) -> Result<Role, String> {
    match Role::parse(raw) {
        Some(r) if DEFAULT_ROLES.contains(&r) => Ok(r),
        Some(Role::Admin) => Err("Admins are made by admins: choose another role.".to_owned()),
        _ => Err("Choose one of the listed roles.".to_owned()),
    }
}

/// Disables every provider of `org` except `keep`.
fn disable_others(conn: &mut DbConn, org: OrgId, keep: i64) -> QueryResult<usize> {
    diesel::update(
        identity_providers::table
            .filter(identity_providers::org_id.eq(org.0))
            .filter(identity_providers::id.ne(keep))
            .filter(identity_providers::enabled.eq(true)),
    )
    .set((
        identity_providers::enabled.eq(false),
        identity_providers::updated_at.eq(now()),
    ))
    .execute(conn)
}

impl IdentityProvider {
    /// Creates a provider. When it is created enabled, the organization's other
    /// providers are disabled in the same transaction.
    pub fn create(
        conn: &mut DbConn,
        org: OrgId,
        by: Option<UserId>,
        new: &NewIdp,
    ) -> Result<IdentityProvider, CreateIdpError> {
        crate::db::transaction(conn, |conn| {
            let taken: bool = diesel::select(diesel::dsl::exists(
                identity_providers::table
                    .filter(identity_providers::org_id.eq(org.0))
                    .filter(identity_providers::name.eq(&new.name)),
            ))
            .get_result(conn)?;
            if taken {
                return Err(CreateIdpError::NameTaken);
            }
            if let Some(d) = &new.email_domain {
                if IdentityProvider::for_domain(conn, d)?.is_some() {
                    return Err(CreateIdpError::DomainTaken);
                }
            }
            if new.enabled {
                disable_others(conn, org, -1)?;
            }
            let t = now();
            let id: i64 = diesel::insert_into(identity_providers::table)
                .values((
                    identity_providers::public_id.eq(random_id(20)),
                    identity_providers::org_id.eq(org.0),
                    identity_providers::name.eq(&new.name),
                    identity_providers::entity_id.eq(&new.settings.entity_id),
                    identity_providers::sso_url.eq(&new.settings.sso_url),
                    identity_providers::certificate.eq(&new.settings.certificate),
                    identity_providers::metadata_xml.eq(new.metadata_xml.as_deref()),
                    identity_providers::email_domain.eq(new.email_domain.as_deref()),
                    identity_providers::default_role.eq(new.default_role.as_str()),
                    identity_providers::enabled.eq(new.enabled),
                    identity_providers::created_by.eq(by.map(|u| u.0)),
                    identity_providers::created_at.eq(t),
                    identity_providers::updated_at.eq(t),
                ))
                .returning(identity_providers::id)
                .get_result(conn)
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        // A concurrent create won the name or the domain.
                        if new.email_domain.is_some() {
                            CreateIdpError::DomainTaken
                        } else {
                            CreateIdpError::NameTaken
                        }
                    } else {
                        CreateIdpError::Db(e)
                    }
                })?;
            Ok(identity_providers::table
                .find(id)
                .select(IdentityProvider::as_select())
                .first(conn)?)
        })
    }

    /// The organization's providers, by name.
    pub fn list(conn: &mut DbConn, org: OrgId) -> QueryResult<Vec<IdentityProvider>> {
        identity_providers::table
            .filter(identity_providers::org_id.eq(org.0))
            .order((identity_providers::name.asc(), identity_providers::id.asc()))
            .select(IdentityProvider::as_select())
            .load(conn)
    }

    /// One of the organization's providers by public id.
    pub fn find(
        conn: &mut DbConn,
        org: OrgId,
        public_id: &str,
    ) -> QueryResult<Option<IdentityProvider>> {
        identity_providers::table
            .filter(identity_providers::org_id.eq(org.0))
            .filter(identity_providers::public_id.eq(public_id))
            .select(IdentityProvider::as_select())
            .first(conn)
            .optional()
    }

    /// The organization's enabled provider, if any.
    pub fn enabled_for(conn: &mut DbConn, org: OrgId) -> QueryResult<Option<IdentityProvider>> {
        identity_providers::table
            .filter(identity_providers::org_id.eq(org.0))
            .filter(identity_providers::enabled.eq(true))
            .select(IdentityProvider::as_select())
            .first(conn)
            .optional()
    }

    /// The provider claiming an e-mail domain, with its organization's handle.
    pub fn for_domain(
        conn: &mut DbConn,
        domain: &str,
    ) -> QueryResult<Option<(IdentityProvider, String)>> {
        identity_providers::table
            .inner_join(accounts::table.on(accounts::id.eq(identity_providers::org_id)))
            .filter(identity_providers::email_domain.eq(domain.to_ascii_lowercase()))
            .select((IdentityProvider::as_select(), accounts::handle))
            .first(conn)
            .optional()
    }

    /// Enables or disables a provider; enabling disables the organization's others.
    /// Returns how many others were disabled.
    pub fn set_enabled(conn: &mut DbConn, idp: &IdentityProvider, on: bool) -> QueryResult<usize> {
        crate::db::transaction(conn, |conn| {
            let others = if on {
                disable_others(conn, OrgId(idp.org_id), idp.id)?
            } else {
                0
            };
            diesel::update(identity_providers::table.find(idp.id))
                .set((
                    identity_providers::enabled.eq(on),
                    identity_providers::updated_at.eq(now()),
                ))
                .execute(conn)?;
            Ok(others)
        })
    }

    /// Renames a provider or changes its default role (the API's PATCH).
    pub fn update_details(
        conn: &mut DbConn,
        idp: &IdentityProvider,
        name: &str,
        role: Role,
    ) -> Result<(), CreateIdpError> {
        diesel::update(identity_providers::table.find(idp.id))
            .set((
                identity_providers::name.eq(name),
                identity_providers::default_role.eq(role.as_str()),
                identity_providers::updated_at.eq(now()),
            ))
            .execute(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    CreateIdpError::NameTaken
                } else {
                    CreateIdpError::Db(e)
                }
            })?;
        Ok(())
    }

    /// Deletes a provider (its pending requests and replay entries go with it).
    pub fn delete(conn: &mut DbConn, idp: &IdentityProvider) -> QueryResult<()> {
        diesel::delete(identity_providers::table.find(idp.id))
            .execute(conn)
            .map(|_| ())
    }
}

/// True when the organization requires its members to sign in through SSO.
pub fn require_sso(conn: &mut DbConn, org: OrgId) -> QueryResult<bool> {
    sso_settings::table
        .find(org.0)
        .select(sso_settings::require_sso)
        .first(conn)
        .optional()
        .map(|v| v.unwrap_or(false))
}

/// Turns "Require SSO" on or off.
pub fn set_require_sso(
    conn: &mut DbConn,
    org: OrgId,
    on: bool,
    by: Option<UserId>,
) -> QueryResult<()> {
    let t = now();
    let updated = diesel::update(sso_settings::table.find(org.0))
        .set((
            sso_settings::require_sso.eq(on),
            sso_settings::updated_by.eq(by.map(|u| u.0)),
            sso_settings::updated_at.eq(t),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(sso_settings::table)
            .values((
                sso_settings::org_id.eq(org.0),
                sso_settings::require_sso.eq(on),
                sso_settings::updated_by.eq(by.map(|u| u.0)),
                sso_settings::updated_at.eq(t),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_roles_are_checked() {
        assert_eq!(
            validate_domain(" @Example.COM ").unwrap(),
            Some("example.com".to_owned())
        );
        assert_eq!(validate_domain("").unwrap(), None);
        assert!(validate_domain("localhost").is_err());
        assert!(validate_domain("exa mple.com").is_err());
        assert!(parse_default_role("admin").is_err());
        assert_eq!(parse_default_role("org_user").unwrap(), Role::OrgUser);
    }
}
