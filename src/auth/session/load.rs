//! The statement every signed-in request runs: the user, their membership and its
//! organization, this session's server-side row, two-factor state, the teams
//! version and whether an invitation waits, in one round trip.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};

use crate::db::DbConn;
use crate::models::org::Membership;
use crate::models::two_factor::TwoFactorPolicy;
use crate::models::user::{User, UserRow};
use crate::models::UserId;

/// What one statement loads for a signed-in request.
pub(super) struct Loaded {
    pub(super) user: User,
    pub(super) membership: Option<Membership>,
    /// The session's row id and when it was last noted.
    pub(super) session_row: (i64, NaiveDateTime),
    /// When two-factor must be on by (org requires it, user has none).
    pub(super) two_factor_deadline: Option<NaiveDateTime>,
    /// The organization's teams version (the key of the team access cache).
    pub(super) teams_version: Option<i64>,
    /// Whether an open invitation waits for the user (then they are loaded).
    pub(super) invited: bool,
}

/// The columns [`load_user`] reads, in order (`UserRow`'s fields first).
type LoadedRow = (
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
    Option<i64>,
    bool,
);

/// Their SQL types.
type LoadedSql = (
    (
        BigInt,
        Text,
        Text,
        Text,
        BigInt,
        Text,
        Timestamp,
        Timestamp,
        Timestamp,
    ),
    Text,
    Nullable<BigInt>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Timestamp>,
    (BigInt, Timestamp),
    Nullable<Timestamp>,
    (Nullable<Bool>, Nullable<Integer>, Nullable<Timestamp>),
    Nullable<BigInt>,
    Bool,
);

/// The statement of [`load_user`], written out: the same SQL on both backends, its
/// parameters bound by diesel. Its type is its identity (`QueryId`), so diesel
/// prepares it once per connection and then only binds and steps it; building the
/// eight-way join through the query builder cost more on every request than
/// running it, and diesel never caches a raw `sql()` literal.
#[derive(Debug, Clone, diesel::query_builder::QueryId)]
struct LoadUserStatement {
    now: NaiveDateTime,
    sid_hash: String,
    user_id: i64,
}

impl diesel::query_builder::Query for LoadUserStatement {
    type SqlType = LoadedSql;
}

impl diesel::query_builder::QueryFragment<crate::db::MultiBackend> for LoadUserStatement {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, crate::db::MultiBackend>,
    ) -> QueryResult<()> {
        out.push_sql(
            "SELECT users.id, users.email, users.name, users.password_hash, \
             users.session_epoch, users.apps_view, users.password_changed_at, \
             users.created_at, users.updated_at, \
             accounts.handle, memberships.org_id, org_accounts.handle, orgs.name, \
             memberships.role, memberships.created_at, \
             user_sessions.id, user_sessions.last_seen_at, user_totp.enabled_at, \
             two_factor_policies.required, two_factor_policies.grace_days, \
             two_factor_policies.required_since, orgs.teams_version, \
             EXISTS (SELECT 1 FROM invitations WHERE invitations.invitee_user_id = users.id \
                     AND invitations.status = 'pending' AND invitations.expires_at > ",
        );
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(
            ") FROM users \
             INNER JOIN accounts ON accounts.id = users.id \
             INNER JOIN user_sessions ON user_sessions.user_id = users.id \
                    AND user_sessions.token_hash = ",
        );
        out.push_bind_param::<Text, _>(&self.sid_hash)?;
        out.push_sql(
            " LEFT JOIN memberships ON memberships.user_id = users.id \
              LEFT JOIN orgs ON orgs.id = memberships.org_id \
              LEFT JOIN accounts AS org_accounts ON org_accounts.id = orgs.id \
              LEFT JOIN user_totp ON user_totp.user_id = users.id \
              LEFT JOIN two_factor_policies ON two_factor_policies.org_id = memberships.org_id \
              WHERE users.id = ",
        );
        out.push_bind_param::<BigInt, _>(&self.user_id)?;
        out.push_sql(" LIMIT 1");
        Ok(())
    }
}

impl RunQueryDsl<DbConn> for LoadUserStatement {}

/// The user with their membership (and its org's handle, name and teams version),
/// this session's server-side row, whether they use two-factor and whether their
/// org requires it, and whether an invitation waits for them, in one statement:
/// this runs on every signed-in request.
pub(super) fn load_user(
    conn: &mut DbConn,
    id: UserId,
    sid_hash: &str,
) -> QueryResult<Option<Loaded>> {
    let row = LoadUserStatement {
        now: crate::models::now(),
        sid_hash: sid_hash.to_owned(),
        user_id: id.0,
    }
    .get_result::<LoadedRow>(conn)
    .optional()?;
    Ok(row.map(
        |(
            row,
            handle,
            org_id,
            org_handle,
            org_name,
            role,
            joined,
            session_row,
            totp_on,
            tfp,
            teams_version,
            invited,
        )| {
            let membership = Membership::from_columns(org_id, org_handle, org_name, role);
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
                teams_version,
                invited,
            }
        },
    ))
}
