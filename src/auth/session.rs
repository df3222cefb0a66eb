//! The browser identity: what the session cookie (or Redis entry) holds, and the
//! `Viewer` extractor that turns it into an [`Actor`] once per request. A session
//! whose epoch is older than the user's (password changed) is ended here.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::policy::{Actor, ActorUser};
use crate::error::AppError;
use crate::models::invitation::{self, Invitation};
use crate::models::org::Membership;
use crate::models::user::User;
use crate::models::{AccountId, UserId};
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
                let user = match User::find(conn, UserId(uid)) {
                    Ok(u) => u,
                    Err(diesel::result::Error::NotFound) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                if user.row.session_epoch != epoch {
                    return Ok(None);
                }
                let membership = Membership::for_user(conn, user.id())?;
                let invitations = invitation::open_for_user(conn, user.id())?;
                Ok(Some((user, membership, invitations)))
            })
            .await?;
            let Some((user, membership, invitations)) = loaded else {
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
                    }),
                },
                user: Some(signed_in),
                csrf,
                session,
            })
        })
    }
}
