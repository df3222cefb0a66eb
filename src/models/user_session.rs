//! The server-side list of a user's browser sessions, whichever store holds the
//! session itself (encrypted cookie or Redis). The session keeps a random id; only
//! its SHA-256 is stored, so the table cannot be used to forge a session. Deleting
//! a row signs that session out on its next request (`auth::session::Viewer`).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::{user_sessions, users};
use crate::db::DbConn;
use crate::models::{now, UserId};

/// How long a session lives without a request (the session cookie's lifetime).
pub const IDLE_DAYS: i64 = 14;
/// `last_seen_at` is rewritten at most this often (not on every request).
pub const TOUCH_MINUTES: i64 = 5;
/// Longest user agent kept.
const MAX_AGENT: usize = 300;

/// A fresh random session id (kept in the session) and its stored hash.
pub fn new_token() -> (String, String) {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of a session id.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// One active session as the profile lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_sessions)]
pub struct UserSession {
    pub id: i64,
    pub token_hash: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

/// Records a new session of `user` at `epoch`.
pub fn create(
    conn: &mut DbConn,
    user: UserId,
    token_hash: &str,
    epoch: i64,
    ip: &str,
    user_agent: &str,
) -> QueryResult<()> {
    let t = now();
    let agent: String = user_agent
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_AGENT)
        .collect();
    // The user's sessions that expired on their own go now.
    diesel::delete(
        user_sessions::table
            .filter(user_sessions::user_id.eq(user.0))
            .filter(user_sessions::last_seen_at.lt(t - Duration::days(IDLE_DAYS))),
    )
    .execute(conn)?;
    diesel::insert_into(user_sessions::table)
        .values((
            user_sessions::user_id.eq(user.0),
            user_sessions::token_hash.eq(token_hash),
            user_sessions::epoch.eq(epoch),
            user_sessions::ip.eq(ip),
            user_sessions::user_agent.eq(agent),
            user_sessions::created_at.eq(t),
            user_sessions::last_seen_at.eq(t),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Notes a request of the session (`Viewer` calls it when the stored time is old).
pub fn touch(conn: &mut DbConn, id: i64, ip: &str) -> QueryResult<()> {
    diesel::update(user_sessions::table.find(id))
        .set((
            user_sessions::last_seen_at.eq(now()),
            user_sessions::ip.eq(ip),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Moves this session to the user's new epoch (after they changed their own
/// password: this session stays, the others end).
pub fn set_epoch(conn: &mut DbConn, token_hash: &str, epoch: i64) -> QueryResult<()> {
    diesel::update(user_sessions::table.filter(user_sessions::token_hash.eq(token_hash)))
        .set(user_sessions::epoch.eq(epoch))
        .execute(conn)
        .map(|_| ())
}

/// The user's live sessions (not ended by a password change, not idle too long),
/// most recently seen first.
pub fn active_for(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<UserSession>> {
    user_sessions::table
        .inner_join(users::table)
        .filter(user_sessions::user_id.eq(user.0))
        .filter(user_sessions::epoch.eq(users::session_epoch))
        .filter(user_sessions::last_seen_at.ge(now() - Duration::days(IDLE_DAYS)))
        .order((user_sessions::last_seen_at.desc(), user_sessions::id.desc()))
        .select(UserSession::as_select())
        .load(conn)
}

/// Ends one session (sign out); no-op when already gone.
pub fn delete(conn: &mut DbConn, token_hash: &str) -> QueryResult<()> {
    diesel::delete(user_sessions::table.filter(user_sessions::token_hash.eq(token_hash)))
        .execute(conn)
        .map(|_| ())
}

/// Ends every session of the user but the one with `keep`; returns how many ended.
pub fn delete_others(conn: &mut DbConn, user: UserId, keep: &str) -> QueryResult<usize> {
    diesel::delete(
        user_sessions::table
            .filter(user_sessions::user_id.eq(user.0))
            .filter(user_sessions::token_hash.ne(keep)),
    )
    .execute(conn)
}

/// Ends one of the user's sessions by its row id; true when it existed.
pub fn delete_by_id(conn: &mut DbConn, user: UserId, id: i64) -> QueryResult<bool> {
    diesel::delete(
        user_sessions::table
            .filter(user_sessions::user_id.eq(user.0))
            .filter(user_sessions::id.eq(id)),
    )
    .execute(conn)
    .map(|n| n > 0)
}
