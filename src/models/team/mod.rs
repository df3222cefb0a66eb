//! Teams of an organization: the teams themselves (create, rename, default role,
//! label restriction, delete), their members ([`members`]) and the apps granted
//! to them ([`grants`]), and the per-request [`access`] query the policy needs.
//! Every change writes its audit event in the same transaction.

pub mod grants;
pub mod members;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::teams::{TeamAccess, TeamRole};
use crate::db::schema::{team_apps, team_members, teams};
use crate::db::{is_unique_violation, DbConn};
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::labels;
use crate::models::{now, OrgId, UserId};

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A team row.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = teams)]
pub struct Team {
    pub id: i64,
    pub org_id: i64,
    pub team_id: String,
    pub name: String,
    pub default_role: String,
    pub restricted_labels: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Team {
    /// The role of grants made without one.
    pub fn default_role(&self) -> TeamRole {
        TeamRole::parse(&self.default_role).unwrap_or(TeamRole::LabelerWorker)
    }

    /// The labels the team is restricted to (empty: none).
    pub fn restriction(&self) -> Vec<&str> {
        labels::split(&self.restricted_labels).collect()
    }

    /// The restriction as the screens show it: `gdpr, hipaa`.
    pub fn restriction_text(&self) -> String {
        labels::display(&self.restricted_labels)
    }

    pub fn org(&self) -> OrgId {
        OrgId(self.org_id)
    }
}

/// A team in the Teams list, with its counts.
#[derive(Debug, Clone)]
pub struct TeamSummary {
    pub team: Team,
    pub members: i64,
    pub apps: i64,
}

/// Why a team change was refused.
#[derive(Debug)]
pub enum TeamError {
    /// Another team of the organization has this id.
    IdTaken,
    /// A user who is not a member of the organization (the name as given).
    NotMember(String),
    /// An app the organization does not own (the id as given).
    NotOrgApp(String),
    /// Not a member of the team / app not granted (the name as given).
    NotInTeam(String),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for TeamError {
    fn from(e: diesel::result::Error) -> Self {
        TeamError::Db(e)
    }
}

/// Longest team id.
pub const MAX_ID_LEN: usize = 50;
/// Longest team name.
pub const MAX_NAME_LEN: usize = 100;

/// Checks a team id: 1 to 50 letters, digits, `-` or `_`.
pub fn validate_team_id(raw: &str) -> Result<String, String> {
    let id = raw.trim();
    if id.is_empty() {
        return Err("Enter a team ID.".to_owned());
    }
    if id.chars().count() > MAX_ID_LEN {
        return Err(format!("Team IDs are at most {MAX_ID_LEN} characters."));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("Use only letters, digits, - and _ in a team ID.".to_owned());
    }
    Ok(id.to_owned())
}

/// Checks a team name (empty: the id is used).
pub fn validate_team_name(raw: &str, id: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("Team names are at most {MAX_NAME_LEN} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("Team names cannot contain control characters.".to_owned());
    }
    Ok(if name.is_empty() { id } else { name }.to_owned())
}

/// The audit target of a team.
fn target(team: &Team) -> AuditTarget {
    AuditTarget {
        kind: "team",
        id: team.id.to_string(),
        label: team.team_id.clone(),
    }
}

impl Team {
    /// Creates a team.
    pub fn create(
        conn: &mut DbConn,
        org: OrgId,
        team_id: &str,
        name: &str,
        default_role: TeamRole,
        actor: &AuditActor,
    ) -> Result<Team, TeamError> {
        crate::db::transaction(conn, |conn| {
            let t = now();
            let team = diesel::insert_into(teams::table)
                .values((
                    teams::org_id.eq(org.0),
                    teams::team_id.eq(team_id),
                    teams::name.eq(name),
                    teams::default_role.eq(default_role.as_str()),
                    teams::created_at.eq(t),
                    teams::updated_at.eq(t),
                ))
                .returning(teams::all_columns)
                .get_result::<Team>(conn)
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        TeamError::IdTaken
                    } else {
                        TeamError::Db(e)
                    }
                })?;
            audit::record(
                conn,
                Some(org),
                actor,
                EventKind::TeamCreate,
                &target(&team),
                serde_json::json!({ "name": name, "default_role": default_role.as_str() }),
            )?;
            Ok(team)
        })
    }

    /// The team `team_id` of the organization.
    pub fn find(conn: &mut DbConn, org: OrgId, team_id: &str) -> QueryResult<Option<Team>> {
        teams::table
            .filter(teams::org_id.eq(org.0))
            .filter(teams::team_id.eq(team_id.trim()))
            .select(Team::as_select())
            .first(conn)
            .optional()
    }

    /// A page of the organization's teams, by id, whose id or name contains `search`,
    /// with their member and app counts (three statements whatever the page size).
    pub fn list(
        conn: &mut DbConn,
        org: OrgId,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<TeamSummary>> {
        let mut q = teams::table
            .filter(teams::org_id.eq(org.0))
            .select(Team::as_select())
            .order(teams::team_id.asc())
            .offset(offset)
            .limit(limit)
            .into_boxed();
        let search = search.trim();
        if !search.is_empty() {
            let pattern = format!(
                "%{}%",
                crate::models::app::escape_like(&search.to_lowercase())
            );
            q = q.filter(
                lower(teams::team_id)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(teams::name).like(pattern).escape('\\')),
            );
        }
        let found: Vec<Team> = q.load(conn)?;
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = found.iter().map(|t| t.id).collect();
        let member_counts: Vec<(i64, i64)> = team_members::table
            .filter(team_members::team_id.eq_any(&ids))
            .group_by(team_members::team_id)
            .select((team_members::team_id, diesel::dsl::count_star()))
            .load(conn)?;
        let app_counts: Vec<(i64, i64)> = team_apps::table
            .filter(team_apps::team_id.eq_any(&ids))
            .group_by(team_apps::team_id)
            .select((team_apps::team_id, diesel::dsl::count_star()))
            .load(conn)?;
        let count = |counts: &[(i64, i64)], id: i64| {
            counts
                .iter()
                .find(|(t, _)| *t == id)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        };
        Ok(found
            .into_iter()
            .map(|team| TeamSummary {
                members: count(&member_counts, team.id),
                apps: count(&app_counts, team.id),
                team,
            })
            .collect())
    }

    /// Renames the team and sets its default role.
    pub fn update(
        conn: &mut DbConn,
        team: &Team,
        name: &str,
        default_role: TeamRole,
        actor: &AuditActor,
    ) -> QueryResult<Team> {
        crate::db::transaction(conn, |conn| {
            let updated = diesel::update(teams::table.find(team.id))
                .set((
                    teams::name.eq(name),
                    teams::default_role.eq(default_role.as_str()),
                    teams::updated_at.eq(now()),
                ))
                .returning(teams::all_columns)
                .get_result::<Team>(conn)?;
            audit::record(
                conn,
                Some(team.org()),
                actor,
                EventKind::TeamUpdate,
                &target(team),
                serde_json::json!({
                    "name": { "from": team.name, "to": name },
                    "default_role": { "from": team.default_role, "to": default_role.as_str() },
                }),
            )?;
            Ok(updated)
        })
    }

    /// Restricts the team's members to apps carrying all of `labels` (none: lifts it).
    pub fn set_restriction(
        conn: &mut DbConn,
        team: &Team,
        labels: &[String],
        actor: &AuditActor,
    ) -> QueryResult<Team> {
        crate::db::transaction(conn, |conn| {
            let updated = diesel::update(teams::table.find(team.id))
                .set((
                    teams::restricted_labels.eq(labels::store(labels)),
                    teams::updated_at.eq(now()),
                ))
                .returning(teams::all_columns)
                .get_result::<Team>(conn)?;
            audit::record(
                conn,
                Some(team.org()),
                actor,
                EventKind::TeamUpdate,
                &target(team),
                serde_json::json!({
                    "restricted_labels": { "from": team.restriction(), "to": labels },
                }),
            )?;
            Ok(updated)
        })
    }

    /// Deletes the team with its memberships and grants.
    pub fn delete(conn: &mut DbConn, team: &Team, actor: &AuditActor) -> QueryResult<()> {
        crate::db::transaction(conn, |conn| {
            diesel::delete(team_members::table.filter(team_members::team_id.eq(team.id)))
                .execute(conn)?;
            diesel::delete(team_apps::table.filter(team_apps::team_id.eq(team.id)))
                .execute(conn)?;
            diesel::delete(teams::table.find(team.id)).execute(conn)?;
            audit::record(
                conn,
                Some(team.org()),
                actor,
                EventKind::TeamDelete,
                &target(team),
                serde_json::json!({ "name": team.name }),
            )?;
            Ok(())
        })
    }
}

/// The user's grants and label restrictions in their organization, in one
/// statement (one row per grant of each of their teams, or per team without
/// grants). Runs on every request of a member who is not an admin.
pub fn access(conn: &mut DbConn, user: UserId, org: OrgId) -> QueryResult<TeamAccess> {
    let rows: Vec<(String, String, Option<i64>, Option<String>)> = team_members::table
        .inner_join(teams::table)
        .left_join(team_apps::table.on(team_apps::team_id.eq(team_members::team_id)))
        .filter(team_members::user_id.eq(user.0))
        .filter(teams::org_id.eq(org.0))
        .select((
            teams::restricted_labels,
            teams::default_role,
            team_apps::app_id.nullable(),
            team_apps::role.nullable(),
        ))
        .load(conn)?;
    Ok(TeamAccess::from_rows(rows.into_iter().map(
        |(restriction, default_role, app, role)| {
            let role = role
                .as_deref()
                .and_then(TeamRole::parse)
                .or_else(|| TeamRole::parse(&default_role))
                .unwrap_or(TeamRole::LabelerWorker);
            (restriction, app, role)
        },
    )))
}

/// Deletes the organization's teams with their members and grants (the
/// organization is being deleted). Runs inside the caller's transaction.
pub fn delete_all(conn: &mut DbConn, org: OrgId) -> QueryResult<()> {
    let org_teams = teams::table
        .filter(teams::org_id.eq(org.0))
        .select(teams::id);
    diesel::delete(team_members::table.filter(team_members::team_id.eq_any(org_teams)))
        .execute(conn)?;
    let org_teams = teams::table
        .filter(teams::org_id.eq(org.0))
        .select(teams::id);
    diesel::delete(team_apps::table.filter(team_apps::team_id.eq_any(org_teams))).execute(conn)?;
    diesel::delete(teams::table.filter(teams::org_id.eq(org.0))).execute(conn)?;
    Ok(())
}

/// Records a `team.member_remove` for each team of the organization the user is
/// in (they are leaving it, or being removed): call it in the transaction, before
/// [`drop_member`] deletes the rows.
pub fn record_leaving(
    conn: &mut DbConn,
    org: OrgId,
    user: UserId,
    handle: &str,
    reason: &str,
    actor: &AuditActor,
) -> QueryResult<()> {
    let theirs: Vec<Team> = teams::table
        .inner_join(team_members::table)
        .filter(teams::org_id.eq(org.0))
        .filter(team_members::user_id.eq(user.0))
        .select(Team::as_select())
        .load(conn)?;
    for team in theirs {
        audit::record(
            conn,
            Some(org),
            actor,
            EventKind::TeamMemberRemove,
            &target(&team),
            serde_json::json!({ "user_id": user.0, "user": handle, "reason": reason }),
        )?;
    }
    Ok(())
}

/// Takes the user out of every team of the organization (they leave it or are
/// removed). Runs inside the caller's transaction.
pub fn drop_member(conn: &mut DbConn, org: OrgId, user: UserId) -> QueryResult<usize> {
    let org_teams = teams::table
        .filter(teams::org_id.eq(org.0))
        .select(teams::id);
    diesel::delete(
        team_members::table
            .filter(team_members::user_id.eq(user.0))
            .filter(team_members::team_id.eq_any(org_teams)),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        assert_eq!(validate_team_id(" ml-team_1 ").as_deref(), Ok("ml-team_1"));
        assert!(validate_team_id("").is_err());
        assert!(validate_team_id("a b").is_err());
        assert!(validate_team_id(&"x".repeat(51)).is_err());
        assert_eq!(validate_team_name("  ", "t1").as_deref(), Ok("t1"));
        assert!(validate_team_name("a\u{7}", "t").is_err());
    }
}
