//! The hosted platform's own Python client (`clarifai-grpc`'s JSON channel) against
//! a running Atrium: `tests/clients/clarifai_apps.py` does PostApps, ListApps,
//! GetApp, PatchApp and DeleteApp and checks every answer. The interpreter comes
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
