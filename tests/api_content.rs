//! The content API, concepts and inputs: every endpoint's happy path, bad input
//! (refused with the field named, nothing half-written), the short forms with
//! `user_app_id` in the body or query, scopes, roles and other users' apps.

use base64::Engine;
use serde_json::{json, Value};

use crate::api_support::{token, token_with, Api, Reply};
use crate::support::content::{labelled_texts, png};
use crate::support::TestApp;

const A: &str = "/v2/users/alice/apps/news";

/// alice with app `news` and a key with every scope.
fn setup() -> (TestApp, Api) {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "news", "News");
    let key = token(&app, "alice");
    let api = Api::new(&app, Some(&key));
    (app, api)
}

fn ids(reply: &Reply, key: &str) -> Vec<String> {
    reply.json[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}[] in {}", reply.json))
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn text_input(id: &str, text: &str, concepts: &[&str]) -> Value {
    json!({ "id": id, "data": { "text": { "raw": text },
        "concepts": concepts.iter().map(|c| json!({ "id": c, "value": 1 })).collect::<Vec<_>>() } })
}

fn concepts_of(input: &Value) -> Vec<String> {
    let mut out: Vec<String> = input["data"]["concepts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn concepts_create_list_get_patch_search_and_delete() {
    let (_app, api) = setup();
    let made = api.post(
        &format!("{A}/concepts"),
        json!({ "concepts": [{ "id": "sports", "name": "Sports" }, { "id": "cooking" }] }),
    );
    assert_eq!(made.code(), 10000, "{}", made.json);
    assert_eq!(ids(&made, "concepts"), ["sports", "cooking"]);
    assert_eq!(
        made.json["concepts"][1]["name"], "cooking",
        "name defaults to the id"
    );
    // A taken id refuses the whole batch; a bad id names the field.
    let dup = api.post(
        &format!("{A}/concepts"),
        json!({ "concepts": [{ "id": "weather" }, { "id": "sports" }] }),
    );
    assert_eq!((dup.http, dup.code()), (409, 40010), "{}", dup.json);
    let bad = api.post(
        &format!("{A}/concepts"),
        json!({ "concepts": [{ "id": "no way!" }] }),
    );
    assert_eq!(bad.code(), 11102);
    assert!(
        bad.details().contains("concepts[0].id"),
        "{}",
        bad.details()
    );
    assert_eq!(api.post(&format!("{A}/concepts"), json!({})).code(), 11102);
    let listed = api.get(&format!("{A}/concepts"));
    assert_eq!(
        ids(&listed, "concepts"),
        ["cooking", "sports"],
        "weather was not written"
    );
    let page2 = api.get(&format!("{A}/concepts?page=2&per_page=1"));
    assert_eq!(ids(&page2, "concepts"), ["sports"]);
    assert_eq!(
        api.get(&format!("{A}/concepts?per_page=5000")).code(),
        11102
    );
    let one = api.get(&format!("{A}/concepts/sports"));
    assert_eq!(one.json["concept"]["name"], "Sports");
    let missing = api.get(&format!("{A}/concepts/nope"));
    assert_eq!((missing.http, missing.code()), (404, 11101));
    // Rename; a missing concept in the batch leaves the others alone.
    let renamed = api.patch(
        &format!("{A}/concepts"),
        json!({ "action": "overwrite", "concepts": [{ "id": "cooking", "name": "Cooking" }] }),
    );
    assert_eq!(renamed.json["concepts"][0]["name"], "Cooking");
    let partly = api.patch(
        &format!("{A}/concepts"),
        json!({ "concepts": [{ "id": "cooking", "name": "X" }, { "id": "nope", "name": "Y" }] }),
    );
    assert_eq!(partly.code(), 11101);
    assert_eq!(
        api.get(&format!("{A}/concepts/cooking")).json["concept"]["name"],
        "Cooking"
    );
    let kept = api.patch(
        &format!("{A}/concepts"),
        json!({ "action": "merge", "concepts": [{ "id": "cooking", "name": "" }] }),
    );
    assert_eq!(
        kept.json["concepts"][0]["name"], "Cooking",
        "merge keeps an empty name"
    );
    let found = api.post(
        &format!("{A}/concepts/searches"),
        json!({ "concept_query": { "name": "COOK" } }),
    );
    assert_eq!(ids(&found, "concepts"), ["cooking"]);
    // Deleting a concept takes it off inputs and out of models.
    let posted = api.post(
        &format!("{A}/inputs"),
        json!({ "inputs": [text_input("i1", "a match", &["sports", "cooking"])] }),
    );
    assert_eq!(posted.code(), 10000, "{}", posted.json);
    let model = api.post(
        &format!("{A}/models"),
        json!({ "model": { "id": "topics", "model_type_id": "text-classifier",
            "output_info": { "data": { "concepts": [{ "id": "sports" }, { "id": "cooking" }] } } } }),
    );
    assert_eq!(model.code(), 10000, "{}", model.json);
    let gone = api.delete(&format!("{A}/concepts/sports"));
    assert_eq!(gone.code(), 10000, "{}", gone.json);
    assert_eq!(
        concepts_of(&api.get(&format!("{A}/inputs/i1")).json["input"]),
        ["cooking"]
    );
    let m = api.get(&format!("{A}/models/topics"));
    assert_eq!(
        m.json["model"]["output_info"]["data"]["concepts"]
            .as_array()
            .map(|a| a.len()),
        Some(1)
    );
    // Several at once: one missing id deletes none.
    let none = api.send(
        reqwest::Method::DELETE,
        &format!("{A}/concepts"),
        Some(&json!({ "ids": ["cooking", "nope"] }).to_string()),
        &[],
    );
    assert_eq!(none.code(), 11101);
    assert_eq!(
        ids(&api.get(&format!("{A}/concepts")), "concepts"),
        ["cooking"]
    );
    let all = api.send(
        reqwest::Method::DELETE,
        &format!("{A}/concepts"),
        Some(&json!({ "ids": ["cooking"] }).to_string()),
        &[],
    );
    assert_eq!(all.code(), 10000);
    assert!(ids(&api.get(&format!("{A}/concepts")), "concepts").is_empty());
}

#[test]
fn inputs_post_list_get_patch_search_and_delete() {
    let (_app, api) = setup();
    let texts = labelled_texts();
    let batch: Vec<Value> = texts[..6]
        .iter()
        .enumerate()
        .map(|(i, (t, c))| text_input(&format!("t{i}"), t, &[c]))
        .collect();
    let posted = api.post(&format!("{A}/inputs"), json!({ "inputs": batch }));
    assert_eq!(posted.code(), 10000, "{}", posted.json);
    assert_eq!(posted.json["inputs"][0]["status"]["code"], 30000);
    assert_eq!(posted.json["inputs"][0]["data"]["text"]["raw"], texts[0].0);
    // An image as base64; its size is read from the picture.
    let b64 = base64::engine::general_purpose::STANDARD.encode(png(
        [200, 0, 0],
        [255, 255, 255],
        true,
        1,
    ));
    let img = api.post(
        &format!("{A}/inputs"),
        json!({ "inputs": [{ "id": "pic", "data": { "image": { "base64": b64 }, "concepts": [{ "id": "red" }] } }] }),
    );
    assert_eq!(img.code(), 10000, "{}", img.json);
    assert_eq!(
        img.json["inputs"][0]["data"]["image"]["image_info"]["width"],
        32
    );
    // Bad input refuses the whole request, naming the field; nothing is written.
    let not_image = base64::engine::general_purpose::STANDARD.encode(b"plain words");
    for (body, field) in [
        (
            json!({ "inputs": [text_input("x1", "ok", &[]), text_input("x2", "   ", &[])] }),
            "inputs[1].data.text",
        ),
        (
            json!({ "inputs": [{ "data": { "image": { "base64": not_image } } }] }),
            "inputs[0].data.image",
        ),
        (
            json!({ "inputs": [{ "data": { "image": { "base64": "%%%" } } }] }),
            "inputs[0].data.image.base64",
        ),
        (
            json!({ "inputs": [{ "data": { "image": { "url": "http://example.com/a.png" } } }] }),
            "inputs[0].data.image.url",
        ),
        (
            json!({ "inputs": [{ "data": { "text": { "raw": "x" }, "concepts": [{ "id": "a", "value": 2 }] } }] }),
            "inputs[0].data.concepts[0].value",
        ),
        (
            json!({ "inputs": [{ "id": "bad id!", "data": { "text": { "raw": "x" } } }] }),
            "inputs[0].id",
        ),
        (json!({ "inputs": [{}] }), "inputs[0].data"),
        (json!({ "inputs": [] }), "inputs"),
    ] {
        let r = api.post(&format!("{A}/inputs"), body);
        assert_eq!((r.http, r.code()), (400, 11102), "{field}: {}", r.json);
        assert!(r.details().contains(field), "{field}: {}", r.details());
    }
    let dup = api.post(
        &format!("{A}/inputs"),
        json!({ "inputs": [text_input("new", "x", &[]), text_input("t0", "x", &[])] }),
    );
    assert_eq!(dup.code(), 40010);
    let not_json = api.send(
        reqwest::Method::POST,
        &format!("{A}/inputs"),
        Some("{"),
        &[],
    );
    assert_eq!(not_json.code(), 11100);
    let all = api.get(&format!("{A}/inputs?per_page=100"));
    assert_eq!(
        all.json["inputs"].as_array().map(|a| a.len()),
        Some(7),
        "only the good requests wrote"
    );
    assert_eq!(ids(&all, "inputs")[0], "pic", "newest first");
    let paged = api.get(&format!("{A}/inputs?page=2&per_page=5"));
    assert_eq!(ids(&paged, "inputs"), ["t1", "t0"]);
    let one = api.get(&format!("{A}/inputs/t2"));
    assert_eq!(one.json["input"]["data"]["text"]["raw"], texts[2].0);
    let missing = api.get(&format!("{A}/inputs/nope"));
    assert_eq!((missing.http, missing.code()), (404, 30102));
    // PATCH: merge, overwrite, remove.
    let patch = |action: &str, concepts: &[&str]| {
        api.patch(
            &format!("{A}/inputs"),
            json!({ "action": action, "inputs": [{ "id": "t0", "data": {
                "concepts": concepts.iter().map(|c| json!({ "id": c })).collect::<Vec<_>>() } }] }),
        )
    };
    assert_eq!(
        concepts_of(&patch("merge", &["news"]).json["inputs"][0]),
        ["news", "sports"]
    );
    assert_eq!(
        concepts_of(&patch("overwrite", &["misc"]).json["inputs"][0]),
        ["misc"]
    );
    assert!(concepts_of(&patch("remove", &["misc"]).json["inputs"][0]).is_empty());
    assert_eq!(patch("explode", &[]).code(), 11102);
    let gone = api.patch(
        &format!("{A}/inputs"),
        json!({ "action": "merge", "inputs": [{ "id": "t1", "data": { "concepts": [{ "id": "late" }] } },
                                              { "id": "nope", "data": { "concepts": [{ "id": "late" }] } }] }),
    );
    assert_eq!(gone.code(), 30102);
    assert_eq!(
        concepts_of(&api.get(&format!("{A}/inputs/t1")).json["input"]),
        ["sports"],
        "rolled back"
    );
    let text_change = api.patch(
        &format!("{A}/inputs"),
        json!({ "inputs": [{ "id": "t1", "data": { "text": { "raw": "new" } } }] }),
    );
    assert_eq!(text_change.code(), 11102);
    // Searches: by text, by concept, both.
    let search = |query: Value| {
        let r = api.post(
            &format!("{A}/inputs/searches"),
            json!({ "searches": [{ "query": query }] }),
        );
        assert_eq!(r.code(), 10000, "{}", r.json);
        let mut found: Vec<String> = r.json["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| h["input"]["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        search(
            json!({ "ranks": [{ "annotation": { "data": { "text": { "raw": "GOALKEEPER" } } } }] })
        ),
        ["t1"]
    );
    assert_eq!(
        search(
            json!({ "filters": [{ "annotation": { "data": { "concepts": [{ "id": "red" }] } } }] })
        ),
        ["pic"]
    );
    assert_eq!(
        search(
            json!({ "filters": [{ "annotation": { "data": { "concepts": [{ "id": "sports" }] } } }],
                       "ranks": [{ "annotation": { "data": { "text": { "raw": "the" } } } }] })
        ),
        ["t1", "t2", "t3", "t4", "t5"]
    );
    assert!(search(
        json!({ "filters": [{ "annotation": { "data": { "concepts": [{ "id": "unknown" }] } } }] })
    )
    .is_empty());
    // Delete one, then several; one missing id deletes none.
    assert_eq!(api.delete(&format!("{A}/inputs/t5")).code(), 10000);
    assert_eq!(api.delete(&format!("{A}/inputs/t5")).code(), 30102);
    let none = api.send(
        reqwest::Method::DELETE,
        &format!("{A}/inputs"),
        Some(&json!({ "ids": ["t4", "t5"] }).to_string()),
        &[],
    );
    assert_eq!(none.code(), 30102);
    let two = api.send(
        reqwest::Method::DELETE,
        &format!("{A}/inputs"),
        Some(&json!({ "ids": ["t4", "t3"] }).to_string()),
        &[],
    );
    assert_eq!(two.code(), 10000, "{}", two.json);
    assert_eq!(
        ids(&api.get(&format!("{A}/inputs")), "inputs"),
        ["pic", "t2", "t1", "t0"]
    );
    let everything = api.send(
        reqwest::Method::DELETE,
        &format!("{A}/inputs"),
        Some(&json!({ "delete_all": true }).to_string()),
        &[],
    );
    assert_eq!(everything.code(), 10000);
    assert!(ids(&api.get(&format!("{A}/inputs")), "inputs").is_empty());
    assert_eq!(
        api.delete(&format!("{A}/inputs")).code(),
        11102,
        "no ids, no delete_all"
    );
}

#[test]
fn short_forms_take_the_app_from_user_app_id() {
    let (_app, api) = setup();
    let body = json!({ "user_app_id": { "user_id": "alice", "app_id": "news" },
        "inputs": [text_input("s1", "short form", &["a"])] });
    let posted = api.post("/v2/inputs", body);
    assert_eq!(posted.code(), 10000, "{}", posted.json);
    // `me` by default, and the query string for GET.
    let mine = api.post(
        "/v2/concepts",
        json!({ "user_app_id": { "app_id": "news" }, "concepts": [{ "id": "b" }] }),
    );
    assert_eq!(mine.code(), 10000, "{}", mine.json);
    let listed = api.get("/v2/inputs?user_app_id.user_id=alice&user_app_id.app_id=news");
    assert_eq!(ids(&listed, "inputs"), ["s1"]);
    let got = api.get("/v2/inputs/s1?user_app_id.app_id=news");
    assert_eq!(got.code(), 10000);
    let listed = api.get("/v2/concepts?user_app_id.app_id=news");
    assert_eq!(ids(&listed, "concepts"), ["a", "b"]);
    // Inputs take bodies far beyond the other endpoints' 1 MB.
    let long = "word ".repeat(18_000);
    let big: Vec<Value> = (0..20)
        .map(|i| text_input(&format!("big{i}"), &long, &[]))
        .collect();
    let posted = api.post(&format!("{A}/inputs"), json!({ "inputs": big }));
    assert_eq!(posted.code(), 10000, "{}", posted.details());
    let too_big = api.post(
        &format!("{A}/concepts"),
        json!({ "concepts": [{ "id": "x", "name": long.repeat(15) }] }),
    );
    assert_eq!(
        (too_big.http, too_big.code()),
        (413, 11100),
        "{}",
        too_big.details()
    );
    assert!(
        too_big.details().contains("1048576"),
        "{}",
        too_big.details()
    );
    let no_app = api.get("/v2/inputs");
    assert_eq!(no_app.code(), 11102);
    assert!(no_app.details().contains("user_app_id.app_id"));
    let types = api.get("/v2/models/types");
    assert_eq!(types.code(), 10000);
    assert_eq!(
        ids(&types, "model_types"),
        ["text-classifier", "visual-classifier"]
    );
}

#[test]
fn scopes_roles_and_other_users_apps() {
    let (app, api) = setup();
    api.post(
        &format!("{A}/inputs"),
        json!({ "inputs": [text_input("t0", "hello", &["a"])] }),
    );
    // A read-only key reads but cannot write.
    let (_, read_key) = token_with(&app, "alice", &["apps:read"], None);
    let reader = Api::new(&app, Some(&read_key));
    assert_eq!(reader.get(&format!("{A}/inputs")).code(), 10000);
    let refused = reader.post(
        &format!("{A}/inputs"),
        json!({ "inputs": [text_input("t1", "x", &[])] }),
    );
    assert_eq!((refused.http, refused.code()), (403, 11007));
    assert!(
        refused.details().contains("inputs:write"),
        "{}",
        refused.details()
    );
    assert_eq!(
        reader
            .post(
                &format!("{A}/concepts"),
                json!({ "concepts": [{ "id": "z" }] })
            )
            .code(),
        11007
    );
    assert_eq!(
        reader
            .post(
                &format!("{A}/models"),
                json!({ "model": { "id": "m", "model_type_id": "text-classifier" } })
            )
            .code(),
        11007
    );
    // No key, an unknown key.
    assert_eq!(
        Api::new(&app, None).get(&format!("{A}/inputs")).code(),
        11008
    );
    assert_eq!(
        Api::new(&app, Some("not-a-key"))
            .get(&format!("{A}/inputs"))
            .code(),
        11009
    );
    // Another user: alice's private app does not exist for them, on every endpoint.
    app.signup("bob");
    let bob = Api::new(&app, Some(&token(&app, "bob")));
    for r in [
        bob.get(&format!("{A}/inputs")),
        bob.get(&format!("{A}/inputs/t0")),
        bob.get(&format!("{A}/concepts")),
        bob.get(&format!("{A}/models")),
        bob.get(&format!("{A}/models/types")),
        bob.post(&format!("{A}/inputs"), json!({ "inputs": [text_input("b", "x", &[])] })),
        bob.post(&format!("{A}/inputs/searches"), json!({})),
        bob.post(&format!("{A}/models/m/outputs"), json!({ "inputs": [{ "data": { "text": { "raw": "x" } } }] })),
        bob.get(&format!("{A}/models/m")),
        bob.delete(&format!("{A}/inputs/t0")),
        bob.post("/v2/inputs", json!({ "user_app_id": { "user_id": "alice", "app_id": "news" }, "inputs": [text_input("b", "x", &[])] })),
    ] {
        assert_eq!((r.http, r.code()), (404, 11101), "{}", r.json);
    }
    assert_eq!(
        api.get(&format!("{A}/inputs/t0")).code(),
        10000,
        "bob deleted nothing"
    );
    // An org's read-only member reads and is refused writes with a reason.
    let boss = app.org_with_admin("acme", "boss");
    app.create_app(&boss, "acme", "lab", "Lab");
    app.signup("olga");
    app.add_member("acme", "olga", "org_user");
    let olga = Api::new(&app, Some(&token(&app, "olga")));
    assert_eq!(olga.get("/v2/users/acme/apps/lab/inputs").code(), 10000);
    let no = olga.post(
        "/v2/users/acme/apps/lab/inputs",
        json!({ "inputs": [text_input("o", "x", &[])] }),
    );
    assert_eq!((no.http, no.code()), (403, 11007), "{}", no.json);
    assert!(no.details().contains("read-only"), "{}", no.details());
}
