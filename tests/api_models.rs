//! The content API, models: create / list / search / patch / delete, model
//! types, training through versions, predictions (latest trained version or a
//! given one, with every refusal a status, never a 500) and model stars.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::api_support::{token, token_with, Api, Reply};
use crate::support::content::{labelled_texts, png};
use crate::support::TestApp;

const A: &str = "/v2/users/alice/apps/news";

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

fn model(id: &str, name: &str, model_type: &str, concepts: &[&str]) -> Value {
    json!({ "model": { "id": id, "name": name, "model_type_id": model_type,
        "output_info": { "data": { "concepts": concepts.iter().map(|c| json!({ "id": c })).collect::<Vec<_>>() } } } })
}

fn concept_ids(m: &Value) -> Vec<String> {
    let mut out: Vec<String> = m["output_info"]["data"]["concepts"]
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

/// Posts the forty labelled texts (sports / cooking) through the API.
fn post_texts(api: &Api, base: &str) {
    let inputs: Vec<Value> = labelled_texts()
        .iter()
        .map(|(t, c)| json!({ "data": { "text": { "raw": t }, "concepts": [{ "id": c, "value": 1 }] } }))
        .collect();
    let r = api.post(&format!("{base}/inputs"), json!({ "inputs": inputs }));
    assert_eq!(r.code(), 10000, "{}", r.json);
}

/// Trains `model` through the API and polls the version until it is done.
fn train(api: &Api, base: &str, model: &str) -> (String, Value) {
    let r = api.post(&format!("{base}/models/{model}/versions"), json!({}));
    assert_eq!(r.code(), 10000, "{}", r.json);
    let v = r.json["model"]["model_version"]["id"]
        .as_str()
        .expect("version id")
        .to_owned();
    assert_eq!(r.json["model"]["model_version"]["status"]["code"], 21103);
    let started = Instant::now();
    loop {
        let got = api.get(&format!("{base}/models/{model}/versions/{v}"));
        assert_eq!(got.code(), 10000, "{}", got.json);
        let code = got.json["model_version"]["status"]["code"].as_i64();
        if !matches!(code, Some(21103 | 21101)) {
            return (v, got.json["model_version"].clone());
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "still training"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn predict(api: &Api, path: &str, text: &str) -> Reply {
    api.post(
        path,
        json!({ "inputs": [{ "data": { "text": { "raw": text } } }] }),
    )
}

fn top(r: &Reply) -> String {
    r.json["outputs"][0]["data"]["concepts"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no prediction in {}", r.json))
        .to_owned()
}

#[test]
fn models_create_list_search_patch_delete_and_types() {
    let (_app, api) = setup();
    let types = api.get(&format!("{A}/models/types"));
    assert_eq!(
        ids(&types, "model_types"),
        ["text-classifier", "visual-classifier"]
    );
    assert_eq!(types.json["model_types"][0]["trainable"], true);
    let made = api.post(
        &format!("{A}/models"),
        model(
            "topics",
            "Topics",
            "text-classifier",
            &["sports", "cooking"],
        ),
    );
    assert_eq!(made.code(), 10000, "{}", made.json);
    assert_eq!(made.json["model"]["model_type_id"], "text-classifier");
    assert_eq!(made.json["model"]["visibility"]["gettable"], "PRIVATE");
    assert_eq!(concept_ids(&made.json["model"]), ["cooking", "sports"]);
    assert!(
        made.json["model"].get("model_version").is_none(),
        "no version yet"
    );
    // The concepts were created in the app.
    assert_eq!(
        ids(&api.get(&format!("{A}/concepts")), "concepts"),
        ["cooking", "sports"]
    );
    let pics = api.post(
        &format!("{A}/models"),
        model("pics", "Pictures", "visual-classifier", &["red"]),
    );
    assert_eq!(pics.code(), 10000);
    // Refusals: type, id, duplicate, concept; nothing is written.
    for (body, code, field) in [
        (model("x1", "X", "llm", &[]), 11102, "model.model_type_id"),
        (model("x1", "X", "", &[]), 11102, "model.model_type_id"),
        (
            model("Bad Id", "X", "text-classifier", &[]),
            11102,
            "model.id",
        ),
        (
            model("x1", "X", "text-classifier", &["no way!"]),
            11102,
            "concepts[0].id",
        ),
        (
            model("topics", "X", "text-classifier", &[]),
            40010,
            "topics",
        ),
        (json!({}), 11102, "model"),
    ] {
        let r = api.post(&format!("{A}/models"), body);
        assert_eq!(r.code(), code, "{field}: {}", r.json);
        assert!(r.details().contains(field), "{field}: {}", r.details());
    }
    let listed = api.get(&format!("{A}/models"));
    assert_eq!(
        ids(&listed, "models"),
        ["pics", "topics"],
        "last updated first"
    );
    assert_eq!(
        ids(&api.get(&format!("{A}/models?name=TOP")), "models"),
        ["topics"]
    );
    assert_eq!(
        ids(
            &api.get(&format!("{A}/models?model_type_id=visual-classifier")),
            "models"
        ),
        ["pics"]
    );
    assert_eq!(
        api.get(&format!("{A}/models?model_type_id=nope")).code(),
        11102
    );
    let searched = api.post(
        &format!("{A}/models/searches"),
        json!({ "model_query": { "name": "pic", "model_type_id": "visual-classifier" } }),
    );
    assert_eq!(ids(&searched, "models"), ["pics"]);
    let got = api.get(&format!("{A}/models/topics"));
    assert_eq!(got.json["model"]["name"], "Topics");
    let missing = api.get(&format!("{A}/models/nope"));
    assert_eq!((missing.http, missing.code()), (404, 21200));
    // PATCH: fields, visibility, and the concepts merged / removed / replaced.
    let patched = api.patch(
        &format!("{A}/models"),
        json!({ "action": "merge", "models": [{ "id": "topics", "name": "Topic finder", "description": "",
            "visibility": { "gettable": "PUBLIC" },
            "output_info": { "data": { "concepts": [{ "id": "weather" }] } } }] }),
    );
    assert_eq!(patched.code(), 10000, "{}", patched.json);
    let m = &patched.json["models"][0];
    assert_eq!(
        (m["name"].as_str(), m["visibility"]["gettable"].as_str()),
        (Some("Topic finder"), Some("PUBLIC"))
    );
    assert_eq!(concept_ids(m), ["cooking", "sports", "weather"]);
    let removed = api.patch(
        &format!("{A}/models"),
        json!({ "action": "remove", "models": [{ "id": "topics", "output_info": { "data": { "concepts": [{ "id": "weather" }] } } }] }),
    );
    assert_eq!(
        concept_ids(&removed.json["models"][0]),
        ["cooking", "sports"]
    );
    let replaced = api.patch(
        &format!("{A}/models"),
        json!({ "action": "overwrite", "models": [{ "id": "pics", "description": "colours",
            "output_info": { "data": { "concepts": [{ "id": "blue" }, { "id": "green" }] } } }] }),
    );
    assert_eq!(concept_ids(&replaced.json["models"][0]), ["blue", "green"]);
    assert_eq!(replaced.json["models"][0]["description"], "colours");
    let bad = api.patch(
        &format!("{A}/models"),
        json!({ "models": [{ "id": "nope", "name": "x" }] }),
    );
    assert_eq!(bad.code(), 21200);
    let bad = api.patch(
        &format!("{A}/models"),
        json!({ "models": [{ "id": "pics", "name": "x".repeat(300) }] }),
    );
    assert_eq!(bad.code(), 11102);
    // DELETE one, then several.
    assert_eq!(api.delete(&format!("{A}/models/pics")).code(), 10000);
    assert_eq!(api.delete(&format!("{A}/models/pics")).code(), 21200);
    api.post(
        &format!("{A}/models"),
        model("m2", "Two", "text-classifier", &[]),
    );
    let none = api.send(
        reqwest::Method::DELETE,
        &format!("{A}/models"),
        Some(&json!({ "ids": ["m2", "nope"] }).to_string()),
        &[],
    );
    assert_eq!(none.code(), 21200);
    let both = api.send(
        reqwest::Method::DELETE,
        &format!("{A}/models"),
        Some(&json!({ "ids": ["m2", "topics"] }).to_string()),
        &[],
    );
    assert_eq!(both.code(), 10000, "{}", both.json);
    assert!(ids(&api.get(&format!("{A}/models")), "models").is_empty());
    api.post(
        &format!("{A}/models"),
        model("m3", "Three", "text-classifier", &[]),
    );
    api.post(
        &format!("{A}/models"),
        model("m4", "Four", "visual-classifier", &[]),
    );
    let all = api.send(
        reqwest::Method::DELETE,
        &format!("{A}/models"),
        Some(&json!({ "delete_all": true }).to_string()),
        &[],
    );
    assert_eq!(all.code(), 10000, "{}", all.json);
    assert!(ids(&api.get(&format!("{A}/models")), "models").is_empty());
}

#[test]
fn train_through_versions_and_predict_through_outputs() {
    let (app, api) = setup();
    post_texts(&api, A);
    api.post(
        &format!("{A}/models"),
        model(
            "topics",
            "Topics",
            "text-classifier",
            &["sports", "cooking"],
        ),
    );
    let out = format!("{A}/models/topics/outputs");
    // Untrained: 21102, never a 500.
    let early = predict(&api, &out, "the match");
    assert_eq!((early.http, early.code()), (400, 21102), "{}", early.json);
    let (v, version) = train(&api, A, "topics");
    assert_eq!(version["status"]["code"], 21100, "{version}");
    assert_eq!(version["total_input_count"], 40);
    assert_eq!(version["active_concept_count"], 2);
    assert!(
        version["metrics"]["summary"]["macro_avg_f1_score"]
            .as_f64()
            .unwrap_or(0.0)
            > 0.5
    );
    assert!(version["completed_at"].is_string());
    let listed = api.get(&format!("{A}/models/topics/versions"));
    assert_eq!(ids(&listed, "model_versions"), std::slice::from_ref(&v));
    // Latest trained version, a named one, several inputs at once.
    let r = predict(
        &api,
        &out,
        "The striker scored a goal and the team won the match",
    );
    assert_eq!(r.code(), 10000, "{}", r.json);
    assert_eq!(top(&r), "sports");
    assert_eq!(
        r.json["outputs"][0]["model"]["model_version"]["id"],
        v.as_str()
    );
    let named = predict(
        &api,
        &format!("{A}/models/topics/versions/{v}/outputs"),
        "Whisk the eggs and bake the cake",
    );
    assert_eq!(top(&named), "cooking");
    let many = api.post(
        &out,
        json!({ "inputs": [
        { "id": "q1", "data": { "text": { "raw": "Simmer the soup with garlic" } } },
        { "id": "q2", "data": { "text": { "raw": "The coach praised the goalkeeper" } } } ] }),
    );
    assert_eq!(many.json["outputs"][0]["input"]["id"], "q1");
    // Each output echoes its input and names the model, the version and the
    // concepts with their scores, best first.
    let second = &many.json["outputs"][1];
    assert_eq!(
        second["input"]["data"]["text"]["raw"],
        "The coach praised the goalkeeper"
    );
    assert_eq!(second["status"]["code"], 10000);
    assert_eq!(second["model"]["id"], "topics");
    assert_eq!(second["model"]["model_type_id"], "text-classifier");
    assert_eq!(second["model"]["model_version"]["id"], v.as_str());
    let scores: Vec<f64> = second["data"]["concepts"]
        .as_array()
        .expect("concepts")
        .iter()
        .map(|c| c["value"].as_f64().expect("a score"))
        .collect();
    assert!(
        scores.len() >= 2 && scores.windows(2).all(|w| w[0] >= w[1]),
        "{scores:?}"
    );
    assert!(second["data"]["concepts"][0]["name"].is_string());
    // A second training: its version answers; once deleted, the first again.
    let (v2, again) = train(&api, A, "topics");
    assert_eq!(again["status"]["code"], 21100, "{again}");
    let latest = |api: &_| {
        predict(api, &out, "the goal").json["outputs"][0]["model"]["model_version"]["id"].clone()
    };
    assert_eq!(latest(&api), v2.as_str());
    assert_eq!(
        api.delete(&format!("{A}/models/topics/versions/{v2}"))
            .code(),
        10000
    );
    assert_eq!(latest(&api), v.as_str());
    assert_eq!(
        many.json["outputs"][1]["data"]["concepts"][0]["id"],
        "sports"
    );
    // Refusals, each with its status.
    let empty = predict(&api, &out, "  ");
    assert_eq!((empty.http, empty.code()), (400, 11102));
    assert!(empty.details().contains("inputs[0]"), "{}", empty.details());
    let b64 = base64::engine::general_purpose::STANDARD.encode(png([1, 2, 3], [9, 9, 9], true, 1));
    let image = api.post(
        &out,
        json!({ "inputs": [{ "data": { "image": { "base64": b64 } } }] }),
    );
    assert_eq!(image.code(), 11102, "{}", image.json);
    assert_eq!(api.post(&out, json!({ "inputs": [] })).code(), 11102);
    let unknown = predict(
        &api,
        &format!("{A}/models/topics/versions/nope/outputs"),
        "x",
    );
    assert_eq!((unknown.http, unknown.code()), (404, 11101));
    assert_eq!(
        predict(&api, &format!("{A}/models/nope/outputs"), "x").code(),
        21200
    );
    // A key without the predict scope; a key without models:train.
    let (_, k) = token_with(&app, "alice", &["apps:read"], None);
    let reader = Api::new(&app, Some(&k));
    assert_eq!(predict(&reader, &out, "x").code(), 11007);
    assert_eq!(
        reader
            .post(&format!("{A}/models/topics/versions"), json!({}))
            .code(),
        11007
    );
    assert_eq!(
        reader
            .get(&format!("{A}/models/topics/versions/{v}"))
            .code(),
        10000
    );
    // A model that cannot learn fails with the platform's code and the reason.
    api.post(
        &format!("{A}/models"),
        model("single", "One", "text-classifier", &["sports"]),
    );
    let (_, failed) = train(&api, A, "single");
    assert_eq!(failed["status"]["code"], 21112, "{failed}");
    assert!(failed["status"]["details"]
        .as_str()
        .unwrap_or("")
        .contains("two concepts"));
    // Deleting the version: the model is untrained again.
    assert_eq!(
        api.delete(&format!("{A}/models/topics/versions/{v}"))
            .code(),
        10000
    );
    assert_eq!(
        api.get(&format!("{A}/models/topics/versions/{v}")).code(),
        11101
    );
    assert_eq!(predict(&api, &out, "the match").code(), 21102);
}

#[test]
fn visual_model_refuses_what_is_not_an_image() {
    let (_app, api) = setup();
    let enc = |b: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(b);
    let mut inputs = Vec::new();
    for i in 0..8 {
        inputs.push(json!({ "data": { "image": { "base64": enc(png([210, 30, 30], [250, 250, 250], true, i)) }, "concepts": [{ "id": "red" }] } }));
        inputs.push(json!({ "data": { "image": { "base64": enc(png([30, 40, 200], [250, 250, 250], false, i)) }, "concepts": [{ "id": "blue" }] } }));
    }
    assert_eq!(
        api.post(&format!("{A}/inputs"), json!({ "inputs": inputs }))
            .code(),
        10000
    );
    api.post(
        &format!("{A}/models"),
        model("colours", "Colours", "visual-classifier", &["red", "blue"]),
    );
    let (_, version) = train(&api, A, "colours");
    assert_eq!(version["status"]["code"], 21100, "{version}");
    let out = format!("{A}/models/colours/outputs");
    let red = api.post(&out, json!({ "inputs": [{ "data": { "image": { "base64": enc(png([200, 20, 20], [250, 250, 250], true, 99)) } } }] }));
    assert_eq!(top(&red), "red");
    let words = api.post(
        &out,
        json!({ "inputs": [{ "data": { "image": { "base64": enc(b"just words".to_vec()) } } }] }),
    );
    assert_eq!((words.http, words.code()), (400, 11102), "{}", words.json);
    let text = predict(&api, &out, "a red disc");
    assert_eq!(text.code(), 11102, "{}", text.json);
    let url = api.post(
        &out,
        json!({ "inputs": [{ "data": { "image": { "url": "http://example.com/x.png" } } }] }),
    );
    assert_eq!(url.code(), 11102);
}

#[test]
fn model_stars_and_public_models() {
    let (app, api) = setup();
    api.post(
        &format!("{A}/models"),
        model("topics", "Topics", "text-classifier", &["a", "b"]),
    );
    let stars = format!("{A}/model_stars");
    let starred = api.post(&stars, json!({ "model_stars": [{ "model_id": "topics" }] }));
    assert_eq!(starred.code(), 10000, "{}", starred.json);
    assert_eq!(starred.json["model_stars"][0]["model_id"], "topics");
    api.post(&stars, json!({ "model_stars": [{ "model_id": "topics" }] }));
    let m = api.get(&format!("{A}/models/topics"));
    assert_eq!(
        (
            m.json["model"]["is_starred"].as_bool(),
            m.json["model"]["star_count"].as_i64()
        ),
        (Some(true), Some(1)),
        "idempotent"
    );
    assert_eq!(
        api.post(&stars, json!({ "model_stars": [{ "model_id": "nope" }] }))
            .code(),
        21200
    );
    assert_eq!(api.post(&stars, json!({})).code(), 11102);
    let unstar = api.send(
        reqwest::Method::DELETE,
        &stars,
        Some(&json!({ "model_ids": ["topics"] }).to_string()),
        &[],
    );
    assert_eq!(unstar.code(), 10000);
    let m = api.get(&format!("{A}/models/topics"));
    assert_eq!(
        (
            m.json["model"]["is_starred"].as_bool(),
            m.json["model"]["star_count"].as_i64()
        ),
        (Some(false), Some(0))
    );
    // Another user: the private model does not exist; once public it can be
    // read and starred, while the app's inputs stay hidden.
    app.signup("bob");
    let bob = Api::new(&app, Some(&token(&app, "bob")));
    assert_eq!(bob.get(&format!("{A}/models/topics")).code(), 11101);
    assert_eq!(
        bob.post(&stars, json!({ "model_stars": [{ "model_id": "topics" }] }))
            .code(),
        11101
    );
    api.patch(
        &format!("{A}/models"),
        json!({ "models": [{ "id": "topics", "visibility": { "gettable": "PUBLIC" } }] }),
    );
    let seen = bob.get(&format!("{A}/models/topics"));
    assert_eq!(seen.code(), 10000, "{}", seen.json);
    assert_eq!(
        bob.post(&stars, json!({ "model_stars": [{ "model_id": "topics" }] }))
            .code(),
        10000
    );
    assert_eq!(
        api.get(&format!("{A}/models/topics")).json["model"]["star_count"],
        1
    );
    assert_eq!(bob.get(&format!("{A}/inputs")).code(), 11101);
    assert_eq!(
        bob.get(&format!("{A}/models/other")).code(),
        11101,
        "only the public model is seen"
    );
    let untrained = predict(&bob, &format!("{A}/models/topics/outputs"), "x");
    assert_eq!(
        untrained.code(),
        21102,
        "bob may predict with a public model"
    );
    let no_edit = bob.patch(
        &format!("{A}/models"),
        json!({ "models": [{ "id": "topics", "name": "mine" }] }),
    );
    assert_eq!(
        (no_edit.http, no_edit.code()),
        (403, 11007),
        "{}",
        no_edit.json
    );
    assert_eq!(bob.delete(&format!("{A}/models/topics")).code(), 11007);
}

#[test]
fn predictions_check_the_key_before_the_body() {
    let (app, api) = setup();
    let created = api.post(
        &format!("{A}/models"),
        model(
            "topics",
            "Topics",
            "text-classifier",
            &["sports", "cooking"],
        ),
    );
    assert_eq!(created.code(), 10000, "{}", created.json);
    let out = format!("{A}/models/topics/outputs");
    // A wrong key is refused as such, whatever the body says.
    let stranger = Api::new(&app, Some("not-a-key"));
    let bad = stranger.send(reqwest::Method::POST, &out, Some("{not json"), &[]);
    assert_eq!((bad.http, bad.code()), (401, 11009), "{}", bad.json);
    let none = Api::new(&app, None);
    let missing = none.post(&out, json!({ "inputs": [] }));
    assert_eq!(missing.code(), 11008, "{}", missing.json);
    // With a good key: the body, then the input, then the model's state.
    let broken = api.send(reqwest::Method::POST, &out, Some("{not json"), &[]);
    assert_eq!(broken.code(), 11100, "{}", broken.json);
    let empty = api.post(&out, json!({ "inputs": [] }));
    assert_eq!(empty.code(), 11102, "{}", empty.json);
    let image = api.post(
        &out,
        json!({ "inputs": [{ "data": { "image": { "base64": "aGVsbG8=" } } }] }),
    );
    assert_eq!(image.code(), 11102, "{}", image.json);
    assert!(
        image.json["status"]["details"]
            .as_str()
            .is_some_and(|d| d.starts_with("inputs[0]: ")),
        "{}",
        image.json
    );
    let untrained = predict(&api, &out, "the match");
    assert_eq!((untrained.http, untrained.code()), (400, 21102));
    // Another user's key learns nothing about the app.
    app.signup("bob");
    let bob = Api::new(&app, Some(&token(&app, "bob")));
    let hidden = predict(&bob, &out, "the match");
    assert_eq!(hidden.code(), 11101, "{}", hidden.json);
}
