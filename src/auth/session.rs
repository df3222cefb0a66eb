//! The browser identity: what the session cookie (or Redis entry) holds, and the
//! `Viewer` extractor that turns it into an [`Actor`] once per request. A session
//! whose epoch is older than the user's (password changed) is ended here.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::{web, FromRequest, HttpRequest};

use diesel::prelude::*;

use crate::auth::policy::{Actor, ActorUser, Role, TeamAccess};
use crate::db::DbConn;
use crate::error::AppError;
use crate::models::invitation::{self, Invitation};
use crate::models::org::Membership;
use crate::models::user::{User, UserRow};
use crate::models::{AccountId, OrgId, UserId};
use crate::state::AppState;

const UID: &str = "uid";
const EPOCH: &str = "epoch";
const ACTING_ORG: &str = "acting_org";
/// Session key of the CSRF token (see `auth::csrf`).
pub const CSRF: &str = "csrf";

/// A signed-in user as the pages need them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: UserId,
    pub handle: String,
    pub name: String,
    pub email: String,
    pub apps_view: String,
    pub membership: Option<Membership>,
    /// True when the profile switcher is on the organization.
    pub acting_as_org: bool,
    /// Open invitations bound to this account (the banner shows them).
    pub invitations: Vec<Invitation>,
}

impl SignedIn {
    /// Handle of the active profile (the user's own, or their org's).
    pub fn active_handle(&self) -> &str {
        match (&self.membership, self.acting_as_org) {
            (Some(m), true) => &m.org_handle,
            _ => &self.handle,
        }
    }

    /// Account id of the active profile.
    pub fn active_owner(&self) -> AccountId {
        match (&self.membership, self.acting_as_org) {
            (Some(m), true) => AccountId(m.org_id.0),
            _ => AccountId(self.id.0),
        }
    }

    /// First letter of the user's handle, for the avatar.
    pub fn initial(&self) -> char {
        initial(&self.handle)
    }

    /// First letter of the active profile's handle.
    pub fn active_initial(&self) -> char {
        initial(self.active_handle())
    }

    /// Name shown for the user.
    pub fn display_name(&self) -> &str {
        if self.name.trim().is_empty() {
            &self.handle
        } else {
            &self.name
        }
    }
}

/// Upper-case first letter of a handle.
pub fn initial(handle: &str) -> char {
    handle
        .chars()
        .next()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or('?')
}

/// Whoever sent the request (signed in or not), with the session's CSRF token.
#[derive(Clone)]
pub struct Viewer {
    pub actor: Actor,
    pub user: Option<SignedIn>,
    pub csrf: String,
    pub session: Session,
}

impl Viewer {
    /// The signed-in user, or a redirect to sign-in that comes back to `next`.
    pub fn require(&self, next: &str) -> Result<&SignedIn, AppError> {
        self.user.as_ref().ok_or_else(|| AppError::sign_in(next))
    }

    /// Switches the active profile.
    pub fn set_acting_as_org(&self, on: bool) -> Result<(), AppError> {
        self.session
            .insert(ACTING_ORG, on)
            .map_err(|e| AppError::internal(format!("session: {e}")))
    }
}

/// Starts a fresh session for the user (a new id, so a planted one is useless).
pub fn sign_in(session: &Session, user: &User) -> Result<(), AppError> {
    session.renew();
    let put = |k: &str, v: serde_json::Value| {
        session
            .insert(k, v)
            .map_err(|e| AppError::internal(format!("session: {e}")))
    };
    put(UID, user.row.id.into())?;
    put(EPOCH, user.row.session_epoch.into())?;
    put(ACTING_ORG, false.into())?;
    put(CSRF, crate::auth::csrf::new_token().into())?;
    Ok(())
}

/// Records a new epoch in this session (after the user changed their own password,
/// so that this session survives while the others end).
pub fn set_epoch(session: &Session, epoch: i64) -> Result<(), AppError> {
    session
        .insert(EPOCH, epoch)
        .map_err(|e| AppError::internal(format!("session: {e}")))
}

/// Ends the session.
pub fn sign_out(session: &Session) {
    session.purge();
}

/// The user with their membership (and its org's handle and name) in one statement:
/// this runs on every signed-in request, so it is one round trip, not two.
fn load_user(conn: &mut DbConn, id: UserId) -> QueryResult<Option<(User, Option<Membership>)>> {
    use crate::db::schema::{accounts, memberships, orgs, users};
    let org_accounts = diesel::alias!(accounts as org_accounts);
    let row = users::table
        .inner_join(accounts::table)
        .left_join(memberships::table.on(memberships::user_id.eq(users::id)))
        .left_join(orgs::table.on(orgs::id.eq(memberships::org_id)))
        .left_join(org_accounts.on(org_accounts.field(accounts::id).eq(orgs::id)))
        .filter(users::id.eq(id.0))
        .select((
            UserRow::as_select(),
            accounts::handle,
            memberships::org_id.nullable(),
            org_accounts.field(accounts::handle).nullable(),
            orgs::name.nullable(),
            memberships::role.nullable(),
        ))
        .first::<(
            UserRow,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        )>(conn)
        .optional()?;
    Ok(
        row.map(|(row, handle, org_id, org_handle, org_name, role)| {
            let membership = match (org_id, org_handle, org_name, role) {
                (Some(org_id), Some(org_handle), Some(org_name), Some(role)) => Some(Membership {
                    org_id: OrgId(org_id),
                    org_handle,
                    org_name,
                    role: Role::parse(&role).unwrap_or(Role::OrgUser),
                }),
                _ => None,
            };
            (User { row, handle }, membership)
        }),
    )
}

/// The user's team grants and label restrictions, loaded with the actor so that
/// membership and grant changes count from the next request. Admins are exempt
/// from restrictions and gain nothing from grants: no statement for them, nor
/// for users outside an organization.
pub fn team_access(
    conn: &mut DbConn,
    user: UserId,
    membership: Option<&Membership>,
) -> QueryResult<TeamAccess> {
    match membership {
        Some(m) if m.role != Role::Admin => crate::models::team::access(conn, user, m.org_id),
        _ => Ok(TeamAccess::default()),
    }
}

impl FromRequest for Viewer {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Viewer, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("app state missing"))?;
            let csrf = crate::auth::csrf::ensure_token(&session)?;
            let uid = session.get::<i64>(UID).unwrap_or(None);
            let Some(uid) = uid else {
                return Ok(Viewer {
                    actor: Actor::anonymous(),
                    user: None,
                    csrf,
                    session,
                });
            };
            let epoch = session.get::<i64>(EPOCH).unwrap_or(None).unwrap_or(-1);
            let acting = session
                .get::<bool>(ACTING_ORG)
                .unwrap_or(None)
                .unwrap_or(false);
            let loaded = crate::db::run(&state.pool, move |conn| {
                let Some((user, membership)) = load_user(conn, UserId(uid))?
                    .filter(|(user, _)| user.row.session_epoch == epoch)
                else {
                    return Ok(None);
                };
                let invitations = invitation::open_for_user(conn, user.id())?;
                let teams = team_access(conn, user.id(), membership.as_ref())?;
                Ok(Some((user, membership, invitations, teams)))
            })
            .await?;
            let Some((user, membership, invitations, teams)) = loaded else {
                // Deleted user, or a session from before a password change.
                session.purge();
                let csrf = crate::auth::csrf::ensure_token(&session)?;
                return Ok(Viewer {
                    actor: Actor::anonymous(),
                    user: None,
                    csrf,
                    session,
                });
            };
            let signed_in = SignedIn {
                id: user.id(),
                handle: user.handle.clone(),
                name: user.row.name.clone(),
                email: user.row.email.clone(),
                apps_view: user.row.apps_view.clone(),
                acting_as_org: acting && membership.is_some(),
                membership: membership.clone(),
                invitations,
            };
            Ok(Viewer {
                actor: Actor {
                    user: Some(ActorUser {
                        id: user.id(),
                        handle: user.handle,
                        membership,
                        scopes: None,
                        teams,
                    }),
                },
                user: Some(signed_in),
                csrf,
                session,
            })
        })
    }
}
