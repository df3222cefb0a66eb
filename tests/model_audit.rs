//! Model changes in the organization's audit log: created, changed (visibility
//! included), training started, a version deleted and the model deleted — through
//! the JSON API and through the pages — with the audit log screen's type filter;
//! apps of a user (not an organization) record nothing.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::api_support::{token, Api};
use crate::support::content::{create_model, labelled_texts};
use crate::support::invites::audit_events;
use crate::support::TestApp;

const LAB: &str = "/v2/users/acme/apps/lab";

fn post_texts(api: &Api, base: &str) {
    let inputs: Vec<Value> = labelled_texts()
        .iter()
        .map(|(t, c)| json!({ "data": { "text": { "raw": t }, "concepts": [{ "id": c, "value": 1 }] } }))
        .collect();
    let r = api.post(&format!("{base}/inputs"), json!({ "inputs": inputs }));
    assert_eq!(r.code(), 10000, "{}", r.json);
}

fn wait_trained(api: &Api, base: &str, model: &str, version: &str) {
    let started = Instant::now();
    loop {
        let got = api.get(&format!("{base}/models/{model}/versions/{version}"));
        let code = got.json["model_version"]["status"]["code"].as_i64();
        if !matches!(code, Some(21103 | 21101)) {
            assert_eq!(code, Some(21100), "{}", got.json);
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "still training"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// (event type, target label, details) of the org's model events, oldest first.
fn model_events(app: &TestApp, org: &str) -> Vec<(String, String, Value)> {
    audit_events(app, org)
        .into_iter()
        .filter(|e| e.target_kind == "model")
        .map(|e| {
            let details = e.details_json();
            (e.event_type, e.target_label, details)
        })
        .collect()
}

#[test]
fn model_changes_through_the_api_are_audited() {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    app.create_app(&boss, "acme", "lab", "Lab");
    let api = Api::new(&app, Some(&token(&app, "boss")));
    post_texts(&api, LAB);
    let created = api.post(
        &format!("{LAB}/models"),
        json!({ "model": { "id": "topics", "model_type_id": "text-classifier",
            "output_info": { "data": { "concepts": [{ "id": "sports" }, { "id": "cooking" }] } } } }),
    );
    assert_eq!(created.code(), 10000, "{}", created.json);
    let patched = api.patch(
        &format!("{LAB}/models"),
        json!({ "action": "overwrite", "models": [{ "id": "topics", "name": "Topic finder",
            "visibility": { "gettable": "PUBLIC" } }] }),
    );
    assert_eq!(patched.code(), 10000, "{}", patched.json);
    let trained = api.post(&format!("{LAB}/models/topics/versions"), json!({}));
    assert_eq!(trained.code(), 10000, "{}", trained.json);
    let version = trained.json["model"]["model_version"]["id"]
        .as_str()
        .expect("version id")
        .to_owned();
    wait_trained(&api, LAB, "topics", &version);
    let gone = api.delete(&format!("{LAB}/models/topics/versions/{version}"));
    assert_eq!(gone.code(), 10000, "{}", gone.json);
    let deleted = api.delete(&format!("{LAB}/models/topics"));
    assert_eq!(deleted.code(), 10000, "{}", deleted.json);

    let events = model_events(&app, "acme");
    let kinds: Vec<&str> = events.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "model.create",
            "model.update",
            "model.train",
            "model.version_delete",
            "model.delete"
        ]
    );
    assert!(events
        .iter()
        .all(|(_, label, _)| label == "acme/lab/topics"));
    let (_, _, create) = &events[0];
    assert_eq!(create["model_type"], "text-classifier");
    assert_eq!(create["concepts"], json!(["sports", "cooking"]));
    let (_, _, update) = &events[1];
    assert_eq!(
        update["visibility"],
        json!({ "from": "private", "to": "public" })
    );
    assert_eq!(
        update["name"],
        json!({ "from": "topics", "to": "Topic finder" })
    );
    assert_eq!(update["action"], "overwrite");
    assert_eq!(events[2].2["version"], version);
    assert_eq!(events[3].2["version"], version);
    let actors: Vec<String> = audit_events(&app, "acme")
        .into_iter()
        .filter(|e| e.target_kind == "model")
        .map(|e| e.actor_label)
        .collect();
    assert!(actors.iter().all(|a| a == "boss"), "{actors:?}");

    // The audit log screen offers the new types and filters by them.
    let page = boss.get("/acme/account/security/audit-log");
    assert_eq!(page.status, 200, "{}", page.body);
    let offered = page.attrs("select[name=type] option", "value");
    for kind in [
        "model.create",
        "model.update",
        "model.delete",
        "model.train",
        "model.version_delete",
    ] {
        assert!(offered.iter().any(|o| o == kind), "{kind} not offered");
    }
    let filtered = boss.get("/acme/account/security/audit-log?type=model.update");
    assert_eq!(
        filtered.attrs("[data-testid=audit-log] tbody tr", "data-event"),
        ["model.update"]
    );
}

#[test]
fn model_changes_through_the_pages_are_audited_for_orgs_only() {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    app.create_app(&boss, "acme", "lab", "Lab");
    let made = create_model(
        &boss,
        "acme",
        "lab",
        "pics",
        "visual-classifier",
        &["cat", "dog"],
    );
    assert_eq!(made.status, 303, "{}", made.body);
    let base = "/acme/lab/models/pics";
    let public = boss.post_form(&format!("{base}/visibility"), &[("visibility", "public")]);
    assert_eq!(public.status, 303, "{}", public.body);
    // The same visibility again changes nothing and records nothing.
    let again = boss.post_form(&format!("{base}/visibility"), &[("visibility", "public")]);
    assert_eq!(again.status, 303, "{}", again.body);
    let edited = boss.post_form(
        base,
        &[
            ("name", "Pictures"),
            ("description", "Cats and dogs"),
            ("concepts", "cat"),
            ("concepts", "dog"),
        ],
    );
    assert_eq!(edited.status, 303, "{}", edited.body);
    let train = boss.post_form(&format!("{base}/train"), &[]);
    assert_eq!(train.status, 303, "{}", train.body);
    let deleted = boss.post_form(&format!("{base}/delete"), &[]);
    assert_eq!(deleted.status, 303, "{}", deleted.body);

    let events = model_events(&app, "acme");
    let kinds: Vec<&str> = events.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "model.create",
            "model.update",
            "model.update",
            "model.train",
            "model.delete"
        ]
    );
    assert_eq!(
        events[1].2,
        json!({ "visibility": { "from": "private", "to": "public" } })
    );
    assert_eq!(
        events[2].2["name"],
        json!({ "from": "pics", "to": "Pictures" })
    );
    assert_eq!(events[2].2["concepts"], json!(["cat", "dog"]));

    // A user's own app has no organization log: nothing is recorded anywhere.
    let before = app
        .state
        .pool
        .get()
        .map(|mut c| count_all(&mut c))
        .expect("conn");
    let alice = app.signup("alice");
    app.create_app(&alice, "alice", "news", "News");
    let own = create_model(
        &alice,
        "alice",
        "news",
        "topics",
        "text-classifier",
        &["a", "b"],
    );
    assert_eq!(own.status, 303, "{}", own.body);
    let after = app
        .state
        .pool
        .get()
        .map(|mut c| count_all(&mut c))
        .expect("conn");
    assert_eq!(before, after);
}

fn count_all(conn: &mut atrium::db::DbConn) -> i64 {
    use atrium::db::schema::audit_events;
    use diesel::prelude::*;
    audit_events::table
        .filter(audit_events::target_kind.eq("model"))
        .count()
        .get_result(conn)
        .expect("count")
}
