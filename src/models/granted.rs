//! "The app is granted to one of this user's teams", as a condition on `apps` rows
//! that the database checks with one index probe per app.
//!
//! Written as SQL rather than built from the DSL because it refers to the outer
//! `apps` row (a correlated subquery, which diesel's DSL does not type), and
//! shaped for the planner: `team_apps.team_id + 0` keeps SQLite from probing the
//! `(team_id, app_id)` key once per team of the user (a hundred seeks per app for
//! a member of a hundred teams); it looks the app up in `team_apps_app` instead
//! and tests the team against the user's teams, read once per statement. This
//! beats `apps.id IN (every granted app)`, which builds the whole grant list on
//! every request: 38 µs against 363 µs for a page of 25 out of 1,000 grants
//! (docs/PERFORMANCE.md). It does not mark the statement uncacheable, as a raw
//! `sql()` literal would.

use diesel::expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool};
use diesel::QueryResult;

use crate::db::schema::apps;
use crate::db::MultiBackend;

/// True for the `apps` rows granted to a team the user belongs to.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct GrantedTo(pub i64);

impl Expression for GrantedTo {
    type SqlType = Bool;
}

impl AppearsOnTable<apps::table> for GrantedTo {}

impl<GB> ValidGrouping<GB> for GrantedTo {
    type IsAggregate = is_aggregate::Never;
}

impl QueryFragment<MultiBackend> for GrantedTo {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql(
            "EXISTS (SELECT 1 FROM team_apps WHERE team_apps.app_id = apps.id \
             AND team_apps.team_id + 0 IN (SELECT team_members.team_id FROM team_members \
             WHERE team_members.user_id = ",
        );
        out.push_bind_param::<BigInt, _>(&self.0)?;
        out.push_sql("))");
        Ok(())
    }
}
