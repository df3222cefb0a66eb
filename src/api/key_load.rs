//! The statement every `/v2` request runs first: the key by the hash of its
//! secret, with its user's handle, their membership and its organization (handle,
//! name, teams version), in one round trip. Written out like the session's
//! statement (`auth::session::load`): diesel prepares it once per connection. It
//! replaced four statements built through the query DSL (key, user, membership,
//! teams version), which cost a prediction more than the model's own work.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::db::{DbConn, MultiBackend};
use crate::models::org::Membership;
use crate::models::token::{hash_secret, ApiKey};

/// What one statement loads for a key.
pub(super) struct LoadedKey {
    pub(super) key: ApiKey,
    /// The key's user's handle.
    pub(super) handle: String,
    pub(super) membership: Option<Membership>,
    /// The organization's teams version (the key of the team access cache).
    pub(super) teams_version: Option<i64>,
}

type Row = (
    (
        i64,
        String,
        i64,
        String,
        String,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        NaiveDateTime,
    ),
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

type RowSql = (
    (
        BigInt,
        Text,
        BigInt,
        Text,
        Text,
        Nullable<Timestamp>,
        Nullable<Timestamp>,
        Timestamp,
    ),
    Text,
    Nullable<BigInt>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<BigInt>,
);

#[derive(Debug, QueryId)]
struct LoadKeyStatement {
    secret_hash: String,
}

impl Query for LoadKeyStatement {
    type SqlType = RowSql;
}

impl RunQueryDsl<DbConn> for LoadKeyStatement {}

impl QueryFragment<MultiBackend> for LoadKeyStatement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql(
            "SELECT api_keys.id, api_keys.key_id, api_keys.user_id, api_keys.description, \
             api_keys.scopes, api_keys.expires_at, api_keys.last_used_at, \
             api_keys.created_at, accounts.handle, memberships.org_id, \
             org_accounts.handle, orgs.name, memberships.role, orgs.teams_version \
             FROM api_keys \
             INNER JOIN users ON users.id = api_keys.user_id \
             INNER JOIN accounts ON accounts.id = api_keys.user_id \
             LEFT JOIN memberships ON memberships.user_id = api_keys.user_id \
             LEFT JOIN orgs ON orgs.id = memberships.org_id \
             LEFT JOIN accounts AS org_accounts ON org_accounts.id = orgs.id \
             WHERE api_keys.secret_hash = ",
        );
        out.push_bind_param::<Text, _>(&self.secret_hash)?;
        out.push_sql(" LIMIT 1");
        Ok(())
    }
}

/// The key whose secret this is, with its user's handle and membership.
pub(super) fn load_key(conn: &mut DbConn, secret: &str) -> QueryResult<Option<LoadedKey>> {
    let row: Option<Row> = LoadKeyStatement {
        secret_hash: hash_secret(secret),
    }
    .get_result(conn)
    .optional()?;
    Ok(row.map(
        |(
            (id, key_id, user_id, description, scopes, expires_at, last_used_at, created_at),
            handle,
            org_id,
            org_handle,
            org_name,
            role,
            teams_version,
        )| {
            let membership = Membership::from_columns(org_id, org_handle, org_name, role);
            LoadedKey {
                key: ApiKey {
                    id,
                    key_id,
                    user_id,
                    description,
                    scopes,
                    expires_at,
                    last_used_at,
                    created_at,
                },
                handle,
                membership,
                teams_version,
            }
        },
    ))
}
