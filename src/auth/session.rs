//! The browser identity: what the session cookie (or Redis entry) holds, and the
//! `Viewer` extractor that turns it into an [`Actor`] once per request. A session
//! whose epoch is older than the user's (password changed), or whose server-side
//! row (`models::user_session`) was deleted ("sign out all other sessions"), is
//! ended here. Members of an organization that requires two-factor and who are
//! past their deadline without it are sent to enrolment before anything else.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::{web, FromRequest, HttpRequest};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::policy::{Actor, ActorUser, Role, TeamAccess};
use crate::db::DbConn;
use crate::error::AppError;
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::invitation::{self, Invitation};
use crate::models::org::Membership;
use crate::models::two_factor::TwoFactorPolicy;
use crate::models::user::{User, UserRow};
use crate::models::user_session;
use crate::models::{AccountId, OrgId, UserId};
use crate::state::AppState;

const UID: &str = "uid";
const EPOCH: &str = "epoch";
const ACTING_ORG: &str = "acting_org";
/// The random id of this session's `user_sessions` row (only its hash is stored).
const SID: &str = "sid";
/// Where members who must enrol in two-factor are sent.
pub const TWO_FACTOR_SETUP: &str = "/settings/two-factor";
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
    /// When the user's organization requires two-factor and they have not set it
    /// up: the moment after which they must (the banner shows it).
    pub two_factor_deadline: Option<NaiveDateTime>,
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

    /// The two-factor deadline as the banner shows it.
    pub fn two_factor_deadline_text(&self) -> Option<String> {
        self.two_factor_deadline.as_ref().map(crate::web::fmt_time)
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
    /// The hash of this session's `user_sessions` row id (signed in only).
    pub session_hash: Option<String>,
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

/// Starts a fresh session for the user (a new id, so a planted one is useless) and
/// records it server-side with the request's address and user agent.
pub async fn sign_in(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user: &User,
) -> Result<(), AppError> {
    let (token, hash) = user_session::new_token();
    let ip = crate::web::client_ip(req);
    let agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (uid, epoch, handle) = (user.id(), user.row.session_epoch, user.handle.clone());
    crate::db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            user_session::create(conn, uid, &hash, epoch, &ip, &agent)?;
            // Sign-ins of an organization's members go to its audit log.
            if let Some(m) = Membership::for_user(conn, uid)? {
                let actor = AuditActor {
                    user_id: Some(uid),
                    label: handle.clone(),
                    ip: ip.clone(),
                };
                audit::record(
                    conn,
                    Some(m.org_id),
                    &actor,
                    EventKind::SignIn,
                    &AuditTarget::user(uid, &handle),
                    serde_json::json!({ "user_agent": agent.chars().take(200).collect::<String>() }),
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(())
    })
    .await?;
    session.renew();
    let put = |k: &str, v: serde_json::Value| {
        session
            .insert(k, v)
            .map_err(|e| AppError::internal(format!("session: {e}")))
    };
    put(UID, user.row.id.into())?;
    put(EPOCH, user.row.session_epoch.into())?;
    put(SID, token.into())?;
    put(ACTING_ORG, false.into())?;
    put(CSRF, crate::auth::csrf::new_token().into())?;
    Ok(())
}

/// The stored hash of this session's id, when it has one.
pub fn current_hash(session: &Session) -> Option<String> {
    session
        .get::<String>(SID)
        .ok()
        .flatten()
        .map(|t| user_session::hash_token(&t))
}

/// Records a new epoch in this session (after the user changed their own password,
/// so that this session survives while the others end).
pub fn set_epoch(session: &Session, epoch: i64) -> Result<(), AppError> {
    session
        .insert(EPOCH, epoch)
        .map_err(|e| AppError::internal(format!("session: {e}")))
}

/// Ends the session, and its server-side row.
pub async fn sign_out(state: &AppState, session: &Session) {
    if let Some(hash) = current_hash(session) {
        let done = crate::db::run(&state.pool, move |conn| {
            Ok(user_session::delete(conn, &hash)?)
        })
        .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "could not delete the session row");
        }
    }
    session.purge();
}

/// What one statement loads for a signed-in request.
struct Loaded {
    user: User,
    membership: Option<Membership>,
    /// The session's row id and when it was last noted.
    session_row: (i64, NaiveDateTime),
    /// When two-factor must be on by (org requires it, user has none).
    two_factor_deadline: Option<NaiveDateTime>,
}

/// The user with their membership (and its org's handle and name), this session's
/// server-side row, whether they use two-factor and whether their org requires it,
/// in one statement: this runs on every signed-in request, so it is one round trip.
fn load_user(conn: &mut DbConn, id: UserId, sid_hash: &str) -> QueryResult<Option<Loaded>> {
    use crate::db::schema::{
        accounts, memberships, orgs, two_factor_policies, user_sessions, user_totp, users,
    };
    let org_accounts = diesel::alias!(accounts as org_accounts);
    type Row = (
        UserRow,
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<NaiveDateTime>,
        (i64, NaiveDateTime),
        Option<NaiveDateTime>,
        (Option<bool>, Option<i32>, Option<NaiveDateTime>),
    );
    let row = users::table
        .inner_join(accounts::table)
        .inner_join(
            user_sessions::table.on(user_sessions::user_id
                .eq(users::id)
                .and(user_sessions::token_hash.eq(sid_hash.to_owned()))),
        )
        .left_join(memberships::table.on(memberships::user_id.eq(users::id)))
        .left_join(orgs::table.on(orgs::id.eq(memberships::org_id)))
        .left_join(org_accounts.on(org_accounts.field(accounts::id).eq(orgs::id)))
        .left_join(user_totp::table.on(user_totp::user_id.eq(users::id)))
        .left_join(
            two_factor_policies::table.on(two_factor_policies::org_id.eq(memberships::org_id)),
        )
        .filter(users::id.eq(id.0))
        .select((
            UserRow::as_select(),
            accounts::handle,
            memberships::org_id.nullable(),
            org_accounts.field(accounts::handle).nullable(),
            orgs::name.nullable(),
            memberships::role.nullable(),
            memberships::created_at.nullable(),
            (user_sessions::id, user_sessions::last_seen_at),
            user_totp::enabled_at.nullable(),
            (
                two_factor_policies::required.nullable(),
                two_factor_policies::grace_days.nullable(),
                two_factor_policies::required_since.nullable(),
            ),
        ))
        .first::<Row>(conn)
        .optional()?;
    Ok(row.map(
        |(row, handle, org_id, org_handle, org_name, role, joined, session_row, totp_on, tfp)| {
            let membership = match (org_id, org_handle, org_name, role) {
                (Some(org_id), Some(org_handle), Some(org_name), Some(role)) => Some(Membership {
                    org_id: OrgId(org_id),
                    org_handle,
                    org_name,
                    role: Role::parse(&role).unwrap_or(Role::OrgUser),
                }),
                _ => None,
            };
            let two_factor_deadline = match (tfp, joined, totp_on) {
                ((Some(required), Some(grace_days), Some(required_since)), Some(joined), None) => {
                    TwoFactorPolicy {
                        required,
                        grace_days,
                        required_since,
                    }
                    .deadline_for(joined)
                }
                _ => None,
            };
            Loaded {
                user: User { row, handle },
                membership,
                session_row,
                two_factor_deadline,
            }
        },
    ))
}

/// Paths a member past their two-factor deadline may still use.
fn allowed_before_enrolment(path: &str) -> bool {
    path == TWO_FACTOR_SETUP
        || path.starts_with("/settings/two-factor/")
        || path == "/logout"
        || path.starts_with("/static/")
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
        let path = req.path().to_owned();
        let ip = crate::web::client_ip(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("app state missing"))?;
            let csrf = crate::auth::csrf::ensure_token(&session)?;
            let uid = session.get::<i64>(UID).unwrap_or(None);
            let signed_out = |session: Session| -> Result<Viewer, AppError> {
                let csrf = crate::auth::csrf::ensure_token(&session)?;
                Ok(Viewer {
                    actor: Actor::anonymous(),
                    user: None,
                    csrf,
                    session,
                    session_hash: None,
                })
            };
            let Some(uid) = uid else {
                return Ok(Viewer {
                    actor: Actor::anonymous(),
                    user: None,
                    csrf,
                    session,
                    session_hash: None,
                });
            };
            let Some(sid_hash) = current_hash(&session) else {
                // A session from before server-side sessions: sign in again.
                session.purge();
                return signed_out(session);
            };
            let epoch = session.get::<i64>(EPOCH).unwrap_or(None).unwrap_or(-1);
            let acting = session
                .get::<bool>(ACTING_ORG)
                .unwrap_or(None)
                .unwrap_or(false);
            let hash = sid_hash.clone();
            let loaded = crate::db::run(&state.pool, move |conn| {
                let Some(loaded) = load_user(conn, UserId(uid), &hash)?
                    .filter(|l| l.user.row.session_epoch == epoch)
                else {
                    return Ok(None);
                };
                let (row_id, last_seen) = loaded.session_row;
                let stale = crate::models::now() - last_seen
                    > chrono::Duration::minutes(user_session::TOUCH_MINUTES);
                if stale {
                    user_session::touch(conn, row_id, &ip)?;
                }
                let invitations = invitation::open_for_user(conn, loaded.user.id())?;
                let teams = team_access(conn, loaded.user.id(), loaded.membership.as_ref())?;
                Ok(Some((loaded, invitations, teams)))
            })
            .await?;
            let Some((loaded, invitations, teams)) = loaded else {
                // Deleted user, a session from before a password change, or one
                // signed out from another device.
                session.purge();
                return signed_out(session);
            };
            let Loaded {
                user,
                membership,
                two_factor_deadline,
                ..
            } = loaded;
            if two_factor_deadline.is_some_and(|d| d <= crate::models::now())
                && !allowed_before_enrolment(&path)
            {
                return Err(AppError::SeeOther(TWO_FACTOR_SETUP.to_owned()));
            }
            let signed_in = SignedIn {
                id: user.id(),
                handle: user.handle.clone(),
                name: user.row.name.clone(),
                email: user.row.email.clone(),
                apps_view: user.row.apps_view.clone(),
                acting_as_org: acting && membership.is_some(),
                membership: membership.clone(),
                invitations,
                two_factor_deadline,
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
                session_hash: Some(sid_hash),
            })
        })
    }
}
