//! The listing of an organization's members (the Members screen and
//! `GET /v2/organizations/{org}/members`), ordered by handle, searched by handle,
//! name or e-mail.
//!
//! Its statement is written out, as the apps listing's is (`models::app_list`):
//! diesel prepares it once per connection instead of assembling the join on every
//! request. A search walks the `(org_id, member_handle, user_id)` index in page
//! order and reads each member's user row, so a name in 1 member of 8 costs about
//! 200 index entries for a page of 25.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::auth::policy::Role;
use crate::db::stamp::Stamp;
use crate::db::{DbConn, MultiBackend};
use crate::models::app::escape_like;
use crate::models::{OrgId, UserId};

/// A member as listed on the org's pages.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: UserId,
    pub handle: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub joined_at: NaiveDateTime,
}

/// The page's statement: members of `org` from `offset`, at most `limit`.
#[derive(Debug)]
struct MembersPage {
    org: i64,
    /// The search's LIKE pattern (lower-cased, wildcards escaped).
    pattern: Option<String>,
    limit: i64,
    offset: i64,
}

impl QueryId for MembersPage {
    type QueryId = ();
    // Two texts (with and without a search) per backend: keyed on the text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for MembersPage {
    type SqlType = (BigInt, Text, Text, Text, Text, Timestamp);
}

impl RunQueryDsl<DbConn> for MembersPage {}

impl QueryFragment<MultiBackend> for MembersPage {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql(
            "SELECT memberships.user_id, memberships.member_handle, users.name, \
             users.email, memberships.role, memberships.created_at \
             FROM memberships INNER JOIN users ON users.id = memberships.user_id \
             WHERE memberships.org_id = ",
        );
        out.push_bind_param::<BigInt, _>(&self.org)?;
        if let Some(pattern) = &self.pattern {
            // SQLite's LIKE already ignores case the way its lower() does (ASCII
            // letters only), so the name is compared as it is there; PostgreSQL's
            // LIKE heeds case, so the name is lower-cased first.
            let name = match out.backend() {
                MultiBackend::Sqlite(_) => "users.name",
                MultiBackend::Pg(_) => "lower(users.name)",
            };
            out.push_sql(" AND (memberships.member_handle LIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
            out.push_sql(" ESCAPE '\\' OR users.email LIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
            out.push_sql(" ESCAPE '\\' OR ");
            out.push_sql(name);
            out.push_sql(" LIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
            out.push_sql(" ESCAPE '\\')");
        }
        // The (org_id, member_handle, user_id) index gives this order without a sort.
        out.push_sql(" ORDER BY memberships.member_handle ASC LIMIT ");
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(" OFFSET ");
        out.push_bind_param::<BigInt, _>(&self.offset)?;
        Ok(())
    }
}

/// One page of the organization's members, ordered by handle, filtered by name,
/// handle or e-mail (case-insensitive).
pub fn members_page(
    conn: &mut DbConn,
    org: OrgId,
    search: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<Member>> {
    let search = search.trim();
    let statement = MembersPage {
        org: org.0,
        pattern: (!search.is_empty()).then(|| format!("%{}%", escape_like(&search.to_lowercase()))),
        limit,
        offset,
    };
    let rows: Vec<(i64, String, String, String, String, Stamp)> = statement.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(uid, handle, name, email, role, joined)| Member {
            user_id: UserId(uid),
            handle,
            name,
            email,
            role: Role::parse(&role).unwrap_or(Role::OrgUser),
            joined_at: joined.0,
        })
        .collect())
}

/// Every member of the organization, by handle.
pub fn all_members(conn: &mut DbConn, org: OrgId) -> QueryResult<Vec<Member>> {
    members_page(conn, org, "", 0, i64::MAX)
}
