//! Teams through the real forms, as an admin (or Organization Contributor) does it.

use super::Client;

/// Creates team `id` in `org` with a default team role.
pub fn create_team(c: &Client, org: &str, id: &str, default_role: &str) {
    let r = c.post_form(
        &format!("/{org}/account/teams"),
        &[("id", id), ("name", id), ("default_role", default_role)],
    );
    assert_eq!(r.status, 303, "creating team {id}: {}", r.body);
}

/// Adds the org members `handles` to the team.
pub fn add_to_team(c: &Client, org: &str, team: &str, handles: &[&str]) {
    let fields: Vec<(&str, &str)> = handles.iter().map(|h| ("member", *h)).collect();
    let r = c.post_form(&format!("/{org}/account/teams/{team}/members/add"), &fields);
    assert_eq!(r.status, 303, "adding {handles:?} to {team}: {}", r.body);
}

/// Grants the org app to the team with `role` ("default" for the team's default).
pub fn grant(c: &Client, org: &str, team: &str, app: &str, role: &str) {
    let r = c.post_form(
        &format!("/{org}/account/teams/{team}/apps"),
        &[("app", app), ("role", role)],
    );
    assert_eq!(r.status, 303, "granting {app} to {team}: {}", r.body);
}

/// Restricts the team to apps carrying `labels` (comma separated; "" lifts it).
pub fn restrict(c: &Client, org: &str, team: &str, labels: &str) {
    let r = c.post_form(
        &format!("/{org}/account/teams/{team}/restriction"),
        &[("labels", labels)],
    );
    assert_eq!(r.status, 303, "restricting {team}: {}", r.body);
}

/// Sets an app's compliance labels in App Settings.
pub fn label_app(c: &Client, owner: &str, app: &str, labels: &str) {
    let r = c.post_form(
        &format!("/{owner}/{app}/settings/labels"),
        &[("labels", labels)],
    );
    assert_eq!(r.status, 303, "labelling {owner}/{app}: {}", r.body);
}

/// Signs `member` up and puts them in the org-side relation `rel` to `apps` of
/// `org` (whose admin is `boss`): a role; a Team Contributor in a team granted
/// the apps with that team role; or a role with every team role granted on the
/// apps, plus a team restricted to `hipaa`, a label the apps lack.
pub fn member_in(
    app: &super::TestApp,
    boss: &Client,
    org: &str,
    rel: atrium::auth::policy::Relation,
    apps: &[&str],
) -> Client {
    use atrium::auth::policy::{Relation, Role, TeamRole};
    let c = app.signup("member");
    match rel {
        Relation::Member(role) => app.add_member(org, "member", role.as_str()),
        Relation::Granted(team_role) => {
            app.add_member(org, "member", Role::TeamContributor.as_str());
            create_team(boss, org, "granted", team_role.as_str());
            add_to_team(boss, org, "granted", &["member"]);
            for a in apps {
                grant(boss, org, "granted", a, "default");
            }
        }
        Relation::Restricted(role) => {
            app.add_member(org, "member", role.as_str());
            for team_role in TeamRole::ALL {
                let team = format!("g-{}", team_role.as_str());
                create_team(boss, org, &team, team_role.as_str());
                add_to_team(boss, org, &team, &["member"]);
                for a in apps {
                    grant(boss, org, &team, a, team_role.as_str());
                }
            }
            create_team(boss, org, "siloed", "full_access");
            add_to_team(boss, org, "siloed", &["member"]);
            restrict(boss, org, "siloed", "hipaa");
        }
        other => panic!("{other:?} is not a member relation"),
    }
    c
}
