//! `/v2` apps: the envelope on every response, authentication, scopes, the
//! policy, listing (pages, sorts, search) and bad input of every kind.

use reqwest::Method;
use serde_json::json;

use crate::api_support::{token, token_with, Api};
use crate::support::TestApp;

#[test]
fn every_response_is_the_status_envelope() {
    let app = TestApp::start();
    app.signup("amy");
    let key = token(&app, "amy");
    let api = Api::new(&app, Some(&key));
    let anon = Api::new(&app, None);

    // Unknown paths, with and without a key, and /v2 itself.
    for (client, path) in [
        (&api, "/v2/nothing/here"),
        (&anon, "/v2/nothing/here"),
        (&api, "/v2"),
        (&api, "/v2/users/amy/apps/x/y/z"),
    ] {
        let r = client.get(path);
        assert_eq!((r.http, r.code()), (404, 11101), "{path}: {:?}", r.json);
    }
    // A method the endpoint does not take.
    let put = api.send(Method::PUT, "/v2/users/amy/apps", Some("{}"), &[]);
    assert_eq!((put.http, put.code()), (405, 11103));
    assert!(put.details().contains("PUT"));
    // Not JSON, the wrong JSON type, a body over the limit.
    let bad = api.send(
        Method::POST,
        "/v2/users/amy/apps",
        Some("{\"apps\": ["),
        &[],
    );
    assert_eq!((bad.http, bad.code()), (400, 11100));
    assert!(bad.details().contains("not valid JSON"));
    let typed = api.post("/v2/users/amy/apps", json!({"apps": "many"}));
    assert_eq!(typed.code(), 11100);
    let huge = format!(
        "{{\"apps\": [{{\"id\": \"{}\"}}]}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let big = api.send(Method::POST, "/v2/users/amy/apps", Some(&huge), &[]);
    assert_eq!((big.http, big.code()), (413, 11100));
    // Odd bytes in the path and the query, a unicode id in the body.
    let odd_path = api.get("/v2/users/%FF%FE/apps");
    assert_eq!(odd_path.code(), 11101);
    let odd_query = api.get("/v2/users/amy/apps?page=%FF");
    assert_eq!(odd_query.code(), 11102);
    let unicode_id = api.send(
        Method::POST,
        "/v2/users/amy/apps",
        Some("{\"apps\": [{\"id\": \"caf\u{e9}\"}]}"),
        &[],
    );
    assert_eq!(unicode_id.code(), 11102, "{:?}", unicode_id.json);
    let empty_patch = api.send(Method::PATCH, "/v2/users/amy/apps/none", None, &[]);
    assert_eq!(empty_patch.code(), 11101);
    // Success carries it too, with code 10000 and a request id.
    let ok = api.get("/v2/users/amy/apps");
    assert_eq!((ok.http, ok.code()), (200, 10000));
    assert_eq!(ok.json["status"]["description"], "Ok");
    // No cookie is set by the API.
    let raw = reqwest::blocking::Client::new()
        .get(app.url("/v2/users/amy/apps"))
        .header("Authorization", format!("Key {key}"))
        .send()
        .expect("get");
    assert!(raw.headers().get("set-cookie").is_none());
}

#[test]
fn keys_are_checked() {
    let app = TestApp::start();
    app.signup("ben");
    let path = "/v2/users/ben/apps";
    // Missing or malformed header: 11008.
    let none = Api::new(&app, None).get(path);
    assert_eq!((none.http, none.code()), (401, 11008));
    let basic = Api::new(&app, None).send(
        Method::GET,
        path,
        None,
        &[("Authorization", "Basic YmVuOnB3")],
    );
    assert_eq!(basic.code(), 11008);
    // Unknown secret: 11009.
    let unknown = Api::new(&app, Some("0123456789abcdefghijklmnopqrstuvwxyz0123")).get(path);
    assert_eq!((unknown.http, unknown.code()), (401, 11009));
    // Expired: 11008, saying so.
    let past = atrium::models::now() - chrono::Duration::hours(1);
    let (_, expired) = token_with(&app, "ben", &["apps:read"], Some(past));
    let r = Api::new(&app, Some(&expired)).get(path);
    assert_eq!(r.code(), 11008);
    assert!(r.details().contains("expired"));
    // Revoked: gone, 11009.
    let (key_id, secret) = token_with(&app, "ben", &["apps:read"], None);
    assert_eq!(Api::new(&app, Some(&secret)).get(path).code(), 10000);
    {
        let mut conn = app.state.pool.get().expect("conn");
        let ben = atrium::models::user::User::find_by_handle(&mut conn, "ben")
            .expect("q")
            .expect("ben");
        assert!(
            atrium::models::token::ApiKey::revoke(&mut conn, ben.id(), &key_id).expect("revoke")
        );
    }
    assert_eq!(Api::new(&app, Some(&secret)).get(path).code(), 11009);
    // `Bearer` is accepted as well as `Key`.
    let (_, bearer) = token_with(&app, "ben", &["apps:read"], None);
    let b = Api::new(&app, None).send(
        Method::GET,
        path,
        None,
        &[("Authorization", &format!("Bearer {bearer}"))],
    );
    assert_eq!(b.code(), 10000);
}

#[test]
fn scopes_are_enforced() {
    let app = TestApp::start();
    app.signup("cat");
    let (_, read) = token_with(&app, "cat", &["apps:read"], None);
    let (_, keys_only) = token_with(&app, "cat", &["keys:read"], None);
    let reader = Api::new(&app, Some(&read));
    let create = reader.post("/v2/users/cat/apps", json!({"apps": [{"id": "nope"}]}));
    assert_eq!((create.http, create.code()), (403, 11007));
    assert!(create.details().contains("apps:write"));
    assert!(reader.get("/v2/users/cat/apps").app_ids().is_empty());
    let list = Api::new(&app, Some(&keys_only)).get("/v2/users/cat/apps");
    assert_eq!(list.code(), 11007);
    assert!(list.details().contains("apps:read"));
    // Nothing was created by the refused request.
    let writer = Api::new(&app, Some(&token(&app, "cat")));
    assert!(writer.get("/v2/users/cat/apps").app_ids().is_empty());
    writer.post("/v2/users/cat/apps", json!({"apps": [{"id": "mine"}]}));
    let patch = reader.patch("/v2/users/cat/apps/mine", json!({"app": {"name": "x"}}));
    assert_eq!(patch.code(), 11007);
    assert_eq!(reader.delete("/v2/users/cat/apps/mine").code(), 11007);
    assert_eq!(reader.get("/v2/users/cat/apps/mine").code(), 10000);
}

#[test]
fn the_policy_decides() {
    let app = TestApp::start();
    app.signup("dan");
    app.signup("eve");
    let dan = Api::new(&app, Some(&token(&app, "dan")));
    let eve = Api::new(&app, Some(&token(&app, "eve")));
    let made = dan.post(
        "/v2/users/me/apps",
        json!({"apps": [
            {"id": "secret", "name": "Secret"},
            {"id": "open", "name": "Open", "visibility": {"gettable": "PUBLIC"}}
        ]}),
    );
    assert_eq!(made.code(), 10000, "{:?}", made.json);

    // Another user's private app looks exactly like a missing one.
    let hidden = eve.get("/v2/users/dan/apps/secret");
    let missing = eve.get("/v2/users/dan/apps/sekret");
    assert_eq!((hidden.http, hidden.code()), (404, 11101));
    assert_eq!((missing.http, missing.code()), (404, 11101));
    assert_eq!(
        hidden.details().replace("secret", "X"),
        missing.details().replace("sekret", "X")
    );
    assert_eq!(eve.delete("/v2/users/dan/apps/secret").code(), 11101);
    // Public apps are readable, listed, but not editable by others.
    assert_eq!(
        eve.get("/v2/users/dan/apps/open").json["app"]["name"],
        "Open"
    );
    assert_eq!(eve.get("/v2/users/dan/apps").app_ids(), ["open"]);
    let edit = eve.patch("/v2/users/dan/apps/open", json!({"app": {"name": "Mine"}}));
    assert_eq!((edit.http, edit.code()), (403, 11007));
    assert_eq!(eve.delete("/v2/users/dan/apps/open").code(), 11007);
    // Creating under someone else: does not exist.
    assert_eq!(
        eve.post("/v2/users/dan/apps", json!({"apps": [{"id": "x1"}]}))
            .code(),
        11101
    );
    assert_eq!(dan.get("/v2/users/dan/apps").app_ids().len(), 2);

    // Organization: an org user reads every org app but changes nothing.
    let admin = app.org_with_admin("acme", "ann");
    app.create_app(&admin, "acme", "plans", "Plans");
    app.signup("olga");
    app.add_member("acme", "olga", "org_user");
    let olga = Api::new(&app, Some(&token(&app, "olga")));
    assert_eq!(olga.get("/v2/users/acme/apps").app_ids(), ["plans"]);
    assert_eq!(olga.get("/v2/users/acme/apps/plans").code(), 10000);
    let refused = olga.patch(
        "/v2/users/acme/apps/plans",
        json!({"app": {"description": "changed"}}),
    );
    assert_eq!(refused.code(), 11007);
    assert!(refused.details().contains("read-only"));
    assert_eq!(olga.delete("/v2/users/acme/apps/plans").code(), 11007);
    assert_eq!(
        olga.post("/v2/users/acme/apps", json!({"apps": [{"id": "new"}]}))
            .code(),
        11007
    );
    // The admin may do everything; strangers see nothing private.
    let ann = Api::new(&app, Some(&token(&app, "ann")));
    let patched = ann.patch(
        "/v2/users/acme/apps/plans",
        json!({"app": {"description": "by the admin"}}),
    );
    assert_eq!(patched.json["app"]["description"], "by the admin");
    assert!(eve.get("/v2/users/acme/apps").app_ids().is_empty());
    assert_eq!(eve.get("/v2/users/acme/apps/plans").code(), 11101);
}

#[test]
fn listing_pages_sorts_and_searches() {
    let app = TestApp::start();
    app.signup("fay");
    let api = Api::new(&app, Some(&token(&app, "fay")));
    for (id, name) in [
        ("delta", "Delta"),
        ("alpha", "alpha"),
        ("echo", "Echo 100%"),
        ("charlie", "Charlie"),
        ("bravo", "Bravo"),
    ] {
        let r = api.post(
            "/v2/users/fay/apps",
            json!({"apps": [{"id": id, "name": name}]}),
        );
        assert_eq!(r.code(), 10000, "{:?}", r.json);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let ids = |q: &str| api.get(&format!("/v2/users/fay/apps{q}")).app_ids();
    // Default: last modified first.
    assert_eq!(ids(""), ["bravo", "charlie", "echo", "alpha", "delta"]);
    assert_eq!(
        ids("?sort_by_name=True&sort_ascending=True"),
        ["alpha", "bravo", "charlie", "delta", "echo"]
    );
    assert_eq!(
        ids("?sort_by_name=true&sort_ascending=false"),
        ["echo", "delta", "charlie", "bravo", "alpha"]
    );
    assert_eq!(
        ids("?sort_by_created_at=true&sort_ascending=true"),
        ["delta", "alpha", "echo", "charlie", "bravo"]
    );
    // Pages of two (page numbering from 1; page 0 and per_page 0 mean the defaults).
    let sorted = "sort_by_name=True&sort_ascending=True";
    assert_eq!(
        ids(&format!("?{sorted}&per_page=2&page=1")),
        ["alpha", "bravo"]
    );
    assert_eq!(
        ids(&format!("?{sorted}&per_page=2&page=2")),
        ["charlie", "delta"]
    );
    assert_eq!(ids(&format!("?{sorted}&per_page=2&page=3")), ["echo"]);
    assert!(ids(&format!("?{sorted}&per_page=2&page=4")).is_empty());
    assert_eq!(ids(&format!("?{sorted}&per_page=0&page=0")).len(), 5);
    // Modifying an app moves it to the top of the default sort.
    api.patch(
        "/v2/users/fay/apps/delta",
        json!({"app": {"description": "touched"}}),
    );
    assert_eq!(ids("")[0], "delta");
    // Search by name (case-insensitive), `search` alias, wildcards literal,
    // dotted parameters from the platform's client ignored.
    assert_eq!(ids("?name=HARL"), ["charlie"]);
    assert_eq!(ids("?search=%25&user_app_id.user_id=someone"), ["echo"]);
    assert!(ids("?name=_").is_empty());
    assert_eq!(
        ids("?name=a&search=a&sort_by_name=true&sort_ascending=true").len(),
        4
    );
    // Public filter.
    api.patch(
        "/v2/users/fay/apps/bravo",
        json!({"app": {"visibility": {"gettable": 50}}}),
    );
    assert_eq!(ids("?visibility.gettable=PUBLIC"), ["bravo"]);
    // Apps carry the documented fields.
    let one = api.get("/v2/users/fay/apps/bravo").json["app"].clone();
    assert_eq!(one["user_id"], "fay");
    assert_eq!(one["visibility"]["gettable"], "PUBLIC");
    assert_eq!(one["default_language"], "en");
    for t in ["created_at", "modified_at"] {
        let s = one[t].as_str().expect("timestamp");
        assert!(
            chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z'),
            "{s}"
        );
    }
}

#[test]
fn bad_list_parameters_get_a_clear_status() {
    let app = TestApp::start();
    app.signup("gus");
    let api = Api::new(&app, Some(&token(&app, "gus")));
    for (q, needle) in [
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("per_page=100000", "per_page is at most 1000"),
        ("per_page=-5", "per_page"),
        ("sort_by_name=true&sort_by_created_at=True", "one sort"),
        ("sort_by_star_count=true", "sort_by_star_count"),
        ("sort_by_color=true", "Unknown sort key sort_by_color"),
        ("sort_by_name=true&sort_by_=1", "Unknown sort key"),
        ("sort_ascending=maybe", "sort_ascending"),
        ("starred_only=true", "starred_only"),
        ("name=a&search=b", "search"),
        ("visibility.gettable=ORG", "ORG"),
    ] {
        let r = api.get(&format!("/v2/users/gus/apps?{q}"));
        assert_eq!((r.http, r.code()), (400, 11102), "{q}: {:?}", r.json);
        assert!(r.details().contains(needle), "{q}: {}", r.details());
    }
    let long = api.get(&format!("/v2/users/gus/apps?name={}", "x".repeat(101)));
    assert_eq!(long.code(), 11102);
    let nobody = api.get("/v2/users/nobody-here/apps");
    assert_eq!(nobody.code(), 11101);
}

#[test]
fn batch_create_validates_and_is_all_or_nothing() {
    let app = TestApp::start();
    app.signup("hal");
    let api = Api::new(&app, Some(&token(&app, "hal")));
    let create = |body: serde_json::Value| api.post("/v2/users/hal/apps", body);
    let count = || api.get("/v2/users/hal/apps").app_ids().len();

    // Missing or empty apps, bad ids and fields: 11102 naming the field.
    for (body, needle) in [
        (json!({}), "apps"),
        (json!({"apps": []}), "apps"),
        (json!({"apps": [{"name": "no id"}]}), "apps[0].id"),
        (
            json!({"apps": [{"id": "ok-1"}, {"id": "Bad Id"}]}),
            "apps[1].id",
        ),
        (
            json!({"apps": [{"id": "x'; DROP TABLE apps;--"}]}),
            "apps[0].id",
        ),
        (json!({"apps": [{"id": "settings"}]}), "reserved"),
        (json!({"apps": [{"id": "a".repeat(49)}]}), "apps[0].id"),
        (
            json!({"apps": [{"id": "ok-2", "name": "n".repeat(101)}]}),
            "apps[0].name",
        ),
        (
            json!({"apps": [{"id": "ok-3", "description": "d".repeat(2001)}]}),
            "apps[0].description",
        ),
        (
            json!({"apps": [{"id": "ok-4", "name": "a\u{0}b"}]}),
            "control",
        ),
        (
            json!({"apps": [{"id": "ok-5", "visibility": {"gettable": "ORG"}}]}),
            "ORG",
        ),
        (
            json!({"apps": [{"id": "ok-6", "visibility": {"gettable": "SECRET"}}]}),
            "visibility",
        ),
        (
            json!({"apps": [{"id": "ok-7", "default_language": "<script>"}]}),
            "default_language",
        ),
    ] {
        let r = create(body.clone());
        assert_eq!((r.http, r.code()), (400, 11102), "{body}: {:?}", r.json);
        assert!(r.details().contains(needle), "{body}: {}", r.details());
    }
    assert_eq!(count(), 0, "nothing half-written");

    // Duplicates in one request, or an id already taken: 40010, and none of the batch.
    let dup = create(json!({"apps": [{"id": "twin"}, {"id": "twin"}]}));
    assert_eq!((dup.http, dup.code()), (409, 40010));
    assert!(dup.details().contains("apps[1].id"));
    assert_eq!(create(json!({"apps": [{"id": "taken"}]})).code(), 10000);
    let clash = create(json!({"apps": [{"id": "fresh"}, {"id": "taken"}]}));
    assert_eq!(clash.code(), 40010);
    assert!(clash.details().contains("\"taken\""));
    assert_eq!(api.get("/v2/users/hal/apps").app_ids(), ["taken"]);
    assert_eq!(api.get("/v2/users/hal/apps/fresh").code(), 11101);

    // HTML, unicode and SQL-looking text are stored and returned as given;
    // unknown fields are ignored; numeric visibility works; name defaults to the id.
    let odd = create(json!({"apps": [
        {"id": "odd", "name": "<b>Bold</b> ünï 日本 ✓", "description": "'; DROP TABLE apps; --",
         "visibility": {"gettable": 50}, "notes": "ignored", "metadata": {"k": 1}, "future_field": [1]},
        {"id": "plain"}
    ]}));
    assert_eq!(odd.code(), 10000, "{:?}", odd.json);
    assert_eq!(odd.app_ids(), ["odd", "plain"]);
    let got = api.get("/v2/users/hal/apps/odd").json["app"].clone();
    assert_eq!(got["name"], "<b>Bold</b> ünï 日本 ✓");
    assert_eq!(got["description"], "'; DROP TABLE apps; --");
    assert_eq!(got["visibility"]["gettable"], "PUBLIC");
    assert_eq!(
        api.get("/v2/users/hal/apps/plain").json["app"]["name"],
        "plain"
    );
    assert_eq!(count(), 3);
    // The owner's app count moved with the apps, and only with the ones created.
    use atrium::db::schema::accounts;
    use diesel::prelude::*;
    let mut conn = app.state.pool.get().expect("conn");
    let app_count: i64 = accounts::table
        .filter(accounts::handle.eq("hal"))
        .select(accounts::app_count)
        .first(&mut *conn)
        .expect("count");
    assert_eq!(app_count, 3);
}

#[test]
fn patch_actions_and_delete() {
    let app = TestApp::start();
    app.signup("ivy");
    let api = Api::new(&app, Some(&token(&app, "ivy")));
    api.post(
        "/v2/users/ivy/apps",
        json!({"apps": [{"id": "one", "name": "One", "description": "first", "default_language": "de"}]}),
    );
    let path = "/v2/users/me/apps/one";
    // overwrite: given fields replace, others stay.
    let o = api.patch(
        path,
        json!({"app": {"id": "one", "description": ""}, "action": "overwrite"}),
    );
    assert_eq!(o.code(), 10000, "{:?}", o.json);
    assert_eq!(o.json["app"]["description"], "");
    assert_eq!(o.json["app"]["name"], "One");
    // merge: empty values leave the stored ones alone.
    let m = api.patch(
        path,
        json!({"app": {"name": "", "description": "merged"}, "action": "merge"}),
    );
    assert_eq!(m.json["app"]["name"], "One");
    assert_eq!(m.json["app"]["description"], "merged");
    // remove: given fields go back to their defaults.
    let r = api.patch(
        path,
        json!({"app": {"description": "x", "default_language": "x", "name": "x"}, "action": "remove"}),
    );
    assert_eq!(r.json["app"]["description"], "");
    assert_eq!(r.json["app"]["default_language"], "en");
    assert_eq!(r.json["app"]["name"], "one");
    // Refused: unknown action, a different id, missing app, bad values; nothing changes.
    for (body, needle) in [
        (json!({"app": {"name": "y"}, "action": "explode"}), "action"),
        (json!({"app": {"id": "two", "name": "y"}}), "app.id"),
        (json!({"action": "merge"}), "app"),
        (json!({"app": {"name": "y".repeat(101)}}), "app.name"),
        (json!({"app": {"visibility": {"gettable": 30}}}), "ORG"),
    ] {
        let bad = api.patch(path, body.clone());
        assert_eq!(bad.code(), 11102, "{body}: {:?}", bad.json);
        assert!(bad.details().contains(needle), "{body}: {}", bad.details());
    }
    assert_eq!(api.get(path).json["app"]["name"], "one");
    assert_eq!(
        api.patch("/v2/users/me/apps/nope", json!({"app": {"name": "y"}}))
            .code(),
        11101
    );
    // Delete: gone from get and list; a second delete is 11101.
    assert_eq!(api.delete(path).code(), 10000);
    assert_eq!(api.get(path).code(), 11101);
    assert!(api.get("/v2/users/ivy/apps").app_ids().is_empty());
    assert_eq!(api.delete(path).code(), 11101);
}
