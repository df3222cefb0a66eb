//! The client address behind the sign-in throttle and the audit trail: the TCP
//! peer's, whatever `X-Forwarded-For`/`Forwarded` a client sends, unless
//! `trust_proxy` says a reverse proxy appends it.

use atrium::db::schema::signin_throttle;
use atrium::models::throttle;
use diesel::prelude::*;
use serde_json::json;

use crate::api_support::{token, Api};
use crate::support::invites::audit_events;
use crate::support::TestApp;

/// Failures recorded under the throttle key of `ip`.
fn ip_failures(app: &TestApp, ip: &str) -> Option<i32> {
    let mut conn = app.state.pool.get().expect("conn");
    signin_throttle::table
        .find(throttle::key("ip", ip))
        .select(signin_throttle::failures)
        .first(&mut *conn)
        .optional()
        .expect("throttle")
}

/// Changes `usr`'s role through the API with these headers; returns the audited IP.
fn audited_ip(app: &TestApp, role: &str, headers: &[(&str, &str)]) -> String {
    let ann = Api::new(app, Some(&token(app, "ann")));
    let body = json!({"organization_members": [{"id": "usr", "role_id": role}]}).to_string();
    let r = ann.send(
        reqwest::Method::PATCH,
        "/v2/organizations/acme/members",
        Some(&body),
        headers,
    );
    assert_eq!(r.code(), 10000, "{:?}", r.json);
    let event = audit_events(app, "acme").pop().expect("an audit row");
    assert_eq!(event.event_type, "member.role_change");
    event.source_ip
}

#[test]
fn forged_forwarding_headers_change_neither_the_throttle_nor_the_audit_trail() {
    let app = TestApp::start();
    app.org_with_admin("acme", "ann");
    app.signup("usr");
    app.add_member("acme", "usr", "org_user");

    // Each failed sign-in claims another address and tries another name: the
    // per-IP count still sees one client, and locks it.
    let c = app.client();
    for i in 0..throttle::MAX_FAILURES {
        let forged = format!("203.0.113.{i}");
        let page = c.post_form_with_headers(
            "/login",
            &[("login", &format!("nobody{i}")), ("password", "wrong pass")],
            &[
                ("X-Forwarded-For", &forged),
                ("Forwarded", &format!("for={forged}")),
            ],
        );
        // The failure that reaches the limit locks at once.
        let expected = if i + 1 == throttle::MAX_FAILURES {
            429
        } else {
            422
        };
        assert_eq!(page.status, expected, "attempt {i}: {}", page.body);
        assert_eq!(ip_failures(&app, &forged), None);
    }
    let locked = c.post_form_with_headers(
        "/login",
        &[("login", "someone-else"), ("password", "wrong pass")],
        &[("X-Forwarded-For", "198.51.100.77")],
    );
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(ip_failures(&app, "127.0.0.1").is_some());

    // The audit trail records the peer, not what the client claims.
    let ip = audited_ip(
        &app,
        "org_contributor",
        &[
            ("X-Forwarded-For", "203.0.113.9"),
            ("Forwarded", "for=198.51.100.1"),
            ("X-Real-IP", "192.0.2.1"),
        ],
    );
    assert_eq!(ip, "127.0.0.1");
}

#[test]
fn behind_a_trusted_proxy_the_address_it_appended_counts() {
    let app = TestApp::start_with(|c| c.trust_proxy = true);
    app.org_with_admin("acme", "ann");
    app.signup("usr");
    app.add_member("acme", "usr", "org_user");

    // The proxy appends the client's address; what the client put before it is ignored.
    let ip = audited_ip(
        &app,
        "org_contributor",
        &[("X-Forwarded-For", "198.51.100.1, 203.0.113.9")],
    );
    assert_eq!(ip, "203.0.113.9");
    assert_eq!(
        audited_ip(
            &app,
            "org_user",
            &[("X-Forwarded-For", "[2001:db8::7]:4711")]
        ),
        "2001:db8::7"
    );
    // Without the header, or with garbage in it, the peer's address stands.
    assert_eq!(audited_ip(&app, "org_contributor", &[]), "127.0.0.1");
    assert_eq!(
        audited_ip(&app, "org_user", &[("X-Forwarded-For", "not-an-address")]),
        "127.0.0.1"
    );

    let c = app.client();
    let page = c.post_form_with_headers(
        "/login",
        &[("login", "nobody"), ("password", "wrong pass")],
        &[("X-Forwarded-For", "203.0.113.50")],
    );
    assert_eq!(page.status, 422);
    assert_eq!(ip_failures(&app, "203.0.113.50"), Some(1));
    assert_eq!(ip_failures(&app, "127.0.0.1"), None);
}
