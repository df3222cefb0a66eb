//! The apps granted to a team, each with a team role (or the team's default):
//! only apps the team's organization owns can be granted; granting again changes
//! the role; every grant, change and revoke is audited.

use diesel::prelude::*;

use super::{target, Team, TeamError};
use crate::auth::teams::TeamRole;
use crate::db::schema::{apps, team_apps};
use crate::db::DbConn;
use crate::models::app::App;
use crate::models::audit::{self, AuditActor, EventKind};
use crate::models::now;

/// A granted app as the team page shows it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub app: App,
    /// The role set on the grant; `None` follows the team's default.
    pub role: Option<TeamRole>,
    /// The role in effect.
    pub effective: TeamRole,
}

impl Team {
    /// The apps granted to the team, by app id.
    pub fn grants(&self, conn: &mut DbConn) -> QueryResult<Vec<Grant>> {
        let default = self.default_role();
        team_apps::table
            .inner_join(apps::table)
            .filter(team_apps::team_id.eq(self.id))
            .select((App::as_select(), team_apps::role))
            .order(apps::handle.asc())
            .load::<(App, Option<String>)>(conn)
            .map(|rows| {
                rows.into_iter()
                    .map(|(app, role)| {
                        let role = role.as_deref().and_then(TeamRole::parse);
                        Grant {
                            app,
                            role,
                            effective: role.unwrap_or(default),
                        }
                    })
                    .collect()
            })
    }

    /// Grants the organization's app `app_handle` with `role` (`None`: the team's
    /// default), or changes the role of an existing grant. Returns the app.
    pub fn grant(
        &self,
        conn: &mut DbConn,
        app_handle: &str,
        role: Option<TeamRole>,
        actor: &AuditActor,
    ) -> Result<App, TeamError> {
        crate::db::transaction(conn, |conn| {
            let app = App::find(
                conn,
                crate::models::AccountId(self.org_id),
                app_handle.trim(),
            )?
            .ok_or_else(|| TeamError::NotOrgApp(app_handle.trim().to_owned()))?;
            let before: Option<Option<String>> = team_apps::table
                .filter(team_apps::team_id.eq(self.id))
                .filter(team_apps::app_id.eq(app.id))
                .select(team_apps::role)
                .first(conn)
                .optional()?;
            let role_str = role.map(TeamRole::as_str);
            match &before {
                Some(_) => {
                    diesel::update(
                        team_apps::table
                            .filter(team_apps::team_id.eq(self.id))
                            .filter(team_apps::app_id.eq(app.id)),
                    )
                    .set(team_apps::role.eq(role_str))
                    .execute(conn)?;
                }
                None => {
                    diesel::insert_into(team_apps::table)
                        .values((
                            team_apps::team_id.eq(self.id),
                            team_apps::app_id.eq(app.id),
                            team_apps::role.eq(role_str),
                            team_apps::created_at.eq(now()),
                        ))
                        .execute(conn)?;
                }
            }
            audit::record(
                conn,
                Some(self.org()),
                actor,
                EventKind::TeamAppAdd,
                &target(self),
                serde_json::json!({
                    "app": app.handle,
                    "role": role_str.unwrap_or("default"),
                    "previous_role": before.map(|r| r.unwrap_or_else(|| "default".to_owned())),
                }),
            )?;
            Ok(app)
        })
    }

    /// Revokes the grant of `app_handle`.
    pub fn revoke(
        &self,
        conn: &mut DbConn,
        app_handle: &str,
        actor: &AuditActor,
    ) -> Result<(), TeamError> {
        crate::db::transaction(conn, |conn| {
            let app = App::find(
                conn,
                crate::models::AccountId(self.org_id),
                app_handle.trim(),
            )?
            .ok_or_else(|| TeamError::NotInTeam(app_handle.trim().to_owned()))?;
            let n = diesel::delete(
                team_apps::table
                    .filter(team_apps::team_id.eq(self.id))
                    .filter(team_apps::app_id.eq(app.id)),
            )
            .execute(conn)?;
            if n == 0 {
                return Err(TeamError::NotInTeam(app.handle));
            }
            audit::record(
                conn,
                Some(self.org()),
                actor,
                EventKind::TeamAppRemove,
                &target(self),
                serde_json::json!({ "app": app.handle }),
            )?;
            Ok(())
        })
    }
}
