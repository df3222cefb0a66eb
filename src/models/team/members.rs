//! A team's members: only members of the team's organization can join; adding
//! several is all or nothing; each add and removal is audited.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{lower, target, Team, TeamError};
use crate::auth::policy::Role;
use crate::db::schema::{accounts, memberships, team_members, users};
use crate::db::DbConn;
use crate::models::audit::{self, AuditActor, EventKind};
use crate::models::{now, UserId};

/// A member of a team (or a candidate in the Add Members search).
#[derive(Debug, Clone)]
pub struct TeamMember {
    pub user_id: UserId,
    pub handle: String,
    pub name: String,
    pub email: String,
    /// Their role in the organization.
    pub role: Role,
    /// When they joined the team (`None` for a candidate not in it).
    pub added_at: Option<NaiveDateTime>,
}

type Row = (i64, String, String, String, String, Option<NaiveDateTime>);

fn to_member((uid, handle, name, email, role, added): Row) -> TeamMember {
    TeamMember {
        user_id: UserId(uid),
        handle,
        name,
        email,
        role: Role::parse(&role).unwrap_or(Role::OrgUser),
        added_at: added,
    }
}

impl Team {
    /// The team's members, by handle.
    pub fn members(&self, conn: &mut DbConn) -> QueryResult<Vec<TeamMember>> {
        team_members::table
            .inner_join(users::table.inner_join(accounts::table))
            .inner_join(
                memberships::table.on(memberships::user_id
                    .eq(team_members::user_id)
                    .and(memberships::org_id.eq(self.org_id))),
            )
            .filter(team_members::team_id.eq(self.id))
            .select((
                team_members::user_id,
                accounts::handle,
                users::name,
                users::email,
                memberships::role,
                team_members::created_at.nullable(),
            ))
            .order(accounts::handle.asc())
            .load::<Row>(conn)
            .map(|rows| rows.into_iter().map(to_member).collect())
    }

    /// Members of the organization matching `search` (handle, name or e-mail) who
    /// are not in the team yet: the Add Members dialog's choices (at most `limit`).
    pub fn candidates(
        &self,
        conn: &mut DbConn,
        search: &str,
        limit: i64,
    ) -> QueryResult<Vec<TeamMember>> {
        let in_team = team_members::table
            .filter(team_members::team_id.eq(self.id))
            .select(team_members::user_id);
        let mut q = memberships::table
            .inner_join(users::table.inner_join(accounts::table))
            .filter(memberships::org_id.eq(self.org_id))
            .filter(memberships::user_id.ne_all(in_team))
            .select((
                memberships::user_id,
                accounts::handle,
                users::name,
                users::email,
                memberships::role,
                None::<NaiveDateTime>
                    .into_sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamp>>(),
            ))
            .order(accounts::handle.asc())
            .limit(limit)
            .into_boxed();
        let search = search.trim();
        if !search.is_empty() {
            let pattern = format!(
                "%{}%",
                crate::models::app::escape_like(&search.to_lowercase())
            );
            q = q.filter(
                accounts::handle
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::email).like(pattern.clone()).escape('\\'))
                    .or(lower(users::name).like(pattern).escape('\\')),
            );
        }
        q.load::<Row>(conn)
            .map(|rows| rows.into_iter().map(to_member).collect())
    }

    /// Adds the organization's members named by handle (or e-mail address); all or
    /// nothing: a name that is no member of the organization refuses the whole
    /// request. Those already in the team are left as they are. Returns the added.
    pub fn add_members(
        &self,
        conn: &mut DbConn,
        names: &[String],
        actor: &AuditActor,
    ) -> Result<Vec<String>, TeamError> {
        crate::db::transaction(conn, |conn| {
            let mut added = Vec::new();
            for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                let found: Option<(i64, String)> = memberships::table
                    .inner_join(users::table.inner_join(accounts::table))
                    .filter(memberships::org_id.eq(self.org_id))
                    .filter(
                        accounts::handle
                            .eq(name)
                            .or(lower(users::email).eq(name.to_lowercase())),
                    )
                    .select((memberships::user_id, accounts::handle))
                    .first(conn)
                    .optional()?;
                let Some((uid, handle)) = found else {
                    return Err(TeamError::NotMember(name.to_owned()));
                };
                let already: bool = diesel::select(diesel::dsl::exists(
                    team_members::table
                        .filter(team_members::team_id.eq(self.id))
                        .filter(team_members::user_id.eq(uid)),
                ))
                .get_result(conn)?;
                if already {
                    continue;
                }
                diesel::insert_into(team_members::table)
                    .values((
                        team_members::team_id.eq(self.id),
                        team_members::user_id.eq(uid),
                        team_members::created_at.eq(now()),
                    ))
                    .execute(conn)?;
                audit::record(
                    conn,
                    Some(self.org()),
                    actor,
                    EventKind::TeamMemberAdd,
                    &target(self),
                    serde_json::json!({ "user_id": uid, "user": handle }),
                )?;
                added.push(handle);
            }
            Ok(added)
        })
    }

    /// Removes the member `handle` from the team.
    pub fn remove_member(
        &self,
        conn: &mut DbConn,
        handle: &str,
        actor: &AuditActor,
    ) -> Result<(), TeamError> {
        crate::db::transaction(conn, |conn| {
            let uid: Option<i64> = team_members::table
                .inner_join(accounts::table.on(accounts::id.eq(team_members::user_id)))
                .filter(team_members::team_id.eq(self.id))
                .filter(accounts::handle.eq(handle.trim()))
                .select(team_members::user_id)
                .first(conn)
                .optional()?;
            let Some(uid) = uid else {
                return Err(TeamError::NotInTeam(handle.trim().to_owned()));
            };
            diesel::delete(
                team_members::table
                    .filter(team_members::team_id.eq(self.id))
                    .filter(team_members::user_id.eq(uid)),
            )
            .execute(conn)?;
            audit::record(
                conn,
                Some(self.org()),
                actor,
                EventKind::TeamMemberRemove,
                &target(self),
                serde_json::json!({ "user_id": uid, "user": handle.trim() }),
            )?;
            Ok(())
        })
    }
}
