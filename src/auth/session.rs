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

use std::sync::Arc;

use crate::auth::policy::{Actor, ActorUser, Role, TeamAccess};
use crate::auth::teams::TeamAccessCache;
use crate::db::DbConn;
use crate::error::AppError;
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::invitation::{self, Invitation};
use crate::models::org::Membership;
use crate::models::user::User;
use crate::models::user_session;
use crate::models::{AccountId, UserId};
use crate::state::AppState;

mod load;
use load::{load_user, Loaded};

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
        crate::db::transaction(conn, |conn| {
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

/// Paths a member past their two-factor deadline may still use.
fn allowed_before_enrolment(path: &str) -> bool {
    path == TWO_FACTOR_SETUP
        || path.starts_with("/settings/two-factor/")
        || path == "/logout"
        || path.starts_with("/static/")
}

/// The user's team grants and label restrictions, as of the organization's
/// `teams_version` (from the cache while that version stands), so that membership
/// and grant changes count from the next request. Admins are exempt from
/// restrictions and gain nothing from grants: nothing to load for them, nor for
/// users outside an organization.
pub fn team_access(
    conn: &mut DbConn,
    cache: &TeamAccessCache,
    user: UserId,
    membership: Option<&Membership>,
    teams_version: i64,
) -> QueryResult<Arc<TeamAccess>> {
    match membership {
        Some(m) if m.role != Role::Admin => {
            cache.get_or_load(user.0, m.org_id.0, teams_version, || {
                crate::models::team::access(conn, user, m.org_id)
            })
        }
        _ => Ok(Arc::default()),
    }
}

/// What the session says, read without the database: the first half of the
/// [`Viewer`] extractor. The busiest handlers take a `Visit` and load the viewer
/// inside their own trip to the database ([`with_viewer`]): one hand-off to the
/// database threads per request instead of two.
pub struct Visit {
    session: Session,
    csrf: String,
    keys: Option<VisitKeys>,
}

/// The session's keys of a signed-in visit (`Send`: they go to the pool thread).
#[derive(Debug, Clone)]
struct VisitKeys {
    uid: i64,
    sid_hash: String,
    epoch: i64,
    acting: bool,
    path: String,
    ip: String,
}

/// What loading a visit found.
pub enum VisitLoad {
    Anonymous,
    /// The session no longer stands: deleted user, a session from before a
    /// password change, or one signed out from another device.
    Ended,
    /// A member past their organization's two-factor deadline, on a page they
    /// may not use before enrolling.
    MustEnrol,
    SignedIn(Box<(Actor, SignedIn)>),
}

impl VisitLoad {
    /// The actor the policy decides for.
    pub fn actor(&self) -> Actor {
        match self {
            VisitLoad::SignedIn(b) => b.0.clone(),
            _ => Actor::anonymous(),
        }
    }
}

impl Visit {
    /// Reads the session (no database).
    pub fn read(req: &HttpRequest) -> Result<Visit, AppError> {
        let session = req.get_session();
        let csrf = crate::auth::csrf::ensure_token(&session)?;
        let Some(uid) = session.get::<i64>(UID).unwrap_or(None) else {
            return Ok(Visit {
                session,
                csrf,
                keys: None,
            });
        };
        let Some(sid_hash) = current_hash(&session) else {
            // A session from before server-side sessions: sign in again.
            session.purge();
            let csrf = crate::auth::csrf::ensure_token(&session)?;
            return Ok(Visit {
                session,
                csrf,
                keys: None,
            });
        };
        let epoch = session.get::<i64>(EPOCH).unwrap_or(None).unwrap_or(-1);
        let acting = session
            .get::<bool>(ACTING_ORG)
            .unwrap_or(None)
            .unwrap_or(false);
        Ok(Visit {
            session,
            csrf,
            keys: Some(VisitKeys {
                uid,
                sid_hash,
                epoch,
                acting,
                path: req.path().to_owned(),
                ip: crate::web::client_ip(req),
            }),
        })
    }

    /// The viewer from what [`load_visit`] found (the session ends here when it
    /// no longer stands; members who must enrol in two-factor are sent there).
    pub fn finish(self, loaded: VisitLoad) -> Result<Viewer, AppError> {
        let Visit {
            session,
            csrf,
            keys,
        } = self;
        match loaded {
            VisitLoad::MustEnrol => Err(AppError::SeeOther(TWO_FACTOR_SETUP.to_owned())),
            VisitLoad::Anonymous => Ok(Viewer::anonymous(session, csrf)),
            VisitLoad::Ended => {
                session.purge();
                let csrf = crate::auth::csrf::ensure_token(&session)?;
                Ok(Viewer::anonymous(session, csrf))
            }
            VisitLoad::SignedIn(b) => {
                let (actor, user) = *b;
                Ok(Viewer {
                    actor,
                    user: Some(user),
                    csrf,
                    session,
                    session_hash: keys.map(|k| k.sid_hash),
                })
            }
        }
    }
}

/// Loads the visit's user, membership, invitations and team access (on the pool
/// thread); notes the session's use at most every few minutes.
fn load_visit(
    conn: &mut DbConn,
    cache: &TeamAccessCache,
    keys: Option<&VisitKeys>,
) -> Result<VisitLoad, AppError> {
    let Some(k) = keys else {
        return Ok(VisitLoad::Anonymous);
    };
    let Some(loaded) = load_user(conn, UserId(k.uid), &k.sid_hash)?
        .filter(|l| l.user.row.session_epoch == k.epoch)
    else {
        return Ok(VisitLoad::Ended);
    };
    let (row_id, last_seen) = loaded.session_row;
    let now = crate::models::now();
    if now - last_seen > chrono::Duration::minutes(user_session::TOUCH_MINUTES) {
        user_session::touch(conn, row_id, &k.ip)?;
    }
    let Loaded {
        user,
        membership,
        two_factor_deadline,
        teams_version,
        invited,
        ..
    } = loaded;
    if two_factor_deadline.is_some_and(|d| d <= now) && !allowed_before_enrolment(&k.path) {
        return Ok(VisitLoad::MustEnrol);
    }
    let invitations = if invited {
        invitation::open_for_user(conn, user.id())?
    } else {
        Vec::new()
    };
    let teams = team_access(
        conn,
        cache,
        user.id(),
        membership.as_ref(),
        teams_version.unwrap_or(0),
    )?;
    let signed_in = SignedIn {
        id: user.id(),
        handle: user.handle.clone(),
        name: user.row.name.clone(),
        email: user.row.email.clone(),
        apps_view: user.row.apps_view.clone(),
        acting_as_org: k.acting && membership.is_some(),
        membership: membership.clone(),
        invitations,
        two_factor_deadline,
    };
    let actor = Actor {
        user: Some(ActorUser {
            id: user.id(),
            handle: user.handle,
            membership,
            scopes: None,
            teams,
        }),
    };
    Ok(VisitLoad::SignedIn(Box::new((actor, signed_in))))
}

/// Loads the viewer and runs `f` with the database and the viewer's actor, in one
/// trip to the pool. `f`'s error comes after the session's verdict: a session
/// that ended is purged and a member who must enrol is redirected whatever `f`
/// returned (`f` does not run then).
pub async fn with_viewer<F, T>(
    state: &AppState,
    visit: Visit,
    f: F,
) -> Result<(Viewer, T), AppError>
where
    F: FnOnce(&mut DbConn, &Actor) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let keys = visit.keys.clone();
    let cache = state.teams.clone();
    let (loaded, out) = crate::db::run(&state.pool, move |conn| {
        let loaded = load_visit(conn, &cache, keys.as_ref())?;
        if matches!(loaded, VisitLoad::MustEnrol) {
            return Ok((loaded, None));
        }
        let out = f(conn, &loaded.actor());
        Ok((loaded, Some(out)))
    })
    .await?;
    let viewer = visit.finish(loaded)?;
    let out = out.ok_or_else(|| AppError::SeeOther(TWO_FACTOR_SETUP.to_owned()))??;
    Ok((viewer, out))
}

impl Viewer {
    fn anonymous(session: Session, csrf: String) -> Viewer {
        Viewer {
            actor: Actor::anonymous(),
            user: None,
            csrf,
            session,
            session_hash: None,
        }
    }
}

impl FromRequest for Visit {
    type Error = AppError;
    type Future = std::future::Ready<Result<Visit, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Visit::read(req))
    }
}

impl FromRequest for Viewer {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Viewer, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let visit = Visit::read(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let visit = visit?;
            let state = state.ok_or_else(|| AppError::internal("app state missing"))?;
            let Some(keys) = visit.keys.clone() else {
                return visit.finish(VisitLoad::Anonymous);
            };
            let cache = state.teams.clone();
            let loaded = crate::db::run(&state.pool, move |conn| {
                load_visit(conn, &cache, Some(&keys))
            })
            .await?;
            visit.finish(loaded)
        })
    }
}
