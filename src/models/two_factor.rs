//! Two-factor state: a user's TOTP enrolment (encrypted secret, last accepted time
//! step), their one-time recovery codes (hashed), and an organization's "Require
//! two-factor" policy with its grace period. The TOTP arithmetic is `auth::totp`.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::{recovery_codes, two_factor_policies, user_totp};
use crate::db::DbConn;
use crate::models::{now, OrgId, UserId};

/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Longest grace period an admin can set, in days.
pub const MAX_GRACE_DAYS: i32 = 90;

/// A user's TOTP row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_totp)]
pub struct Totp {
    pub secret: String,
    pub enabled_at: Option<NaiveDateTime>,
    pub last_step: i64,
}

impl Totp {
    pub fn enabled(&self) -> bool {
        self.enabled_at.is_some()
    }
}

/// The user's TOTP row, enabled or still being set up.
pub fn totp_for(conn: &mut DbConn, user: UserId) -> QueryResult<Option<Totp>> {
    user_totp::table
        .find(user.0)
        .select(Totp::as_select())
        .first(conn)
        .optional()
}

/// Stores a new (unconfirmed) secret, replacing an unconfirmed one. Refused (false)
/// when two-factor is already on.
pub fn start_enrolment(conn: &mut DbConn, user: UserId, sealed: &str) -> QueryResult<bool> {
    crate::db::transaction(conn, |conn| {
        if totp_for(conn, user)?.is_some_and(|t| t.enabled()) {
            return Ok(false);
        }
        diesel::delete(user_totp::table.find(user.0)).execute(conn)?;
        diesel::insert_into(user_totp::table)
            .values((
                user_totp::user_id.eq(user.0),
                user_totp::secret.eq(sealed),
                user_totp::enabled_at.eq(None::<NaiveDateTime>),
                user_totp::last_step.eq(0_i64),
                user_totp::created_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// Turns two-factor on with the step of the confirming code, and replaces the
/// recovery codes with these hashes. Returns false when there was nothing to
/// confirm (no enrolment, or already on).
pub fn confirm(
    conn: &mut DbConn,
    user: UserId,
    step: i64,
    code_hashes: &[String],
) -> QueryResult<bool> {
    let n = diesel::update(
        user_totp::table
            .filter(user_totp::user_id.eq(user.0))
            .filter(user_totp::enabled_at.is_null()),
    )
    .set((
        user_totp::enabled_at.eq(Some(now())),
        user_totp::last_step.eq(step),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.0)))
        .execute(conn)?;
    for h in code_hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user.0),
                recovery_codes::code_hash.eq(h),
            ))
            .execute(conn)?;
    }
    Ok(true)
}

/// Replaces the recovery codes of a user who has two-factor on; false otherwise.
pub fn replace_recovery_codes(
    conn: &mut DbConn,
    user: UserId,
    code_hashes: &[String],
) -> QueryResult<bool> {
    if !totp_for(conn, user)?.is_some_and(|t| t.enabled()) {
        return Ok(false);
    }
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.0)))
        .execute(conn)?;
    for h in code_hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user.0),
                recovery_codes::code_hash.eq(h),
            ))
            .execute(conn)?;
    }
    Ok(true)
}

/// Accepts `step` if it is newer than every step accepted before (atomic: the
/// same code cannot be used twice, even by two requests at once).
pub fn accept_step(conn: &mut DbConn, user: UserId, step: i64) -> QueryResult<bool> {
    diesel::update(
        user_totp::table
            .filter(user_totp::user_id.eq(user.0))
            .filter(user_totp::enabled_at.is_not_null())
            .filter(user_totp::last_step.lt(step)),
    )
    .set(user_totp::last_step.eq(step))
    .execute(conn)
    .map(|n| n == 1)
}

/// The stored form of a recovery code (case, spaces and dashes do not matter).
pub fn hash_recovery_code(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(format!("atrium-recovery:{norm}").as_bytes()))
}

/// Ten fresh codes like `k3f9x-2mq7d`, for showing once.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let s = crate::models::random_id(10);
            format!("{}-{}", &s[..5], &s[5..])
        })
        .collect()
}

/// Uses up a recovery code; true when it was valid and unused.
pub fn use_recovery_code(conn: &mut DbConn, user: UserId, code: &str) -> QueryResult<bool> {
    let hash = hash_recovery_code(code);
    diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user.0))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now())))
    .execute(conn)
    .map(|n| n == 1)
}

/// Unused recovery codes left.
pub fn codes_left(conn: &mut DbConn, user: UserId) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user.0))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}

/// Turns two-factor off: the secret and the recovery codes go.
pub fn disable(conn: &mut DbConn, user: UserId) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.0)))
        .execute(conn)?;
    diesel::delete(user_totp::table.find(user.0)).execute(conn)?;
    Ok(())
}

/// An organization's "Require two-factor" setting.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = two_factor_policies)]
pub struct TwoFactorPolicy {
    pub required: bool,
    pub grace_days: i32,
    /// When the requirement was (last) switched on.
    pub required_since: NaiveDateTime,
}

impl TwoFactorPolicy {
    /// The moment a member without two-factor must enrol before doing anything
    /// else: the grace period counted from when the rule was switched on, or from
    /// when they joined if that was later. `None` when not required.
    pub fn deadline_for(&self, joined: NaiveDateTime) -> Option<NaiveDateTime> {
        self.required
            .then(|| self.required_since.max(joined) + Duration::days(i64::from(self.grace_days)))
    }
}

/// The org's setting (not required when never saved).
pub fn policy_for(conn: &mut DbConn, org: OrgId) -> QueryResult<Option<TwoFactorPolicy>> {
    two_factor_policies::table
        .find(org.0)
        .select(TwoFactorPolicy::as_select())
        .first(conn)
        .optional()
}

/// Saves the setting. Switching it on (from off) restarts the grace period;
/// changing only the number of days keeps the start.
pub fn save_policy(
    conn: &mut DbConn,
    org: OrgId,
    required: bool,
    grace_days: i32,
    by: UserId,
) -> QueryResult<TwoFactorPolicy> {
    let t = now();
    let old = policy_for(conn, org)?;
    let since = match &old {
        Some(p) if p.required && required => p.required_since,
        _ => t,
    };
    diesel::delete(two_factor_policies::table.find(org.0)).execute(conn)?;
    diesel::insert_into(two_factor_policies::table)
        .values((
            two_factor_policies::org_id.eq(org.0),
            two_factor_policies::required.eq(required),
            two_factor_policies::grace_days.eq(grace_days),
            two_factor_policies::required_since.eq(since),
            two_factor_policies::updated_by.eq(Some(by.0)),
            two_factor_policies::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(TwoFactorPolicy {
        required,
        grace_days,
        required_since: since,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_normalise() {
        assert_eq!(
            hash_recovery_code("ABCDE-12345"),
            hash_recovery_code(" abcde12345 ")
        );
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 11));
    }

    #[test]
    fn deadline_counts_from_the_later_of_rule_and_joining() {
        let t = now();
        let p = TwoFactorPolicy {
            required: true,
            grace_days: 7,
            required_since: t,
        };
        assert_eq!(
            p.deadline_for(t - Duration::days(30)),
            Some(t + Duration::days(7))
        );
        assert_eq!(
            p.deadline_for(t + Duration::days(1)),
            Some(t + Duration::days(8))
        );
        let off = TwoFactorPolicy {
            required: false,
            ..p
        };
        assert_eq!(off.deadline_for(t), None);
    }
}
