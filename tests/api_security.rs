//! `/v2` security endpoints: `POST /v2/users/{U}/audit_log/searches` and
//! `GET/POST/PATCH /v2/users/{U}/password_policies`.

use serde_json::json;

use crate::api_support::{token, Api};
use crate::support::invites::audit_events;
use crate::support::TestApp;

const PASSWORD: &str = "correct horse battery";

fn operations(reply: &crate::api_support::Reply) -> Vec<String> {
    reply.json["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries[] in {}", reply.json))
        .iter()
        .map(|e| e["operation"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn audit_log_searches() {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    app.signup("worker");
    app.add_member("acme", "worker", "org_user");
    let c = app.client();
    assert_eq!(
        c.post_form("/login", &[("login", "worker"), ("password", "wrong")])
            .status,
        422
    );
    assert_eq!(
        c.post_form("/login", &[("login", "worker"), ("password", PASSWORD)])
            .status,
        303
    );
    let saved = boss.post_form(
        "/acme/account/security/password-policy",
        &[
            ("minimum_length", "9"),
            ("maximum_length", "256"),
            ("password_life_span_days", "0"),
            ("password_reuse_epoch", "0"),
        ],
    );
    assert_eq!(saved.status, 303);

    let api = Api::new(&app, Some(&token(&app, "boss")));
    let path = "/v2/users/acme/audit_log/searches";
    let all = api.post(path, json!({}));
    assert_eq!(all.code(), 10000, "{}", all.json);
    let ops = operations(&all);
    assert!(
        ops.contains(&"session.sign_in_failed".to_owned()),
        "{ops:?}"
    );
    assert!(ops.contains(&"password_policy.update".to_owned()));
    let first = &all.json["entries"][0];
    assert!(first["timestamp"].as_str().unwrap_or("").ends_with('Z'));
    assert!(first["target"]["kind"].is_string());

    let failed = api.post(path, json!({ "query": { "success": false } }));
    assert_eq!(operations(&failed), ["session.sign_in_failed"]);
    assert_eq!(failed.json["entries"][0]["success"], false);
    assert_eq!(failed.json["entries"][0]["target"]["name"], "worker");
    let by_user = api.post(path, json!({ "query": { "user_ids": ["worker"] } }));
    assert_eq!(
        operations(&by_user),
        ["session.sign_in", "session.sign_in_failed"]
    );
    let by_op = api.post(
        path,
        json!({ "query": { "operations": ["password_policy.update"] } }),
    );
    assert_eq!(operations(&by_op), ["password_policy.update"]);
    assert_eq!(by_op.json["entries"][0]["details"]["minimum_length"], 9);
    let by_target = api.post(path, json!({ "query": { "targets": ["acme"] } }));
    assert_eq!(operations(&by_target), ["password_policy.update"]);
    let future = api.post(
        path,
        json!({ "query": { "timestamp_from": "2999-01-01T00:00:00Z" } }),
    );
    assert!(operations(&future).is_empty());
    let paged = api.post(path, json!({ "pagination": { "page": 1, "per_page": 1 } }));
    assert_eq!(operations(&paged).len(), 1);
    assert_eq!(paged.json["has_more"], true);

    // Bad input is a 11102 with the reason.
    let bad_op = api.post(path, json!({ "query": { "operations": ["nope"] } }));
    assert_eq!(bad_op.code(), 11102);
    assert!(bad_op.details().contains("nope"));
    let bad_time = api.post(path, json!({ "query": { "timestamp_to": "yesterday" } }));
    assert_eq!(bad_time.code(), 11102);
    let bad_page = api.post(path, json!({ "pagination": { "per_page": 5000 } }));
    assert_eq!(bad_page.code(), 11102);

    // Admins only: a member sees no such organization.
    let member = Api::new(&app, Some(&token(&app, "worker")));
    assert_eq!(member.post(path, json!({})).code(), 11101);
}

#[test]
fn password_policies_get_patch_and_post() {
    let app = TestApp::start();
    app.org_with_admin("acme", "boss");
    app.signup("worker");
    app.add_member("acme", "worker", "org_user");
    let api = Api::new(&app, Some(&token(&app, "boss")));
    let path = "/v2/users/acme/password_policies";

    let got = api.get(path);
    assert_eq!(got.code(), 10000, "{}", got.json);
    assert_eq!(got.json["password_policies"][0]["minimum_length"], 8);
    assert_eq!(got.json["password_policies"][0]["id"], "acme");

    let patched = api.patch(
        path,
        json!({ "password_policies": [{ "minimum_length": 12, "numeric_needed": true }] }),
    );
    assert_eq!(patched.code(), 10000, "{}", patched.json);
    let merged = api.patch(
        path,
        json!({ "action": "merge", "password_policies": [{ "upper_case_needed": true }] }),
    );
    let p = &merged.json["password_policies"][0];
    assert_eq!(p["minimum_length"], 12);
    assert_eq!(p["numeric_needed"], true);
    assert_eq!(p["upper_case_needed"], true);
    let overwritten = api.post(
        path,
        json!({ "password_policies": [{ "minimum_length": 10 }] }),
    );
    let p = &overwritten.json["password_policies"][0];
    assert_eq!(p["minimum_length"], 10);
    assert_eq!(p["numeric_needed"], false, "POST starts from the defaults");
    assert_eq!(
        api.get(path).json["password_policies"][0]["minimum_length"],
        10
    );

    // Refused without writing anything.
    let too_long = api.patch(
        path,
        json!({ "password_policies": [{ "minimum_length": 300 }] }),
    );
    assert_eq!(too_long.code(), 11102);
    assert!(too_long.details().contains("minimum_length"));
    let two = api.post(path, json!({ "password_policies": [{}, {}] }));
    assert_eq!(two.code(), 11102);
    let action = api.patch(
        path,
        json!({ "action": "remove", "password_policies": [{}] }),
    );
    assert_eq!(action.code(), 11102);
    assert_eq!(
        api.get(path).json["password_policies"][0]["minimum_length"],
        10
    );
    let updates = audit_events(&app, "acme")
        .into_iter()
        .filter(|e| e.event_type == "password_policy.update")
        .count();
    assert_eq!(updates, 3);

    // A member reads the policy that applies to them, but not the org's settings.
    let member = Api::new(&app, Some(&token(&app, "worker")));
    assert_eq!(member.get(path).code(), 11101);
    assert_eq!(
        member
            .patch(
                path,
                json!({ "password_policies": [{ "minimum_length": 8 }] })
            )
            .code(),
        11101
    );
    let mine = member.get("/v2/users/me/password_policies");
    assert_eq!(mine.code(), 10000, "{}", mine.json);
    assert_eq!(mine.json["password_policies"][0]["minimum_length"], 10);
}
