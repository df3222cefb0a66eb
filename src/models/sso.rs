//! The database side of SAML sign-in: the AuthnRequests Atrium issued (each
//! answered at most once), the replay cache of accepted assertion ids, and what a
//! verified assertion does — find the user by e-mail or create them, add them to
//! the organization within the one-organization rule, and record it.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{memberships, saml_assertions, saml_requests};
use crate::db::{is_unique_violation, DbConn};
use crate::models::account::{self, validate_handle};
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::identity_provider::IdentityProvider;
use crate::models::org::{Membership, Org};
use crate::models::user::{CreateUserError, NewUser, User};
use crate::models::{now, OrgId};
use crate::saml::verify::Verified;

/// How long the identity provider has to answer an AuthnRequest.
pub const REQUEST_TTL_MINUTES: i64 = 10;

/// The password "hash" of accounts created through SSO: not a PHC string, so no
/// password ever matches it (a password can be set later through "Forgot password").
pub const NO_PASSWORD: &str = "!sso-only";

/// Records an AuthnRequest just issued (and clears expired requests and replay entries).
pub fn issue_request(
    conn: &mut DbConn,
    idp: &IdentityProvider,
    request_id: &str,
    next: &str,
) -> QueryResult<()> {
    let t = now();
    diesel::delete(saml_requests::table.filter(saml_requests::expires_at.lt(t))).execute(conn)?;
    diesel::delete(saml_assertions::table.filter(saml_assertions::expires_at.lt(t)))
        .execute(conn)?;
    diesel::insert_into(saml_requests::table)
        .values((
            saml_requests::request_id.eq(request_id),
            saml_requests::idp_id.eq(idp.id),
            saml_requests::next.eq(next),
            saml_requests::created_at.eq(t),
            saml_requests::expires_at.eq(t + Duration::minutes(REQUEST_TTL_MINUTES)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Takes an issued, unexpired request of this provider out of the table; returns
/// where to go after signing in, or `None` when Atrium never issued it (or it
/// expired, or was already answered).
pub fn consume_request(
    conn: &mut DbConn,
    idp: &IdentityProvider,
    request_id: &str,
) -> QueryResult<Option<String>> {
    let found = saml_requests::table
        .filter(saml_requests::request_id.eq(request_id))
        .filter(saml_requests::idp_id.eq(idp.id))
        .filter(saml_requests::expires_at.gt(now()))
        .select(saml_requests::next)
        .first::<String>(conn)
        .optional()?;
    let Some(next) = found else {
        return Ok(None);
    };
    // Only the response whose delete took the row goes on (two concurrent posts of
    // one response: the second deletes nothing).
    let deleted = diesel::delete(
        saml_requests::table
            .filter(saml_requests::request_id.eq(request_id))
            .filter(saml_requests::idp_id.eq(idp.id)),
    )
    .execute(conn)?;
    Ok((deleted == 1).then_some(next))
}

/// Remembers an accepted assertion id; `false` when it was accepted before.
fn remember_assertion(
    conn: &mut DbConn,
    idp: &IdentityProvider,
    assertion_id: &str,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let seen: bool = diesel::select(diesel::dsl::exists(
        saml_assertions::table
            .filter(saml_assertions::idp_id.eq(idp.id))
            .filter(saml_assertions::assertion_id.eq(assertion_id)),
    ))
    .get_result(conn)?;
    if seen {
        return Ok(false);
    }
    match diesel::insert_into(saml_assertions::table)
        .values((
            saml_assertions::assertion_id.eq(assertion_id),
            saml_assertions::idp_id.eq(idp.id),
            saml_assertions::expires_at.eq(until),
        ))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What a verified assertion led to.
#[derive(Debug)]
pub enum SsoOutcome {
    /// Signed in; `joined` when this sign-in added them to the organization,
    /// `created` when it also created the account.
    SignedIn {
        user: User,
        joined: bool,
        created: bool,
    },
    /// The assertion id was accepted before.
    Replayed,
    /// The account belongs to another organization (nothing changed).
    InAnotherOrg { org_name: String },
    /// An account with this e-mail exists outside the organization, and the
    /// provider does not claim its e-mail domain (nothing changed).
    ExistingAccount,
}

/// A handle for a new account, from the e-mail's local part (`j.doe` → `j-doe`,
/// then `j-doe-4821` if taken).
fn new_handle(conn: &mut DbConn, email: &str) -> QueryResult<String> {
    let local = email
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut base: String = local
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    base = base
        .trim_start_matches(['-', '_'])
        .chars()
        .take(40)
        .collect();
    if base.chars().count() < 2 {
        base = format!("user{base}");
    }
    let mut candidate = base.clone();
    for _ in 0..20 {
        if validate_handle(&candidate, "a user ID").is_ok()
            && !account::handle_taken(conn, &candidate)?
        {
            return Ok(candidate);
        }
        candidate = format!("{base}-{}", rand::random_range(1000..10000));
    }
    Ok(format!("user-{}", crate::models::random_id(12)))
}

fn add_member(
    conn: &mut DbConn,
    org: OrgId,
    user: &User,
    idp: &IdentityProvider,
) -> QueryResult<bool> {
    match diesel::insert_into(memberships::table)
        .values((
            memberships::org_id.eq(org.0),
            memberships::user_id.eq(user.row.id),
            memberships::role.eq(idp.role().as_str()),
            memberships::created_at.eq(now()),
        ))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        // A concurrent invitation accept put them in an organization first.
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Acts on a verified assertion, in one transaction with its audit records.
pub fn sign_in_verified(
    conn: &mut DbConn,
    idp: &IdentityProvider,
    org: &Org,
    v: &Verified,
    ip: &str,
) -> Result<SsoOutcome, diesel::result::Error> {
    crate::db::transaction(conn, |conn| {
        if !remember_assertion(conn, idp, &v.assertion_id, v.remember_until)? {
            return Ok(SsoOutcome::Replayed);
        }
        let (user, joined, created) = match User::find_by_email(conn, &v.email)? {
            Some(user) => match Membership::for_user(conn, user.id())? {
                Some(m) if m.org_id == org.id => (user, false, false),
                Some(m) => {
                    return Ok(SsoOutcome::InAnotherOrg {
                        org_name: m.org_name,
                    })
                }
                None => {
                    let domain = v.email.rsplit('@').next().unwrap_or_default();
                    if idp.email_domain.as_deref() != Some(domain) {
                        return Ok(SsoOutcome::ExistingAccount);
                    }
                    if !add_member(conn, org.id, &user, idp)? {
                        return Ok(SsoOutcome::InAnotherOrg {
                            org_name: "another organization".to_owned(),
                        });
                    }
                    (user, true, false)
                }
            },
            None => {
                let handle = new_handle(conn, &v.email)?;
                let user = match User::create(
                    conn,
                    NewUser {
                        handle: &handle,
                        email: &v.email,
                        name: &v.name,
                        password_hash: NO_PASSWORD,
                    },
                ) {
                    Ok(u) => u,
                    Err(CreateUserError::Db(e)) => return Err(e),
                    // Lost a race for the handle or the address: nothing is kept.
                    Err(_) => return Err(diesel::result::Error::RollbackTransaction),
                };
                if !add_member(conn, org.id, &user, idp)? {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                (user, true, true)
            }
        };
        let actor = AuditActor {
            user_id: Some(user.id()),
            label: user.handle.clone(),
            ip: ip.to_owned(),
        };
        let target = AuditTarget::user(user.id(), &user.handle);
        if joined {
            audit::record(
                conn,
                Some(org.id),
                &actor,
                EventKind::MemberJoinSso,
                &target,
                serde_json::json!({
                    "identity_provider": idp.public_id,
                    "role": idp.default_role,
                    "account_created": created,
                }),
            )?;
        }
        audit::record(
            conn,
            Some(org.id),
            &actor,
            EventKind::SsoSignIn,
            &target,
            serde_json::json!({ "identity_provider": idp.public_id, "email": v.email }),
        )?;
        Ok(SsoOutcome::SignedIn {
            user,
            joined,
            created,
        })
    })
}

/// Records a refused SSO sign-in (outside any transaction that rolled back).
pub fn record_failure(
    conn: &mut DbConn,
    org: &Org,
    idp: Option<&IdentityProvider>,
    ip: &str,
    reason: &str,
) -> QueryResult<()> {
    let actor = AuditActor {
        user_id: None,
        label: "anonymous".to_owned(),
        ip: ip.to_owned(),
    };
    audit::record(
        conn,
        Some(org.id),
        &actor,
        EventKind::SsoSignInFailed,
        &AuditTarget::org(org.id, &org.handle),
        serde_json::json!({
            "identity_provider": idp.map(|i| i.public_id.clone()),
            "reason": reason.chars().take(500).collect::<String>(),
        }),
    )
}

/// True when password sign-in is refused to this member: their organization
/// requires SSO and they are not one of its admins (admins keep password sign-in
/// as the break-glass path).
pub fn password_refused(conn: &mut DbConn, m: &Membership) -> QueryResult<bool> {
    if crate::auth::policy::password_allowed_under_sso(m.role) {
        return Ok(false);
    }
    // Only while a provider is enabled: a deleted or disabled one locks nobody out.
    Ok(
        crate::models::identity_provider::require_sso(conn, m.org_id)?
            && IdentityProvider::enabled_for(conn, m.org_id)?.is_some(),
    )
}
