//! API Keys under the profile: create a token (secret shown once), list, revoke;
//! form errors; the token works against `/v2` until it is revoked.

use crate::api_support::Api;
use crate::support::TestApp;

#[test]
fn create_shows_the_secret_once_then_list_and_revoke() {
    let app = TestApp::start();
    let c = app.signup("tina");

    // Signed out: sent to sign in.
    let anon = app.client().get("/settings/tokens");
    assert_eq!(anon.status, 303);
    assert!(anon.location().starts_with("/login"));

    let empty = c.get("/settings/tokens");
    assert_eq!(empty.status, 200);
    assert!(empty.has("[data-testid=no-tokens]"));
    assert!(empty.has(".settings-nav a.current[href='/settings/tokens']"));
    // Every scope is offered and checked by default; the expiry has a default.
    let offered = empty.attrs("#token-scopes input[type=checkbox][name=scopes]", "value");
    assert_eq!(offered, crate::api_support::all_scopes());
    assert_eq!(
        empty.count("#token-scopes input[name=scopes][checked]"),
        offered.len()
    );
    assert_eq!(empty.attr("#token-expires option[selected]", "value"), "90");
    assert_eq!(
        empty.attrs("#token-expires option", "value"),
        ["7", "30", "90", "365", "never", "date"]
    );

    let created = c.post_form(
        "/settings/tokens",
        &[
            ("description", "CI <pipeline> ünïcode"),
            ("scopes", "apps:read"),
            ("scopes", "keys:read"),
            ("expires", "7"),
        ],
    );
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(
        created
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let secret = created.text("[data-testid=new-token-secret]");
    assert_eq!(secret.len(), 40);
    assert_eq!(
        created.attr("[data-testid=copy-token]", "data-copy"),
        secret
    );
    assert!(created
        .text("[data-testid=secret-warning]")
        .contains("will not be shown again"));
    // The row, escaped, with its scopes, expiry and no use yet.
    let row = "[data-testid=tokens] tr[data-key-id]";
    assert_eq!(created.count(row), 1);
    assert_eq!(
        created.text(&format!("{row} .token-description")),
        "CI <pipeline> ünïcode"
    );
    assert!(
        !created.body.contains("CI <pipeline>"),
        "description escaped"
    );
    assert_eq!(
        created.text(&format!("{row} .token-scopes")),
        "apps:read, keys:read"
    );
    assert_ne!(created.text(&format!("{row} .token-expires")), "Never");
    assert_eq!(created.text(&format!("{row} .token-last-used")), "Never");

    // Shown once: the list never shows it again.
    let again = c.get("/settings/tokens");
    assert!(!again.has("[data-testid=new-token-secret]"));
    assert!(!again.body.contains(&secret));

    // It works against the API, with its scopes, and the use is recorded.
    let api = Api::new(&app, Some(&secret));
    assert_eq!(api.get("/v2/users/me/apps").code(), 10000);
    assert_eq!(
        api.post(
            "/v2/users/me/apps",
            serde_json::json!({"apps": [{"id": "nope"}]})
        )
        .code(),
        11007
    );
    let used = c.get("/settings/tokens");
    assert_ne!(used.text(&format!("{row} .token-last-used")), "Never");

    // Revoke: gone from the list, and the API refuses the secret.
    let key_id = used.attr(row, "data-key-id");
    let revoked = c.post_form(&format!("/settings/tokens/{key_id}/revoke"), &[]);
    assert_eq!(revoked.status, 303);
    assert_eq!(revoked.location(), "/settings/tokens");
    let after = c.get("/settings/tokens");
    assert_eq!(after.count(row), 0);
    assert!(after.text(".flash").contains("revoked"));
    assert_eq!(api.get("/v2/users/me/apps").code(), 11009);
    // Revoking again: not found.
    assert_eq!(
        c.post_form(&format!("/settings/tokens/{key_id}/revoke"), &[])
            .status,
        404
    );
}

#[test]
fn bad_input_keeps_the_form_and_writes_nothing() {
    let app = TestApp::start();
    let c = app.signup("uma");
    let row = "[data-testid=tokens] tr[data-key-id]";

    let no_description = c.post_form(
        "/settings/tokens",
        &[
            ("description", "  "),
            ("scopes", "orgs:read"),
            ("expires", "30"),
        ],
    );
    assert_eq!(no_description.status, 422);
    assert!(no_description.field_error("description").is_some());
    // What was typed is kept: only orgs:read stays checked, 30 days stays chosen.
    assert_eq!(
        no_description.attrs("#token-scopes input[name=scopes][checked]", "value"),
        ["orgs:read"]
    );
    assert_eq!(
        no_description.attr("#token-expires option[selected]", "value"),
        "30"
    );

    let long = "x".repeat(201);
    let too_long = c.post_form(
        "/settings/tokens",
        &[
            ("description", &long),
            ("scopes", "apps:read"),
            ("expires", "never"),
        ],
    );
    assert_eq!(too_long.status, 422);
    assert!(too_long
        .field_error("description")
        .expect("long")
        .contains("200"));

    let no_scopes = c.post_form(
        "/settings/tokens",
        &[("description", "none"), ("expires", "never")],
    );
    assert_eq!(no_scopes.status, 422);
    assert!(no_scopes
        .field_error("scopes")
        .expect("scopes")
        .contains("at least one"));
    assert_eq!(no_scopes.attr("#token-description", "value"), "none");

    let bad_scope = c.post_form(
        "/settings/tokens",
        &[
            ("description", "x"),
            ("scopes", "admin:all' OR 1=1"),
            ("expires", "never"),
        ],
    );
    assert_eq!(bad_scope.status, 422);
    assert!(bad_scope
        .field_error("scopes")
        .expect("unknown")
        .contains("Unknown scope"));

    for (expires, on) in [
        ("date", "2001-01-01"),
        ("date", "tomorrow"),
        ("-5", ""),
        ("", ""),
    ] {
        let bad = c.post_form(
            "/settings/tokens",
            &[
                ("description", "dated"),
                ("scopes", "apps:read"),
                ("expires", expires),
                ("expires_on", on),
            ],
        );
        assert_eq!(bad.status, 422, "expires={expires} on={on}");
        assert!(
            bad.field_error("expires").is_some(),
            "expires={expires} on={on}"
        );
        assert_eq!(bad.attr("#token-expires-on", "value"), on);
    }
    assert_eq!(
        c.get("/settings/tokens").count(row),
        0,
        "nothing was written"
    );

    // A chosen day works, and shows the end of that day.
    let dated = c.post_form(
        "/settings/tokens",
        &[
            ("description", "dated"),
            ("scopes", "apps:read"),
            ("expires", "date"),
            ("expires_on", "2999-12-30"),
        ],
    );
    assert_eq!(dated.status, 200, "{}", dated.body);
    assert_eq!(
        dated.text(&format!("{row} .token-expires")),
        "2999-12-31 00:00 UTC"
    );
    // No expiry.
    let forever = c.post_form(
        "/settings/tokens",
        &[
            ("description", "forever"),
            ("scopes", "apps:read"),
            ("expires", "never"),
        ],
    );
    assert_eq!(forever.status, 200);
    assert_eq!(forever.count(row), 2);
    assert!(forever
        .texts(&format!("{row} .token-expires"))
        .contains(&"Never".to_owned()));
}

#[test]
fn tokens_are_private_to_their_user() {
    let app = TestApp::start();
    let vic = app.signup("vic");
    let walt = app.signup("walt");
    let made = vic.post_form(
        "/settings/tokens",
        &[
            ("description", "vic's"),
            ("scopes", "apps:read"),
            ("expires", "never"),
        ],
    );
    let secret = made.text("[data-testid=new-token-secret]");
    let key_id = made.attr("[data-testid=tokens] tr[data-key-id]", "data-key-id");

    // Walt sees none of vic's tokens and cannot revoke them.
    let walts = walt.get("/settings/tokens");
    assert!(walts.has("[data-testid=no-tokens]"));
    let refused = walt.post_form(&format!("/settings/tokens/{key_id}/revoke"), &[]);
    assert_eq!(refused.status, 404);
    assert_eq!(
        Api::new(&app, Some(&secret))
            .get("/v2/users/me/apps")
            .code(),
        10000
    );
    // Without the CSRF token the revoke is refused.
    let forged = vic.post_raw(&format!("/settings/tokens/{key_id}/revoke"), &[]);
    assert_eq!(forged.status, 403);
    assert_eq!(
        vic.get("/settings/tokens")
            .count("[data-testid=tokens] tr[data-key-id]"),
        1
    );
}
