//! Two-factor authentication: enrolment from the page's secret (as an authenticator
//! app reads it), the sign-in step with a TOTP code or a single-use recovery code,
//! replay and throttling, turning it off, and an organization's "Require
//! two-factor" rule with its grace period.

use atrium::auth::totp;
use atrium::db::schema::{accounts, recovery_codes, user_totp};
use diesel::prelude::*;

use crate::support::invites::audit_events;
use crate::support::{Client, TestApp};

const PASSWORD: &str = "correct horse battery";

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Starts enrolment and returns the secret the page shows (base32, decoded).
fn start_enrolment(c: &Client) -> Vec<u8> {
    let res = c.post_form("/settings/two-factor/setup", &[]);
    assert_eq!(res.status, 303, "{}", res.body);
    let page = c.get("/settings/two-factor");
    assert_eq!(page.status, 200);
    assert!(
        page.has("[data-testid=qr] svg"),
        "QR code drawn server-side"
    );
    let shown = page.text("#totp-secret");
    totp::base32_decode(&shown).expect("base32 secret")
}

/// Enrols with a code computed from the shown secret; returns (secret, recovery codes).
fn enrol(c: &Client) -> (Vec<u8>, Vec<String>) {
    let secret = start_enrolment(c);
    let done = c.post_form(
        "/settings/two-factor/confirm",
        &[("code", &totp::code_at(&secret, unix_now()))],
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(
        done.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let codes = done.texts("[data-testid=recovery-codes] code");
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

fn user_id(app: &TestApp, handle: &str) -> i64 {
    let mut conn = app.state.pool.get().expect("conn");
    accounts::table
        .filter(accounts::handle.eq(handle))
        .select(accounts::id)
        .first(&mut *conn)
        .expect("user")
}

/// Signs in with the password; expects the two-factor step.
fn password_step(app: &TestApp, handle: &str) -> Client {
    let c = app.client();
    let res = c.post_form("/login", &[("login", handle), ("password", PASSWORD)]);
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), "/login/two-factor");
    c
}

/// A 6-digit code that is none of the codes accepted around now.
fn wrong_code(secret: &[u8]) -> String {
    let t = unix_now();
    let taken: Vec<String> = [-60, -30, 0, 30, 60]
        .iter()
        .map(|d| totp::code_at(secret, t + d))
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !taken.contains(c))
        .expect("a wrong code")
}

#[test]
fn enrol_then_sign_in_with_a_code_or_a_recovery_code() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    let (secret, codes) = enrol(&admin);
    let page = admin.get("/settings/two-factor");
    assert!(page.has("#two-factor-on"));
    assert_eq!(page.text("[data-testid=codes-left]"), "10");

    // Stored encrypted (not the base32 the page showed), recovery codes hashed.
    let uid = user_id(&app, "alice");
    {
        let mut conn = app.state.pool.get().expect("conn");
        let stored: String = user_totp::table
            .find(uid)
            .select(user_totp::secret)
            .first(&mut *conn)
            .expect("totp row");
        assert!(!stored.contains(&totp::base32_encode(&secret)));
        assert_eq!(
            totp::open(&app.state.config.session_key, &stored).as_deref(),
            Some(&secret[..])
        );
        let hashes: Vec<String> = recovery_codes::table
            .filter(recovery_codes::user_id.eq(uid))
            .select(recovery_codes::code_hash)
            .load(&mut *conn)
            .expect("codes");
        assert_eq!(hashes.len(), 10);
        assert!(codes.iter().all(|c| !hashes.contains(c)));
    }

    // The password alone does not sign in.
    let c = password_step(&app, "alice");
    assert_eq!(c.get("/settings/profile").status, 303);
    assert_eq!(c.get("/login/two-factor").status, 200);
    let wrong = c.post_form("/login/two-factor", &[("code", &wrong_code(&secret))]);
    assert_eq!(wrong.status, 422);
    assert!(wrong.has(".form-error"));
    // The code used to enrol is spent (its time step was accepted once).
    let t = unix_now();
    let next = totp::code_at(&secret, t + 30);
    let ok = c.post_form("/login/two-factor", &[("code", &next)]);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), "/alice/apps");
    assert_eq!(c.get("/settings/profile").status, 200);

    // The same code again, in another browser: refused (no replay).
    let again = password_step(&app, "alice");
    let replay = again.post_form("/login/two-factor", &[("code", &next)]);
    assert_eq!(replay.status, 422);

    // A recovery code works once (case and dashes do not matter).
    let rc = codes[3].to_uppercase().replace('-', " ");
    let by_recovery = again.post_form("/login/two-factor", &[("code", &rc)]);
    assert_eq!(by_recovery.status, 303, "{}", by_recovery.body);
    assert_eq!(again.get("/settings/profile").status, 200);
    let third = password_step(&app, "alice");
    assert_eq!(
        third
            .post_form("/login/two-factor", &[("code", &codes[3])])
            .status,
        422
    );
    assert_eq!(
        again
            .get("/settings/two-factor")
            .text("[data-testid=codes-left]"),
        "9"
    );

    let kinds: Vec<(String, bool)> = audit_events(&app, "acme")
        .into_iter()
        .map(|e| (e.event_type, e.success))
        .collect();
    for want in [
        ("two_factor.enable", true),
        ("two_factor.recovery_code_use", true),
        ("session.sign_in", true),
        ("session.sign_in_failed", false),
    ] {
        assert!(
            kinds.contains(&(want.0.to_owned(), want.1)),
            "{want:?} in {kinds:?}"
        );
    }

    // New recovery codes need the password; the old ones stop working.
    let refused = again.post_form(
        "/settings/two-factor/recovery-codes",
        &[("password", "nope")],
    );
    assert_eq!(refused.status, 422);
    assert!(refused.field_error("regenerate").is_some());
    let fresh = again.post_form(
        "/settings/two-factor/recovery-codes",
        &[("password", PASSWORD)],
    );
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    let new_codes = fresh.texts("[data-testid=recovery-codes] code");
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !codes.contains(c)));
    assert!(audit_events(&app, "acme")
        .iter()
        .any(|e| e.event_type == "two_factor.recovery_codes_replace"));
    let old = password_step(&app, "alice");
    assert_eq!(
        old.post_form("/login/two-factor", &[("code", &codes[0])])
            .status,
        422
    );
    assert_eq!(
        old.post_form("/login/two-factor", &[("code", &new_codes[0])])
            .status,
        303
    );

    // Turning it off needs the password (or a code).
    let bad = again.post_form("/settings/two-factor/disable", &[("password", "nope")]);
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("disable").is_some());
    let off = again.post_form("/settings/two-factor/disable", &[("password", PASSWORD)]);
    assert_eq!(off.status, 303);
    assert!(again.get("/settings/two-factor").has("#two-factor-off"));
    let plain = app.client();
    let res = plain.post_form("/login", &[("login", "alice"), ("password", PASSWORD)]);
    assert_eq!(res.location(), "/alice/apps", "no second step any more");
    assert!(audit_events(&app, "acme")
        .iter()
        .any(|e| e.event_type == "two_factor.disable"));
}

#[test]
fn a_wrong_confirmation_code_keeps_two_factor_off() {
    let app = TestApp::start();
    let c = app.signup("bob");
    let secret = start_enrolment(&c);
    let bad = c.post_form(
        "/settings/two-factor/confirm",
        &[("code", &wrong_code(&secret))],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("code").is_some());
    assert!(bad.has("#two-factor-enrol"), "the QR code is still shown");
    // Sign-in still needs only the password.
    let other = app.client();
    let res = other.post_form("/login", &[("login", "bob"), ("password", PASSWORD)]);
    assert_eq!(res.location(), "/bob/apps");
}

#[test]
fn wrong_codes_are_throttled() {
    let app = TestApp::start();
    let c = app.signup("carol");
    let (secret, _) = enrol(&c);
    let step = password_step(&app, "carol");
    let wrong = wrong_code(&secret);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            step.post_form("/login/two-factor", &[("code", &wrong)])
                .status,
        );
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    // Even the right code waits out the lock.
    let right = step.post_form(
        "/login/two-factor",
        &[("code", &totp::code_at(&secret, unix_now() + 30))],
    );
    assert_eq!(right.status, 429);
}

#[test]
fn an_org_can_require_two_factor_with_a_grace_period() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    // The admin has two-factor already, so the rule never holds them back.
    enrol(&admin);
    let member = app.signup("dave");
    app.add_member("acme", "dave", "org_contributor");

    // Bad input is shown next to the field, nothing saved.
    let bad = admin.post_form(
        "/acme/account/security/two-factor",
        &[("require_two_factor", "on"), ("grace_days", "lots")],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("grace_days").is_some());
    assert!(bad.has("#require_two_factor[checked]"));
    assert!(!member
        .get("/acme/apps")
        .has("[data-testid=two-factor-banner]"));
    // Members may not change it (the page does not exist for them).
    assert_eq!(
        member
            .post_form("/acme/account/security/two-factor", &[("grace_days", "0")])
            .status,
        404
    );

    let saved = admin.post_form(
        "/acme/account/security/two-factor",
        &[("require_two_factor", "on"), ("grace_days", "7")],
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = member.get("/acme/apps");
    assert_eq!(page.status, 200, "within the grace period");
    assert!(page.has("[data-testid=two-factor-banner]"));
    let in_a_week = (chrono::Utc::now() + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    assert!(page
        .text("[data-testid=two-factor-banner]")
        .contains(&in_a_week));

    // No grace left: enrolment comes before anything else.
    let now = admin.post_form(
        "/acme/account/security/two-factor",
        &[("require_two_factor", "on"), ("grace_days", "0")],
    );
    assert_eq!(now.status, 303);
    let sent = member.get("/acme/apps");
    assert_eq!(sent.status, 303);
    assert_eq!(sent.location(), "/settings/two-factor");
    assert_eq!(
        member.get("/settings/profile").location(),
        "/settings/two-factor"
    );
    enrol(&member);
    let page = member.get("/acme/apps");
    assert_eq!(page.status, 200);
    assert!(!page.has("[data-testid=two-factor-banner]"));
    assert!(
        audit_events(&app, "acme")
            .iter()
            .any(|e| e.event_type == "two_factor_policy.update"
                && e.details_json()["grace_days"] == 0)
    );

    // Switched off: nobody is held back.
    let off = admin.post_form("/acme/account/security/two-factor", &[("grace_days", "0")]);
    assert_eq!(off.status, 303);
    assert!(!admin
        .get("/acme/apps")
        .has("[data-testid=two-factor-banner]"));
}

#[test]
fn the_operator_can_turn_two_factor_off_for_a_locked_out_user() {
    use atrium::admin::{self, AdminCommand};
    let app = TestApp::start();
    let c = app.org_with_admin("acme", "erin");
    enrol(&c);
    assert!(admin::run(
        &app.state.config,
        AdminCommand::DisableTwoFactor {
            user: "nobody".into()
        }
    )
    .is_err());
    admin::run(
        &app.state.config,
        AdminCommand::DisableTwoFactor {
            user: "erin@example.com".into(),
        },
    )
    .expect("disable");
    let plain = app.client();
    let res = plain.post_form("/login", &[("login", "erin"), ("password", PASSWORD)]);
    assert_eq!(res.location(), "/erin/apps");
    assert!(audit_events(&app, "acme")
        .iter()
        .any(|e| e.event_type == "two_factor.disable" && e.actor_label == "atrium admin"));
}
