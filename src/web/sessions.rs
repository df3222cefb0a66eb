//! The profile's **Sessions** card: the user's signed-in browsers (created, last
//! seen, address, user agent, "this session") and "Sign out all other sessions" /
//! sign out one. Rows live in `user_sessions` (`models::user_session`), so this
//! works the same with the cookie and the Redis session store.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::audit::{self, EventKind};
use crate::models::org::Membership;
use crate::models::user_session::{self, UserSession};
use crate::models::UserId;
use crate::state::AppState;
use crate::web::{flash, fmt_time, redirect};

/// One row of the card.
pub struct SessionView {
    pub id: i64,
    pub created: String,
    pub last_seen: String,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

/// The user's active sessions, this one first.
pub async fn for_profile(state: &AppState, viewer: &Viewer) -> Result<Vec<SessionView>, AppError> {
    let Some(user) = &viewer.user else {
        return Ok(Vec::new());
    };
    let uid = user.id;
    let rows = crate::db::run(&state.pool, move |conn| {
        Ok(user_session::active_for(conn, uid)?)
    })
    .await?;
    let here = viewer.session_hash.as_deref().unwrap_or("");
    let mut out: Vec<SessionView> = rows
        .into_iter()
        .map(|s: UserSession| SessionView {
            current: s.token_hash == here,
            id: s.id,
            created: fmt_time(&s.created_at),
            last_seen: fmt_time(&s.last_seen_at),
            ip: s.ip,
            user_agent: if s.user_agent.is_empty() {
                "Unknown browser".to_owned()
            } else {
                s.user_agent
            },
        })
        .collect();
    out.sort_by_key(|s| !s.current);
    Ok(out)
}

/// Records the sign-outs in the user's organization's audit log (if any).
fn record(
    conn: &mut crate::db::DbConn,
    req_actor: &audit::AuditActor,
    uid: UserId,
    ended: usize,
    scope: &str,
) -> diesel::QueryResult<()> {
    if ended == 0 {
        return Ok(());
    }
    let Some(m) = Membership::for_user(conn, uid)? else {
        return Ok(());
    };
    audit::record(
        conn,
        Some(m.org_id),
        req_actor,
        EventKind::SessionsRevoke,
        &audit::AuditTarget::user(uid, &req_actor.label),
        serde_json::json!({ "ended": ended, "scope": scope }),
    )
}

/// `POST /settings/sessions/revoke-others`
pub async fn revoke_others(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/settings/profile")?.clone();
    let keep = viewer
        .session_hash
        .clone()
        .ok_or_else(|| AppError::sign_in("/settings/profile"))?;
    let actor = crate::web::members::audit_actor(&req, &user);
    let uid = user.id;
    let ended = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction(conn, |conn| {
            let n = user_session::delete_others(conn, uid, &keep)?;
            record(conn, &actor, uid, n, "others")?;
            Ok::<_, diesel::result::Error>(n)
        })?)
    })
    .await?;
    flash(
        &viewer.session,
        match ended {
            0 => "There were no other sessions.".to_owned(),
            1 => "1 other session was signed out.".to_owned(),
            n => format!("{n} other sessions were signed out."),
        },
    );
    Ok(redirect(&req, "/settings/profile#sessions"))
}

/// `POST /settings/sessions/{id}/revoke`: signs one of one's sessions out.
pub async fn revoke_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/settings/profile")?.clone();
    let actor = crate::web::members::audit_actor(&req, &user);
    let (uid, id) = (user.id, path.into_inner());
    let ended = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction(conn, |conn| {
            let gone = user_session::delete_by_id(conn, uid, id)?;
            record(conn, &actor, uid, usize::from(gone), "one")?;
            Ok::<_, diesel::result::Error>(gone)
        })?)
    })
    .await?;
    if !ended {
        return Err(AppError::NotFound);
    }
    flash(&viewer.session, "The session was signed out.");
    Ok(redirect(&req, "/settings/profile#sessions"))
}
