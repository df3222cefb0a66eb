//! Throttling of failed sign-ins, kept in the database so that several instances
//! share the count. Keys are SHA-256 hashes (of the login name and of the client
//! IP), never the raw values.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::signin_throttle;
use crate::db::DbConn;
use crate::models::now;

/// Failures allowed inside one window before the key is locked.
pub const MAX_FAILURES: i32 = 5;
/// Length of the counting window.
pub const WINDOW_MINUTES: i64 = 15;
/// How long a locked key stays locked.
pub const LOCK_MINUTES: i64 = 15;

/// The stored key for a login name or an IP.
pub fn key(kind: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update(b"\0");
    h.update(value.trim().to_lowercase().as_bytes());
    hex::encode(h.finalize())
}

/// When the key is locked, the time it unlocks.
pub fn locked_until(conn: &mut DbConn, key: &str) -> QueryResult<Option<NaiveDateTime>> {
    let until: Option<Option<NaiveDateTime>> = signin_throttle::table
        .find(key)
        .select(signin_throttle::locked_until)
        .first(conn)
        .optional()?;
    Ok(until.flatten().filter(|t| *t > now()))
}

/// Records a failure; returns the lock's end when this failure locked the key.
pub fn record_failure(conn: &mut DbConn, key: &str) -> QueryResult<Option<NaiveDateTime>> {
    crate::db::transaction(conn, |conn| {
        let t = now();
        let row: Option<(i32, NaiveDateTime)> = signin_throttle::table
            .find(key)
            .select((
                signin_throttle::failures,
                signin_throttle::window_started_at,
            ))
            .first(conn)
            .optional()?;
        let (failures, started) = match row {
            Some((f, s)) if t - s < Duration::minutes(WINDOW_MINUTES) => (f + 1, s),
            _ => (1, t),
        };
        let locked = (failures >= MAX_FAILURES).then(|| t + Duration::minutes(LOCK_MINUTES));
        let stored_failures = if locked.is_some() { 0 } else { failures };
        if row.is_some() {
            diesel::update(signin_throttle::table.find(key))
                .set((
                    signin_throttle::failures.eq(stored_failures),
                    signin_throttle::window_started_at.eq(started),
                    signin_throttle::locked_until.eq(locked),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(signin_throttle::table)
                .values((
                    signin_throttle::key.eq(key),
                    signin_throttle::failures.eq(stored_failures),
                    signin_throttle::window_started_at.eq(started),
                    signin_throttle::locked_until.eq(locked),
                ))
                .execute(conn)?;
        }
        Ok(locked)
    })
}

/// Forgets the failures of a key (after a successful sign-in).
pub fn clear(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    diesel::delete(signin_throttle::table.find(key))
        .execute(conn)
        .map(|_| ())
}
