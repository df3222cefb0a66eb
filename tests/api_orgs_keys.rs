//! `/v2` organizations (create, list a user's) and keys (list, create, revoke),
//! with scopes, privacy between users, and secrets stored only as hashes.

use serde_json::json;

use crate::api_support::{all_scopes, token, token_with, Api};
use crate::support::TestApp;

#[test]
fn create_an_organization_and_list_memberships() {
    let app = TestApp::start();
    app.signup("kim");
    app.signup("lou");
    let kim = Api::new(&app, Some(&token(&app, "kim")));

    let none = kim.get("/v2/users/me/organizations");
    assert_eq!(none.code(), 10000);
    assert_eq!(none.json["organizations"], json!([]));

    // Bad input: a clear 11102 naming the field, nothing created.
    for (body, needle) in [
        (json!({}), "organizations"),
        (json!({"organizations": []}), "organizations"),
        (
            json!({"organizations": [{"id": "o1", "name": "A"}, {"id": "o2", "name": "B"}]}),
            "one organization",
        ),
        (
            json!({"organizations": [{"name": "No id"}]}),
            "organizations[0].id",
        ),
        (
            json!({"organizations": [{"id": "Has Space", "name": "X"}]}),
            "organizations[0].id",
        ),
        (
            json!({"organizations": [{"id": "users", "name": "X"}]}),
            "reserved",
        ),
        (
            json!({"organizations": [{"id": "okorg"}]}),
            "organizations[0].name",
        ),
        (
            json!({"organizations": [{"id": "okorg", "name": "n".repeat(101)}]}),
            "organizations[0].name",
        ),
        (
            json!({"organizations": [{"id": "okorg", "name": "X", "billing_email": "not-an-email"}]}),
            "billing_email",
        ),
    ] {
        let r = kim.post("/v2/organizations", body.clone());
        assert_eq!((r.http, r.code()), (400, 11102), "{body}: {:?}", r.json);
        assert!(r.details().contains(needle), "{body}: {}", r.details());
    }
    // A handle taken by a user: 40010.
    let taken = kim.post(
        "/v2/organizations",
        json!({"organizations": [{"id": "lou", "name": "Lou's"}]}),
    );
    assert_eq!((taken.http, taken.code()), (409, 40010));
    assert_eq!(
        kim.get("/v2/users/me/organizations").json["organizations"],
        json!([])
    );

    // Created; the creator is its admin; the billing e-mail defaults to theirs.
    let made = kim.post(
        "/v2/organizations",
        json!({"organizations": [{"id": "kimco", "name": "Kim & <Co> ünï", "ignored": true}]}),
    );
    assert_eq!(made.code(), 10000, "{:?}", made.json);
    let org = &made.json["organizations"][0];
    assert_eq!(org["id"], "kimco");
    assert_eq!(org["name"], "Kim & <Co> ünï");
    assert_eq!(org["billing_email"], "kim@example.com");
    let mine = kim.get("/v2/users/kim/organizations");
    assert_eq!(
        mine.json["organizations"],
        json!([{"organization": {"id": "kimco", "name": "Kim & <Co> ünï"},
                "role": {"id": "admin", "name": "Admin"}}])
    );
    // The new org owns apps created through the API by its admin.
    let created = kim.post("/v2/users/kimco/apps", json!({"apps": [{"id": "shared"}]}));
    assert_eq!(created.code(), 10000);
    assert_eq!(created.json["apps"][0]["user_id"], "kimco");
    // One organization per user.
    let second = kim.post(
        "/v2/organizations",
        json!({"organizations": [{"id": "another", "name": "Another"}]}),
    );
    assert_eq!((second.http, second.code()), (409, 11102));
    assert!(second.details().contains("already belong"));

    // Others' memberships are not visible; scopes apply.
    let lou = Api::new(&app, Some(&token(&app, "lou")));
    assert_eq!(lou.get("/v2/users/kim/organizations").code(), 11101);
    assert_eq!(lou.get("/v2/users/nobody/organizations").code(), 11101);
    let (_, read_only) = token_with(&app, "lou", &["orgs:read"], None);
    let ro = Api::new(&app, Some(&read_only));
    assert_eq!(ro.get("/v2/users/me/organizations").code(), 10000);
    let refused = ro.post(
        "/v2/organizations",
        json!({"organizations": [{"id": "louco", "name": "Lou Co"}]}),
    );
    assert_eq!((refused.http, refused.code()), (403, 11007));
    let (_, apps_only) = token_with(&app, "lou", &["apps:read"], None);
    assert_eq!(
        Api::new(&app, Some(&apps_only))
            .get("/v2/users/me/organizations")
            .code(),
        11007
    );
}

#[test]
fn keys_list_create_and_revoke() {
    let app = TestApp::start();
    app.signup("max");
    app.signup("ned");
    let (own_id, secret) = token_with(&app, "max", &all_scopes(), None);
    let max = Api::new(&app, Some(&secret));

    let listed = max.get("/v2/users/me/keys");
    assert_eq!(listed.code(), 10000);
    let keys = listed.json["keys"].as_array().expect("keys").clone();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], own_id);
    assert_eq!(keys[0]["type"], "personal_access_token");
    assert!(
        !listed.json.to_string().contains(&secret),
        "no secret in listings"
    );
    assert_eq!(
        max.get(&format!("/v2/users/max/keys/{own_id}")).code(),
        10000
    );

    // Create: the secret is the `id` of the answer, once; it authenticates.
    let made = max.post(
        "/v2/users/max/keys",
        json!({"keys": [{"description": "deploy bot", "scopes": ["apps:read", "apps:read"],
                          "type": "personal_access_token", "expires_at": "2999-01-01T00:00:00Z"}]}),
    );
    assert_eq!(made.code(), 10000, "{:?}", made.json);
    let new_key = made.json["keys"][0].clone();
    let new_secret = new_key["id"].as_str().expect("secret").to_owned();
    let new_id = new_key["key_id"].as_str().expect("key_id").to_owned();
    assert_eq!(new_key["scopes"], json!(["apps:read"]));
    assert_eq!(new_key["expires_at"], "2999-01-01T00:00:00.000000Z");
    let bot = Api::new(&app, Some(&new_secret));
    assert_eq!(bot.get("/v2/users/me/apps").code(), 10000);
    assert_eq!(bot.get("/v2/users/me/keys").code(), 11007, "no keys:read");
    let listed = max.get("/v2/users/me/keys");
    assert_eq!(listed.json["keys"].as_array().map(Vec::len), Some(2));
    assert!(!listed.json.to_string().contains(&new_secret));

    // Bad input: 11102 naming the field; nothing created.
    for (body, needle) in [
        (json!({}), "keys"),
        (
            json!({"keys": [{"scopes": ["apps:read"]}]}),
            "keys[0].description",
        ),
        (
            json!({"keys": [{"description": "d".repeat(201), "scopes": ["apps:read"]}]}),
            "description",
        ),
        (json!({"keys": [{"description": "x"}]}), "keys[0].scopes"),
        (
            json!({"keys": [{"description": "x", "scopes": ["root"]}]}),
            "Unknown scope",
        ),
        (
            json!({"keys": [{"description": "x", "scopes": ["apps:read"], "type": "app_specific_key"}]}),
            "type",
        ),
        (
            json!({"keys": [{"description": "x", "scopes": ["apps:read"], "expires_at": "2001-01-01T00:00:00Z"}]}),
            "future",
        ),
        (
            json!({"keys": [{"description": "x", "scopes": ["apps:read"], "expires_at": "next week"}]}),
            "RFC 3339",
        ),
        (
            json!({"keys": [{"description": "ok", "scopes": ["apps:read"]}, {"description": "", "scopes": ["apps:read"]}]}),
            "keys[1]",
        ),
    ] {
        let r = max.post("/v2/users/me/keys", body.clone());
        assert_eq!((r.http, r.code()), (400, 11102), "{body}: {:?}", r.json);
        assert!(r.details().contains(needle), "{body}: {}", r.details());
    }
    assert_eq!(
        max.get("/v2/users/me/keys").json["keys"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // A key cannot mint a key with more than it has.
    let (_, limited) = token_with(&app, "max", &["keys:write", "apps:read"], None);
    let escalate = Api::new(&app, Some(&limited)).post(
        "/v2/users/me/keys",
        json!({"keys": [{"description": "more", "scopes": ["apps:read", "apps:write"]}]}),
    );
    assert_eq!((escalate.http, escalate.code()), (403, 11007));
    assert!(escalate.details().contains("apps:write"));

    // Other users' keys: does not exist, whatever the scope.
    let ned = Api::new(&app, Some(&token(&app, "ned")));
    assert_eq!(ned.get("/v2/users/max/keys").code(), 11101);
    assert_eq!(
        ned.delete(&format!("/v2/users/max/keys/{new_id}")).code(),
        11101
    );
    assert_eq!(
        ned.delete(&format!("/v2/users/me/keys/{new_id}")).code(),
        11101
    );
    assert_eq!(bot.get("/v2/users/me/apps").code(), 10000);

    // Revoke by key_id; the secret stops working at once.
    assert_eq!(
        max.delete(&format!("/v2/users/me/keys/{new_id}")).code(),
        10000
    );
    assert_eq!(bot.get("/v2/users/me/apps").code(), 11009);
    assert_eq!(
        max.delete(&format!("/v2/users/me/keys/{new_id}")).code(),
        11101
    );
    // Revoke by the id PostKeys returned (the secret), as the platform's client does.
    let again = max.post(
        "/v2/users/me/keys",
        json!({"keys": [{"description": "short-lived", "scopes": ["apps:read"]}]}),
    );
    let short = again.json["keys"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        max.delete(&format!("/v2/users/me/keys/{short}")).code(),
        10000
    );
    assert_eq!(
        Api::new(&app, Some(&short)).get("/v2/users/me/apps").code(),
        11009
    );
    // Write scope needed to revoke.
    let (_, reader) = token_with(&app, "max", &["keys:read"], None);
    assert_eq!(
        Api::new(&app, Some(&reader))
            .delete(&format!("/v2/users/me/keys/{own_id}"))
            .code(),
        11007
    );
}

#[test]
fn secrets_are_stored_hashed() {
    use atrium::db::schema::api_keys;
    use diesel::prelude::*;

    let app = TestApp::start();
    app.signup("ora");
    let (_, first) = token_with(&app, "ora", &all_scopes(), None);
    let made = Api::new(&app, Some(&first)).post(
        "/v2/users/me/keys",
        json!({"keys": [{"description": "hashed?", "scopes": ["apps:read"]}]}),
    );
    let second = made.json["keys"][0]["id"]
        .as_str()
        .expect("secret")
        .to_owned();
    let c = app.signup("pia");
    let page = c.post_form(
        "/settings/tokens",
        &[
            ("description", "ui"),
            ("scopes", "apps:read"),
            ("expires", "never"),
        ],
    );
    let third = page.text("[data-testid=new-token-secret]");

    let mut conn = app.state.pool.get().expect("conn");
    let rows: Vec<(String, String, String, String)> = api_keys::table
        .select((
            api_keys::key_id,
            api_keys::description,
            api_keys::secret_hash,
            api_keys::scopes,
        ))
        .load(&mut *conn)
        .expect("rows");
    assert_eq!(rows.len(), 3);
    let stored = format!("{rows:?}");
    for secret in [&first, &second, &third] {
        assert!(
            !stored.contains(secret.as_str()),
            "a secret is stored in clear"
        );
        let hash = atrium::models::token::hash_secret(secret);
        assert!(
            rows.iter().any(|r| r.2 == hash),
            "the hash of each secret is stored"
        );
    }
}
