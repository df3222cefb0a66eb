//! `/v2` teams, team users, team apps, roles and myscopes: who may manage teams
//! (admins, Organization Contributors; the rest get 11101), all-or-nothing
//! writes with their audit rows, what a Team Contributor's key then reaches
//! (granted apps only, by team role, label restrictions beating grants).

use reqwest::Method;
use serde_json::{json, Value};

use crate::api_members::{acme, api};
use crate::api_support::{token_with, Api, Reply};
use crate::support::invites::audit_events;
use crate::support::TestApp;

fn ids(r: &Reply, list: &str, field: &str) -> Vec<String> {
    r.json[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list}[] in {}", r.json))
        .iter()
        .map(|t| {
            field
                .split('.')
                .fold(t, |v: &Value, k| &v[k])
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn delete_with(a: &Api, path: &str, body: Value) -> Reply {
    a.send(Method::DELETE, path, Some(&body.to_string()), &[])
}

/// acme (see `api_members::acme`) with apps p1..p3 created by ann.
fn world() -> TestApp {
    let app = TestApp::start();
    acme(&app);
    let ann = api(&app, "ann");
    for id in ["p1", "p2", "p3"] {
        let r = ann.post("/v2/users/acme/apps", json!({ "apps": [{ "id": id }] }));
        assert_eq!(r.code(), 10000, "{}", r.json);
    }
    app
}

#[test]
fn teams_are_managed_by_admins_and_org_contributors_only() {
    let app = world();
    let ann = api(&app, "ann");
    let r = ann.post(
        "/v2/organizations/acme/teams",
        json!({ "teams": [
            { "id": "labelers", "name": "Labelers", "default_role_id": "labeler_worker" },
            { "id": "siloed", "restricted_labels": ["HIPAA"] },
        ]}),
    );
    assert_eq!(r.code(), 10000, "{}", r.json);
    assert_eq!(ids(&r, "teams", "id"), ["labelers", "siloed"]);
    assert_eq!(r.json["teams"][1]["restricted_labels"], json!(["hipaa"]));
    assert_eq!(r.json["teams"][1]["default_role_id"], "labeler_worker");

    // All or nothing: a duplicate id (40010) or a bad role (11102) creates nothing.
    let r = ann.post(
        "/v2/organizations/acme/teams",
        json!({ "teams": [{ "id": "fresh" }, { "id": "labelers" }] }),
    );
    assert_eq!(r.code(), 40010, "{}", r.json);
    let r = ann.post(
        "/v2/organizations/acme/teams",
        json!({ "teams": [{ "id": "fresh", "default_role_id": "boss" }] }),
    );
    assert_eq!((r.http, r.code()), (400, 11102));
    assert!(r.details().contains("full_access"), "{}", r.details());
    let r = ann.get("/v2/organizations/acme/teams");
    assert_eq!(ids(&r, "teams", "id"), ["labelers", "siloed"]);

    // Organization Contributors manage teams too.
    let con = api(&app, "con");
    let r = con.patch(
        "/v2/organizations/acme/teams",
        json!({ "teams": [{ "id": "labelers", "name": "Label crew", "default_role_id": "labeler_lead" }] }),
    );
    assert_eq!(r.code(), 10000, "{}", r.json);
    let r = con.get("/v2/organizations/acme/teams/labelers");
    assert_eq!(r.json["team"]["name"], "Label crew");
    assert_eq!(r.json["team"]["default_role_id"], "labeler_lead");
    // Everyone else: as if the organization did not exist.
    for who in ["usr", "fin", "tc", "stranger"] {
        let a = api(&app, who);
        assert_eq!(a.get("/v2/organizations/acme/teams").code(), 11101, "{who}");
        let r = a.post(
            "/v2/organizations/acme/teams",
            json!({ "teams": [{ "id": "x" }] }),
        );
        assert_eq!(r.code(), 11101, "{who}");
    }
    // Scopes: reading needs orgs:read, changing orgs:write.
    let (_, read_only) = token_with(&app, "ann", &["orgs:read"], None);
    let ro = Api::new(&app, Some(&read_only));
    assert_eq!(ro.get("/v2/organizations/acme/teams").code(), 10000);
    let r = delete_with(
        &ro,
        "/v2/organizations/acme/teams",
        json!({ "ids": ["siloed"] }),
    );
    assert_eq!(r.code(), 11007);

    // Delete: an unknown id deletes nothing.
    let r = delete_with(
        &ann,
        "/v2/organizations/acme/teams",
        json!({ "ids": ["siloed", "nope"] }),
    );
    assert_eq!(r.code(), 11101);
    let r = delete_with(
        &ann,
        "/v2/organizations/acme/teams",
        json!({ "ids": ["siloed"] }),
    );
    assert_eq!(r.code(), 10000);
    assert_eq!(
        ids(&ann.get("/v2/organizations/acme/teams"), "teams", "id"),
        ["labelers"]
    );
    let kinds: Vec<String> = audit_events(&app, "acme")
        .into_iter()
        .map(|e| e.event_type)
        .filter(|k| k.starts_with("team."))
        .collect();
    assert_eq!(
        kinds,
        [
            "team.create",
            "team.create",
            "team.update",
            "team.update",
            "team.delete"
        ]
    );
}

#[test]
fn team_users_and_apps_decide_what_a_team_contributors_key_reaches() {
    let app = world();
    let ann = api(&app, "ann");
    let tc = api(&app, "tc");
    let r = ann.post(
        "/v2/organizations/acme/teams",
        json!({ "teams": [{ "id": "crew", "default_role_id": "model_trainer" }] }),
    );
    assert_eq!(r.code(), 10000);

    // Only the organization's members join; one outsider refuses the request.
    let r = ann.post(
        "/v2/organizations/acme/teams/crew/users",
        json!({ "user_ids": ["tc", "stranger"] }),
    );
    assert_eq!((r.http, r.code()), (400, 11102));
    assert!(r.details().contains("stranger"), "{}", r.details());
    let r = ann.get("/v2/organizations/acme/teams/crew/users");
    assert!(ids(&r, "team_users", "id").is_empty());
    let r = ann.post(
        "/v2/organizations/acme/teams/crew/users",
        json!({ "user_ids": ["tc", "usr@example.com"] }),
    );
    assert_eq!(r.code(), 10000, "{}", r.json);
    assert_eq!(ids(&r, "team_users", "id"), ["tc", "usr"]);

    // Only the org's apps can be granted.
    let r = api(&app, "stranger").post(
        "/v2/users/stranger/apps",
        json!({ "apps": [{ "id": "theirs" }] }),
    );
    assert_eq!(r.code(), 10000);
    let r = ann.post(
        "/v2/organizations/acme/teams/crew/apps",
        json!({ "apps": [{ "app_id": "p1" }, { "app_id": "theirs" }] }),
    );
    assert_eq!(r.code(), 11102, "{}", r.json);
    assert_eq!(
        tc.get("/v2/users/acme/apps").app_ids(),
        Vec::<String>::new()
    );
    let r = ann.post(
        "/v2/organizations/acme/teams/crew/apps",
        json!({ "apps": [{ "app_id": "p1" }, { "app_id": "p2", "role_id": "labeler_worker" }] }),
    );
    assert_eq!(r.code(), 10000, "{}", r.json);
    assert_eq!(ids(&r, "apps", "app.id"), ["p1", "p2"]);
    assert_eq!(
        ids(&r, "apps", "role_id"),
        ["model_trainer", "labeler_worker"]
    );
    assert_eq!(r.json["apps"][0]["role_is_default"], true);

    // The key reaches exactly the granted apps; a guessed one does not exist.
    let mut seen = tc.get("/v2/users/acme/apps").app_ids();
    seen.sort();
    assert_eq!(seen, ["p1", "p2"]);
    assert_eq!(tc.get("/v2/users/acme/apps/p3").code(), 11101);
    assert_eq!(tc.get("/v2/users/acme/apps/p3/myscopes").code(), 11101);
    // myscopes says what the team role allows, and the handlers agree.
    let trainer = tc.get("/v2/users/acme/apps/p1/myscopes");
    assert_eq!(trainer.code(), 10000);
    let scopes: Vec<&str> = trainer.json["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(scopes.contains(&"models:train"), "{scopes:?}");
    assert!(!scopes.contains(&"inputs:write"), "{scopes:?}");
    let endpoints = trainer.json["endpoints"].to_string();
    assert!(endpoints.contains("PostModelVersions") && !endpoints.contains("PostInputs"));
    let worker = tc.get("/v2/users/acme/apps/p2/myscopes").json["scopes"].to_string();
    assert!(worker.contains("inputs:write") && !worker.contains("models:train"));
    let r = tc.patch(
        "/v2/users/acme/apps/p1",
        json!({ "app": { "name": "Renamed" }, "action": "overwrite" }),
    );
    assert_eq!(
        r.code(),
        11007,
        "a Model Trainer does not edit the app: {}",
        r.json
    );

    // A label restriction beats the grant, in the API too.
    let r = ann.post(
        "/v2/organizations/acme/teams",
        json!({ "teams": [{ "id": "siloed", "restricted_labels": ["hipaa"] }] }),
    );
    assert_eq!(r.code(), 10000);
    let r = ann.post(
        "/v2/organizations/acme/teams/siloed/users",
        json!({ "user_ids": ["tc"] }),
    );
    assert_eq!(r.code(), 10000);
    assert!(tc.get("/v2/users/acme/apps").app_ids().is_empty());
    assert_eq!(tc.get("/v2/users/acme/apps/p1").code(), 11101);

    // Revoking and removing: effective on the next request.
    let r = delete_with(
        &ann,
        "/v2/organizations/acme/teams/siloed/users",
        json!({ "user_ids": ["tc"] }),
    );
    assert_eq!(r.code(), 10000);
    assert_eq!(tc.get("/v2/users/acme/apps/p1").code(), 10000);
    let r = delete_with(
        &ann,
        "/v2/organizations/acme/teams/crew/apps",
        json!({ "app_ids": ["p1"] }),
    );
    assert_eq!(r.code(), 10000);
    assert_eq!(tc.get("/v2/users/acme/apps").app_ids(), ["p2"]);
    let r = delete_with(
        &ann,
        "/v2/organizations/acme/teams/crew/apps",
        json!({ "app_ids": ["p3"] }),
    );
    assert_eq!(r.code(), 11101, "p3 was never granted");
}

#[test]
fn roles_list_org_and_team_roles_with_their_scopes() {
    let app = world();
    let usr = api(&app, "usr");
    let r = usr.get("/v2/roles?types=TEAM");
    assert_eq!(r.code(), 10000);
    assert_eq!(
        ids(&r, "roles", "id"),
        [
            "full_access",
            "model_trainer",
            "labeler_lead",
            "labeler_worker"
        ]
    );
    assert!(r.json["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .all(|x| x["type"] == "TEAM"));
    let full = r.json["roles"][0]["scopes"].to_string();
    assert!(full.contains("inputs:write") && full.contains("models:train"));
    let r = usr.get("/v2/roles?types=ORG");
    assert_eq!(ids(&r, "roles", "id").len(), 5);
    assert_eq!(ids(&usr.get("/v2/roles"), "roles", "id").len(), 9);
    assert_eq!(usr.get("/v2/roles?types=BOGUS").code(), 11102);
    assert_eq!(Api::new(&app, None).get("/v2/roles").code(), 11008);
}
