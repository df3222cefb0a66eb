//! "Forgot password" links: a random token e-mailed to the user, of which only
//! the SHA-256 is stored. A link works once, within [`LIFETIME_MINUTES`]; asking
//! for a new one kills the older ones.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::password_resets;
use crate::db::DbConn;
use crate::models::user::User;
use crate::models::{now, random_id, UserId};

/// How long a reset link works.
pub const LIFETIME_MINUTES: i64 = 30;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a new link for the user and returns its secret token (to e-mail, never
/// to store). Unused older links stop working.
pub fn issue(conn: &mut DbConn, user: UserId) -> QueryResult<(String, chrono::NaiveDateTime)> {
    let token = random_id(40);
    let t = now();
    let expires = t + chrono::Duration::minutes(LIFETIME_MINUTES);
    crate::db::transaction(conn, |conn| {
        diesel::update(
            password_resets::table
                .filter(password_resets::user_id.eq(user.0))
                .filter(password_resets::used_at.is_null()),
        )
        .set(password_resets::used_at.eq(t))
        .execute(conn)?;
        diesel::insert_into(password_resets::table)
            .values((
                password_resets::user_id.eq(user.0),
                password_resets::token_hash.eq(hash(&token)),
                password_resets::created_at.eq(t),
                password_resets::expires_at.eq(expires),
            ))
            .execute(conn)?;
        Ok((token, expires))
    })
}

/// The user a still-valid (unused, unexpired) link belongs to, with the link's id.
pub fn find_valid(conn: &mut DbConn, token: &str) -> QueryResult<Option<(i64, User)>> {
    let row: Option<(i64, i64)> = password_resets::table
        .filter(password_resets::token_hash.eq(hash(token)))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now()))
        .select((password_resets::id, password_resets::user_id))
        .first(conn)
        .optional()?;
    match row {
        Some((id, uid)) => Ok(Some((id, User::find(conn, UserId(uid))?))),
        None => Ok(None),
    }
}

/// Marks the link used. Returns false when it was used meanwhile (two tabs):
/// call inside the transaction that sets the password, and roll back then.
pub fn consume(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let n = diesel::update(
        password_resets::table
            .filter(password_resets::id.eq(id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now()))
    .execute(conn)?;
    Ok(n == 1)
}
