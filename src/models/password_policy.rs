//! An organization's password policy (one row per organization; none = the
//! defaults), and each user's password history: the argon2 hashes of their
//! previous passwords, kept for the reuse rule. The rules themselves are checked
//! by `auth::password_policy`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{password_history, password_policies};
use crate::db::DbConn;
use crate::models::{now, OrgId, UserId};

/// Most previous passwords the reuse rule can look back on (bounds argon2 work).
pub const MAX_REUSE_EPOCH: i32 = 24;
/// Longest lifespan an admin can set, in days.
pub const MAX_LIFE_SPAN_DAYS: i32 = 3650;

/// The policy's settings, as stored and as the API names them.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = password_policies)]
pub struct PasswordPolicy {
    pub minimum_length: i32,
    pub maximum_length: i32,
    pub upper_case_needed: bool,
    pub lower_case_needed: bool,
    pub numeric_needed: bool,
    pub non_alphanumeric_needed: bool,
    /// Days a password lives before a change is forced at sign-in (0 = forever).
    pub password_life_span_days: i32,
    /// How many previous passwords may not be reused (0 = no rule).
    pub password_reuse_epoch: i32,
    pub exclude_names: bool,
    pub exclude_email: bool,
    /// Refuse the passwords of the shipped common-passwords list.
    pub no_common_vocabs: bool,
}

impl Default for PasswordPolicy {
    /// What applies without a saved policy (and to users outside any organization).
    fn default() -> Self {
        PasswordPolicy {
            minimum_length: crate::auth::password::MIN_LEN as i32,
            maximum_length: crate::auth::password::MAX_LEN as i32,
            upper_case_needed: false,
            lower_case_needed: false,
            numeric_needed: false,
            non_alphanumeric_needed: false,
            password_life_span_days: 0,
            password_reuse_epoch: 0,
            exclude_names: false,
            exclude_email: false,
            no_common_vocabs: false,
        }
    }
}

impl PasswordPolicy {
    /// Checks the settings themselves (bounds, min ≤ max).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let (lo, hi) = (
            crate::auth::password::MIN_LEN as i32,
            crate::auth::password::MAX_LEN as i32,
        );
        if !(lo..=hi).contains(&self.minimum_length) {
            return Err((
                "minimum_length",
                format!("The minimum length is between {lo} and {hi}."),
            ));
        }
        if !(lo..=hi).contains(&self.maximum_length) {
            return Err((
                "maximum_length",
                format!("The maximum length is between {lo} and {hi}."),
            ));
        }
        if self.minimum_length > self.maximum_length {
            return Err((
                "maximum_length",
                "The maximum length cannot be below the minimum length.".to_owned(),
            ));
        }
        if !(0..=MAX_LIFE_SPAN_DAYS).contains(&self.password_life_span_days) {
            return Err((
                "password_life_span_days",
                format!("The lifespan is between 0 (never expires) and {MAX_LIFE_SPAN_DAYS} days."),
            ));
        }
        if !(0..=MAX_REUSE_EPOCH).contains(&self.password_reuse_epoch) {
            return Err((
                "password_reuse_epoch",
                format!("Between 0 (no rule) and {MAX_REUSE_EPOCH} previous passwords."),
            ));
        }
        Ok(())
    }

    /// True when a password set at `changed_at` is past its lifespan.
    pub fn is_expired(&self, changed_at: NaiveDateTime) -> bool {
        self.password_life_span_days > 0
            && changed_at + chrono::Duration::days(self.password_life_span_days.into()) <= now()
    }

    /// The organization's policy, or the defaults when it has none.
    pub fn for_org(conn: &mut DbConn, org: OrgId) -> QueryResult<PasswordPolicy> {
        Ok(password_policies::table
            .find(org.0)
            .select(PasswordPolicy::as_select())
            .first(conn)
            .optional()?
            .unwrap_or_default())
    }

    /// The policy that applies to a member of `org` (the defaults outside any).
    pub fn for_optional_org(conn: &mut DbConn, org: Option<OrgId>) -> QueryResult<PasswordPolicy> {
        match org {
            Some(org) => PasswordPolicy::for_org(conn, org),
            None => Ok(PasswordPolicy::default()),
        }
    }

    /// Saves the organization's policy (insert or replace). Call inside the
    /// transaction that records the audit event.
    pub fn save(&self, conn: &mut DbConn, org: OrgId, by: Option<UserId>) -> QueryResult<()> {
        let values = (
            password_policies::minimum_length.eq(self.minimum_length),
            password_policies::maximum_length.eq(self.maximum_length),
            password_policies::upper_case_needed.eq(self.upper_case_needed),
            password_policies::lower_case_needed.eq(self.lower_case_needed),
            password_policies::numeric_needed.eq(self.numeric_needed),
            password_policies::non_alphanumeric_needed.eq(self.non_alphanumeric_needed),
            password_policies::password_life_span_days.eq(self.password_life_span_days),
            password_policies::password_reuse_epoch.eq(self.password_reuse_epoch),
            password_policies::exclude_names.eq(self.exclude_names),
            password_policies::exclude_email.eq(self.exclude_email),
            password_policies::no_common_vocabs.eq(self.no_common_vocabs),
            password_policies::updated_by.eq(by.map(|u| u.0)),
            password_policies::updated_at.eq(now()),
        );
        let updated = diesel::update(password_policies::table.find(org.0))
            .set(values)
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(password_policies::table)
                .values((password_policies::org_id.eq(org.0), values))
                .execute(conn)?;
        }
        Ok(())
    }
}

/// Remembers a newly set password hash, keeping only as many as the reuse rule
/// can ask for. Call inside the transaction that sets the password.
pub fn remember(conn: &mut DbConn, user: UserId, hash: &str) -> QueryResult<()> {
    diesel::insert_into(password_history::table)
        .values((
            password_history::user_id.eq(user.0),
            password_history::password_hash.eq(hash),
            password_history::created_at.eq(now()),
        ))
        .execute(conn)?;
    let keep: Vec<i64> = password_history::table
        .filter(password_history::user_id.eq(user.0))
        .order((
            password_history::created_at.desc(),
            password_history::id.desc(),
        ))
        .limit(MAX_REUSE_EPOCH.into())
        .select(password_history::id)
        .load(conn)?;
    diesel::delete(
        password_history::table
            .filter(password_history::user_id.eq(user.0))
            .filter(password_history::id.ne_all(keep)),
    )
    .execute(conn)?;
    Ok(())
}

/// The hashes of the user's last `n` passwords (the current one first).
pub fn recent_hashes(conn: &mut DbConn, user: UserId, n: i32) -> QueryResult<Vec<String>> {
    password_history::table
        .filter(password_history::user_id.eq(user.0))
        .order((
            password_history::created_at.desc(),
            password_history::id.desc(),
        ))
        .limit(n.clamp(0, MAX_REUSE_EPOCH).into())
        .select(password_history::password_hash)
        .load(conn)
}
