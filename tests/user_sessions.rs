//! The profile's Sessions card: every signed-in browser is listed (server-side
//! rows, whatever the session store), "Sign out all other sessions" and signing
//! out one end them on their next request, and a copied cookie stops working
//! once its session is signed out.

use crate::support::invites::audit_events;
use crate::support::{Client, TestApp};

const PASSWORD: &str = "correct horse battery";
const REDIS: &str = "redis://127.0.0.1:6379";

fn sign_in_with_agent(app: &TestApp, agent: &str) -> Client {
    let c = app.client();
    let res = c.post_form_with_headers(
        "/login",
        &[("login", "alice"), ("password", PASSWORD)],
        &[("User-Agent", agent)],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    c
}

fn check_sessions(app: &TestApp) {
    let first = app.org_with_admin("acme", "alice");
    let laptop = sign_in_with_agent(app, "Laptop-Browser/1.0");
    let phone = sign_in_with_agent(app, "Phone-Browser/2.0");

    let page = first.get("/settings/profile");
    assert_eq!(page.status, 200);
    assert_eq!(page.count("[data-testid=sessions] tbody tr"), 3);
    assert_eq!(page.count("[data-testid=this-session]"), 1);
    assert!(page.body.contains("Laptop-Browser/1.0") && page.body.contains("Phone-Browser/2.0"));
    assert!(page.has("[data-testid=sessions] tbody tr.current-session"));

    // Signing out one session (the phone) by its row.
    let phone_page = phone.get("/settings/profile");
    let phone_id = phone_page.attr("tr.current-session", "data-session");
    let res = first.post_form(&format!("/settings/sessions/{phone_id}/revoke"), &[]);
    assert_eq!(res.status, 303);
    assert_eq!(
        phone.get("/settings/profile").status,
        303,
        "phone signed out"
    );
    assert_eq!(laptop.get("/settings/profile").status, 200);

    // Someone else's session id is not found.
    let stranger = app.signup("mallory");
    let laptop_id = laptop
        .get("/settings/profile")
        .attr("tr.current-session", "data-session");
    assert_eq!(
        stranger
            .post_form(&format!("/settings/sessions/{laptop_id}/revoke"), &[])
            .status,
        404
    );
    assert_eq!(laptop.get("/settings/profile").status, 200);

    // Sign out all the others: only this one is left.
    let res = first.post_form("/settings/sessions/revoke-others", &[]);
    assert_eq!(res.status, 303);
    assert_eq!(
        laptop.get("/settings/profile").status,
        303,
        "laptop signed out"
    );
    let page = first.get("/settings/profile");
    assert_eq!(page.status, 200);
    assert_eq!(page.count("[data-testid=sessions] tbody tr"), 1);
    assert!(!page.has("#revoke-others-form"));
    let ended: Vec<_> = audit_events(app, "acme")
        .into_iter()
        .filter(|e| e.event_type == "session.revoke")
        .collect();
    assert_eq!(ended.len(), 2);
    assert_eq!(ended[1].details_json()["ended"], 1);
    assert!(
        audit_events(app, "acme")
            .iter()
            .filter(|e| e.event_type == "session.sign_in")
            .count()
            >= 2
    );

    // A password change drops the other sessions from the list as well.
    let other = sign_in_with_agent(app, "Tablet/3.0");
    let changed = first.post_form(
        "/settings/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "another secret 9"),
            ("confirm_password", "another secret 9"),
        ],
    );
    assert_eq!(changed.status, 303);
    assert_eq!(other.get("/settings/profile").status, 303);
    let page = first.get("/settings/profile");
    assert_eq!(page.status, 200, "this session survives its own change");
    assert_eq!(page.count("[data-testid=sessions] tbody tr"), 1);
}

#[test]
fn sessions_are_listed_and_signed_out_with_cookie_sessions() {
    let app = TestApp::start();
    check_sessions(&app);
}

#[test]
fn sessions_are_listed_and_signed_out_with_redis_sessions() {
    let app = TestApp::start_with(|c| c.redis_url = Some(REDIS.to_owned()));
    check_sessions(&app);
}

#[test]
fn a_copied_cookie_stops_working_after_sign_out() {
    let app = TestApp::start();
    let c = app.signup("alice");
    assert_eq!(c.get("/settings/profile").status, 200);
    let cookie = c.cookie("atrium_session").expect("cookie");
    assert_eq!(c.post_form("/logout", &[]).status, 303);
    let thief = app.client();
    thief.set_cookie("atrium_session", &cookie);
    assert_eq!(
        thief.get("/settings/profile").status,
        303,
        "the signed-out session's row is gone"
    );
}
