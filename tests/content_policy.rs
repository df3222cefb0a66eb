//! Walks the README's app-content table: every cell is checked against the
//! policy's `decide`, then enforced over HTTP by a user in that relation, on a
//! private app holding a private model and a public one.

use atrium::auth::policy::{decide, Action, Decision, Relation};

use crate::support::content::create_model;
use crate::support::teams::member_in;
use crate::support::{Client, TestApp};

const START: &str = "<!-- content-policy-table -->";
const END: &str = "<!-- /content-policy-table -->";

fn cell(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "yes",
        Decision::Forbidden => "403",
        Decision::Hidden => "404",
    }
}

fn readme_table() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme.find(START).expect("README lacks the content table") + START.len();
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

#[test]
fn readme_content_table_matches_the_policy() {
    let table = readme_table();
    let expected = crate::policy_table::expected_table(&Action::CONTENT);
    assert!(
        table.len() == Relation::ALL.len() + 1,
        "README rows differ; the policy's table is:\n{expected}"
    );
    let header: Vec<&str> = table[0][1..].iter().map(String::as_str).collect();
    let labels: Vec<&str> = Action::CONTENT.iter().map(|a| a.label()).collect();
    assert_eq!(header, labels, "README columns differ from Action::CONTENT");
    let rows: Vec<&str> = table[1..].iter().map(|r| r[0].as_str()).collect();
    let rel_labels: Vec<&str> = Relation::ALL.iter().map(|r| r.label()).collect();
    assert_eq!(rows, rel_labels, "README rows differ:\n{expected}");
    for (rel, row) in Relation::ALL.iter().zip(&table[1..]) {
        for (action, got) in Action::CONTENT.iter().zip(&row[1..]) {
            assert_eq!(
                got,
                cell(decide(*rel, *action)),
                "README cell {} × {}:\n{expected}",
                rel.label(),
                action.label()
            );
        }
    }
}

struct World {
    _app: TestApp,
    actor: Client,
    signed_in: bool,
}

fn world(rel: Relation) -> World {
    let app = TestApp::start_with(|c| c.job_workers = 0);
    let alice = app.signup("alice");
    let boss = app.org_with_admin("acme", "boss");
    for (client, owner) in [(&alice, "alice"), (&boss, "acme")] {
        app.create_app(client, owner, "priv", "priv");
        for m in ["mine", "pubm"] {
            assert_eq!(
                create_model(client, owner, "priv", m, "text-classifier", &["a", "b"]).status,
                303
            );
        }
        let r = client.post_form(
            &format!("/{owner}/priv/models/pubm/visibility"),
            &[("visibility", "public")],
        );
        assert_eq!(r.status, 303);
    }
    let (actor, signed_in) = match rel {
        Relation::Anonymous => (app.client(), false),
        Relation::Stranger => (app.signup("eve"), true),
        Relation::Owner => (alice, true),
        member => (member_in(&app, &boss, "acme", member, &["priv"]), true),
    };
    World {
        _app: app,
        actor,
        signed_in,
    }
}

fn perform(w: &World, action: Action, ns: &str) -> (u16, String) {
    let c = &w.actor;
    let predict = |model: &str| {
        c.post_multipart(
            &format!("/{ns}/priv/models/{model}/predict"),
            &[("text", "hello")],
            &[],
            true,
        )
    };
    let p = match action {
        Action::ReadContent => c.get(&format!("/{ns}/priv/inputs")),
        Action::EditInputs => c.post_form(&format!("/{ns}/priv/concepts"), &[("id", "fresh")]),
        Action::EditModels => {
            c.post_form(&format!("/{ns}/priv/models/mine"), &[("name", "Renamed")])
        }
        Action::TrainModel => c.post_form(&format!("/{ns}/priv/models/mine/train"), &[]),
        Action::Predict => predict("mine"),
        Action::StarModel => c.post_form(
            &format!("/{ns}/priv/models/mine/star"),
            &[("starred", "true")],
        ),
        Action::ReadPublicModel => c.get(&format!("/{ns}/priv/models/pubm")),
        Action::PredictPublicModel => predict("pubm"),
        other => panic!("{other:?} is walked by tests/policy_table.rs"),
    };
    (p.status, p.location())
}

fn check(w: &World, rel: Relation, action: Action, ns: &str) {
    let (status, location) = perform(w, action, ns);
    let what = format!(
        "{} × {} on /{ns}: got {status} {location}",
        rel.label(),
        action.label()
    );
    let predicts = matches!(action, Action::Predict | Action::PredictPublicModel);
    match decide(rel, action) {
        Decision::Allow if predicts => {
            // Allowed to ask; the untrained model answers with a message.
            assert_eq!(status, 422, "{what}")
        }
        Decision::Allow if matches!(action, Action::ReadContent | Action::ReadPublicModel) => {
            assert_eq!(status, 200, "{what}")
        }
        Decision::Allow => assert_eq!(status, 303, "{what}"),
        Decision::Forbidden => assert_eq!(status, 403, "{what}"),
        Decision::Hidden if w.signed_in => assert_eq!(status, 404, "{what}"),
        Decision::Hidden => assert!(
            status == 404 || (status == 303 && location.starts_with("/login")),
            "{what}"
        ),
    }
}

fn namespaces(rel: Relation) -> &'static [&'static str] {
    match rel {
        Relation::Anonymous | Relation::Stranger => &["alice", "acme"],
        Relation::Owner => &["alice"],
        Relation::Member(_) | Relation::Granted(_) | Relation::Restricted(_) => &["acme"],
    }
}

#[test]
fn every_content_cell_is_enforced_over_http() {
    std::thread::scope(|s| {
        for rel in Relation::ALL {
            s.spawn(move || {
                let w = world(rel);
                for ns in namespaces(rel) {
                    for action in Action::CONTENT {
                        check(&w, rel, action, ns);
                    }
                }
            });
        }
    });
}
