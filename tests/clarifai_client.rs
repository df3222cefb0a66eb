//! The hosted platform's own Python client (`clarifai-grpc`'s JSON channel) against
//! a running Atrium: `tests/clients/clarifai_apps.py` does PostApps, ListApps,
//! GetApp, PatchApp and DeleteApp and checks every answer; the client has no
//! organization, member or invitation RPCs, so for those only its invitation
//! status enum is checked against what the API sends. The interpreter comes
//! from `ATRIUM_TEST_PYTHON` (default `python3`); without `clarifai_grpc` the test
//! fails and says how to install it.

use std::process::Command;

use crate::api_support::{token, Api};
use crate::support::TestApp;

fn python() -> String {
    std::env::var("ATRIUM_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

const INSTALL: &str =
    "Run tests/run (it prepares $HOME/.cache/atrium/venv), or install the client \
    into a Python and point ATRIUM_TEST_PYTHON at it: \
    python3 -m venv $HOME/.cache/atrium/venv && \
    $HOME/.cache/atrium/venv/bin/pip install clarifai-grpc 'protobuf<7' requests && \
    export ATRIUM_TEST_PYTHON=$HOME/.cache/atrium/venv/bin/python";

#[test]
fn clarifai_grpc_json_channel_drives_the_apps_api() {
    let py = python();
    let probe = Command::new(&py)
        .args(["-c", "import clarifai_grpc, requests, google.protobuf"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run the Python interpreter {py:?}: {e}. {INSTALL}"));
    assert!(
        probe.status.success(),
        "{py} cannot import clarifai_grpc and requests:\n{}\n{INSTALL}",
        String::from_utf8_lossy(&probe.stderr)
    );

    let app = TestApp::start();
    app.signup("pyuser");
    let pat = token(&app, "pyuser");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/clarifai_apps.py"
    );
    let out = Command::new(&py)
        .arg(script)
        .env("ATRIUM_BASE_URL", &app.base)
        .env("ATRIUM_PAT", &pat)
        .env("ATRIUM_USER_ID", "pyuser")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .output()
        .expect("run the client script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the clarifai-grpc script failed ({}).\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("checks passed"),
        "the script did not report its checks.\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // What the client left behind, seen through the API and the database.
    let api = Api::new(&app, Some(&pat));
    let listed = api.get("/v2/users/pyuser/apps");
    assert_eq!(listed.code(), 10000);
    assert_eq!(listed.app_ids(), ["client-two"]);
    let one = api.get("/v2/users/pyuser/apps/client-one");
    assert_eq!(one.code(), 11101);
}

/// The installed `clarifai-grpc` has no organization, member or invitation RPCs
/// (no `ListOrganizationMembers`, `PostOrganizationInvitations`, ... in its
/// `V2Stub`, and no JSON-channel routes for them), so those endpoints cannot be
/// driven through it. What it does carry is the `OrganizationInvitationStatus`
/// enum: every status the invitations API sends must be one of its names, so that
/// a client parsing our JSON with it reads the status.
#[test]
fn clarifai_grpc_reads_every_invitation_status_the_api_sends() {
    use atrium::models::invitation::InvitationStatus;
    let py = python();
    let script = r#"
import json
from clarifai_grpc.grpc.api import service_pb2
print(json.dumps({"statuses": list(service_pb2.OrganizationInvitationStatus.keys())}))
"#;
    let out = Command::new(&py)
        .args(["-c", script])
        .output()
        .unwrap_or_else(|e| panic!("cannot run the Python interpreter {py:?}: {e}. {INSTALL}"));
    assert!(
        out.status.success(),
        "{py} cannot read clarifai_grpc's enums:\n{}\n{INSTALL}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    let names: Vec<&str> = found["statuses"]
        .as_array()
        .expect("statuses")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for status in [
        InvitationStatus::Pending,
        InvitationStatus::Accepted,
        InvitationStatus::Declined,
        InvitationStatus::Cancelled,
        InvitationStatus::Expired,
    ] {
        assert!(
            names.contains(&status.api_name()),
            "{} is not an OrganizationInvitationStatus name: {names:?}",
            status.api_name()
        );
    }
}

/// The whole content loop through the client's JSON channel:
/// `tests/clients/clarifai_content.py` posts labelled inputs, creates a text
/// classifier, trains it, polls the version until MODEL_TRAINED and predicts.
#[test]
fn clarifai_grpc_json_channel_trains_and_predicts() {
    let py = python();
    let app = TestApp::start();
    app.signup("looper");
    let pat = token(&app, "looper");
    let texts: Vec<(&str, &str)> = crate::support::content::labelled_texts();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("texts.json");
    std::fs::write(&file, serde_json::to_vec(&texts).expect("json")).expect("write texts");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/clarifai_content.py"
    );
    let out = Command::new(&py)
        .arg(script)
        .env("ATRIUM_BASE_URL", &app.base)
        .env("ATRIUM_PAT", &pat)
        .env("ATRIUM_USER_ID", "looper")
        .env("ATRIUM_TEXTS", &file)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {py:?}: {e}. {INSTALL}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("checks passed"),
        "the clarifai-grpc content loop failed ({}).\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("MODEL_TRAINED"),
        "the version was seen trained: {stdout}"
    );

    // What the client left behind, through the plain API.
    let api = Api::new(&app, Some(&pat));
    let model = api.get("/v2/users/looper/apps/loop-app/models/topics");
    assert_eq!(model.code(), 10000, "{}", model.json);
    assert_eq!(
        model.json["model"]["model_version"]["status"]["code"],
        21100
    );
}
