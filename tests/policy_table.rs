//! Walks the README's role × action table: every cell is checked against the
//! policy module's `decide`, and then enforced for real over HTTP by a user in
//! that relation, so the documentation, the policy and the handlers agree.

use atrium::auth::policy::{decide, Action, Decision, Relation, Role, TeamRole};

use crate::support::teams::member_in;
use crate::support::{Client, TestApp};

const START: &str = "<!-- policy-table -->";
const END: &str = "<!-- /policy-table -->";

fn cell(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "yes",
        Decision::Forbidden => "403",
        Decision::Hidden => "404",
    }
}

/// The table between the README markers, as rows of cells.
fn readme_table() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find(START)
        .expect("README lacks the policy-table marker")
        + START.len();
    let end = readme[start..]
        .find(END)
        .expect("README lacks the closing marker")
        + start;
    readme[start..end]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The table as `decide` has it, in the README's markdown (shown when they differ).
pub fn expected_table(actions: &[Action]) -> String {
    let mut out = format!(
        "| who ↓ · may → | {} |\n|---|{}\n",
        actions
            .iter()
            .map(|a| a.label())
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(actions.len())
    );
    for rel in Relation::ALL {
        let cells: Vec<&str> = actions.iter().map(|a| cell(decide(rel, *a))).collect();
        out.push_str(&format!("| {} | {} |\n", rel.label(), cells.join(" | ")));
    }
    out
}

#[test]
fn readme_table_matches_the_policy() {
    let table = readme_table();
    let expected = expected_table(&Action::ALL);
    assert!(
        table.len() == Relation::ALL.len() + 1,
        "README rows differ; the policy's table is:\n{expected}"
    );
    let header: Vec<&str> = table[0][1..].iter().map(String::as_str).collect();
    let labels: Vec<&str> = Action::ALL.iter().map(|a| a.label()).collect();
    assert_eq!(header, labels, "README columns differ:\n{expected}");
    let rows: Vec<&str> = table[1..].iter().map(|r| r[0].as_str()).collect();
    let rel_labels: Vec<&str> = Relation::ALL.iter().map(|r| r.label()).collect();
    assert_eq!(rows, rel_labels, "README rows differ:\n{expected}");
    for (rel, row) in Relation::ALL.iter().zip(&table[1..]) {
        for (action, got) in Action::ALL.iter().zip(&row[1..]) {
            assert_eq!(
                got,
                cell(decide(*rel, *action)),
                "README cell {} × {}; the policy's table is:\n{expected}",
                rel.label(),
                action.label()
            );
        }
    }
}

/// One world: alice (personal apps), org acme (admin boss), and the actor.
struct World {
    /// Kept alive for the duration of the checks (dropping it stops the server).
    _app: TestApp,
    actor: Client,
    signed_in: bool,
}

fn world(rel: Relation) -> World {
    let app = TestApp::start();
    let alice = app.signup("alice");
    let boss = app.org_with_admin("acme", "boss");
    for (client, owner) in [(&alice, "alice"), (&boss, "acme")] {
        for id in ["priv", "pub", "victim"] {
            app.create_app(client, owner, id, id);
        }
        let r = client.post_form(
            &format!("/{owner}/pub"),
            &[("name", "pub"), ("visibility", "public")],
        );
        assert_eq!(r.status, 303);
    }
    let (actor, signed_in) = match rel {
        Relation::Anonymous => (app.client(), false),
        Relation::Stranger => (app.signup("eve"), true),
        Relation::Owner => (alice, true),
        member => (
            member_in(&app, &boss, "acme", member, &["priv", "pub", "victim"]),
            true,
        ),
    };
    World {
        _app: app,
        actor,
        signed_in,
    }
}

/// Performs `action` on `ns` (a user or org handle) and returns the status.
fn perform(w: &World, action: Action, ns: &str) -> (u16, String) {
    let c = &w.actor;
    let p = match action {
        Action::ListApps => c.get(&format!("/{ns}/apps")),
        Action::ReadPrivateApp => c.get(&format!("/{ns}/priv")),
        Action::ReadPublicApp => c.get(&format!("/{ns}/pub")),
        Action::CreateApp => c.post_form(
            &format!("/{ns}/apps"),
            &[("id", "fresh"), ("name", "Fresh")],
        ),
        Action::UpdateApp => c.post_form(
            &format!("/{ns}/priv"),
            &[("name", "Renamed"), ("visibility", "private")],
        ),
        Action::DeleteApp => c.post_form(&format!("/{ns}/victim/delete"), &[("confirm", "victim")]),
        Action::DuplicateApp => c.post_form(
            &format!("/{ns}/priv/duplicate"),
            &[("new_id", "copy1"), ("new_name", "Copy")],
        ),
        Action::PinApp => c.post_form(&format!("/{ns}/priv/pin"), &[("pinned", "true")]),
        Action::ViewOrg => c.get(&format!("/{ns}/account")),
        Action::UpdateOrg => c.post_form(
            &format!("/{ns}/account"),
            &[("name", "New name"), ("billing_email", "b@x.co")],
        ),
        Action::DeleteOrg => c.post_form(&format!("/{ns}/account/delete"), &[("confirm", ns)]),
        Action::LeaveOrg => c.post_form(&format!("/{ns}/account/leave"), &[]),
        Action::ViewMembers => c.get(&format!("/{ns}/account/members")),
        Action::ManageMembers => c.post_form(
            &format!("/{ns}/account/members/invite"),
            &[("emails", "newcomer@example.com"), ("role", "org_user")],
        ),
        Action::ViewSecurity => c.get(&format!("/{ns}/account/security")),
        Action::ManageSecurity => c.post_form(
            &format!("/{ns}/account/security/password-policy"),
            &[
                ("minimum_length", "10"),
                ("maximum_length", "128"),
                ("password_life_span_days", "0"),
                ("password_reuse_epoch", "0"),
                ("numeric_needed", "on"),
            ],
        ),
        Action::ViewTeams => c.get(&format!("/{ns}/account/teams")),
        Action::ManageTeams => c.post_form(
            &format!("/{ns}/account/teams"),
            &[("id", "walkers"), ("default_role", "labeler_worker")],
        ),
        content => panic!("{content:?} is walked by tests/content_policy.rs"),
    };
    (p.status, p.location())
}

fn check(w: &World, rel: Relation, action: Action, ns: &str) {
    let expected = decide(rel, action);
    let (status, location) = perform(w, action, ns);
    let what = format!(
        "{} × {} on /{ns}: got {status} {location}",
        rel.label(),
        action.label()
    );
    let is_get = matches!(
        action,
        Action::ListApps
            | Action::ReadPrivateApp
            | Action::ReadPublicApp
            | Action::ViewOrg
            | Action::ViewMembers
            | Action::ViewSecurity
            | Action::ViewTeams
    );
    match expected {
        Decision::Allow if is_get => assert_eq!(status, 200, "{what}"),
        Decision::Allow => assert_eq!(status, 303, "{what}"),
        Decision::Forbidden => assert_eq!(status, 403, "{what}"),
        Decision::Hidden if w.signed_in => assert_eq!(status, 404, "{what}"),
        Decision::Hidden => assert!(
            status == 404 || (status == 303 && location.starts_with("/login")),
            "{what}"
        ),
    }
    if action == Action::ListApps {
        let ids = w.actor.get(&format!("/{ns}/apps")).app_ids();
        let sees_public = decide(rel, Action::ReadPublicApp) == Decision::Allow;
        assert_eq!(
            ids.contains(&"pub".to_owned()),
            sees_public,
            "{what}: public app listed?"
        );
        let sees_private = decide(rel, Action::ReadPrivateApp) == Decision::Allow;
        assert_eq!(
            ids.contains(&"priv".to_owned()),
            sees_private,
            "{what}: private app listed?"
        );
    }
}

/// The namespaces a relation is checked against.
fn namespaces(rel: Relation) -> &'static [&'static str] {
    match rel {
        Relation::Anonymous | Relation::Stranger => &["alice", "acme"],
        Relation::Owner => &["alice"],
        Relation::Member(_) | Relation::Granted(_) | Relation::Restricted(_) => &["acme"],
    }
}

#[test]
fn every_cell_of_the_table_is_enforced_over_http() {
    let destructive = [Action::DeleteOrg, Action::LeaveOrg];
    std::thread::scope(|s| {
        for rel in Relation::ALL {
            s.spawn(move || {
                let w = world(rel);
                for ns in namespaces(rel) {
                    for action in Action::ALL.into_iter().filter(|a| !destructive.contains(a)) {
                        check(&w, rel, action, ns);
                    }
                }
                // A refused destructive action changes nothing: checked here too.
                let (allowed, refused): (Vec<Action>, Vec<Action>) = destructive
                    .into_iter()
                    .partition(|a| decide(rel, *a) == Decision::Allow);
                for action in refused {
                    for ns in namespaces(rel) {
                        check(&w, rel, action, ns);
                    }
                }
                // The last allowed one ends this world; the others get their own.
                if let Some((last, rest)) = allowed.split_last() {
                    for ns in namespaces(rel) {
                        check(&w, rel, *last, ns);
                    }
                    for action in rest {
                        let w = world(rel);
                        for ns in namespaces(rel) {
                            check(&w, rel, *action, ns);
                        }
                    }
                }
            });
        }
    });
    // The relations the walk covered are all the roles there are, each team role
    // granted to a Team Contributor, and each role under a label restriction.
    assert_eq!(
        Role::ALL.len() * 2 + TeamRole::ALL.len() + 3,
        Relation::ALL.len()
    );
}
