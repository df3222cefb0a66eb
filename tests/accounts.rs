//! Sign-up, sign-in (and its throttle), sign-out, profile, password change, CSRF.

use crate::support::TestApp;

#[test]
fn sign_up_lands_on_my_apps_and_shows_the_personal_profile() {
    let app = TestApp::start();
    let c = app.signup("alice");
    let page = c.get("/");
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/alice/apps");
    let apps = c.get("/alice/apps");
    assert_eq!(apps.status, 200);
    assert!(apps.text("[data-testid=active-profile]").contains("alice"));
    assert!(apps
        .text("[data-testid=active-profile]")
        .contains("Personal"));
    assert!(apps.has("#create-app"));
}

#[test]
fn sign_up_errors_show_next_to_their_fields_and_keep_the_input() {
    let app = TestApp::start();
    app.signup("taken");
    let c = app.client();
    let res = c.post_form(
        "/signup",
        &[
            ("email", "not-an-email"),
            ("handle", "Bad Handle"),
            ("name", "<b>Bob</b>"),
            ("password", "short"),
        ],
    );
    assert_eq!(res.status, 422);
    assert!(res.field_error("email").is_some());
    assert!(res
        .field_error("handle")
        .expect("handle error")
        .contains("lower case"));
    assert!(res.field_error("password").is_some());
    assert_eq!(res.attr("#email", "value"), "not-an-email");
    assert_eq!(
        res.attr("#name", "value"),
        "<b>Bob</b>",
        "kept, and escaped in the HTML"
    );
    assert!(!res.body.contains("<b>Bob</b>"));

    let res = c.post_form(
        "/signup",
        &[
            ("email", "TAKEN@example.com"),
            ("handle", "other"),
            ("password", "long enough"),
        ],
    );
    assert_eq!(res.status, 422);
    assert!(res
        .field_error("email")
        .expect("email error")
        .contains("already exists"));
    let res = c.post_form(
        "/signup",
        &[
            ("email", "x@example.com"),
            ("handle", "taken"),
            ("password", "long enough"),
        ],
    );
    assert!(res
        .field_error("handle")
        .expect("handle error")
        .contains("taken"));
    let res = c.post_form(
        "/signup",
        &[
            ("email", "y@example.com"),
            ("handle", "settings"),
            ("password", "long enough"),
        ],
    );
    assert!(res
        .field_error("handle")
        .expect("reserved")
        .contains("reserved"));
    // Nothing half-written: the refused handles do not exist.
    assert_eq!(app.client().get("/other/apps").status, 404);
}

#[test]
fn sign_in_and_sign_out() {
    let app = TestApp::start();
    app.signup("bob");
    let c = app.client();
    let wrong = c.post_form("/login", &[("login", "bob"), ("password", "nope nope")]);
    assert_eq!(wrong.status, 422);
    assert!(wrong.text(".form-error").contains("do not match"));
    assert_eq!(wrong.attr("#login", "value"), "bob");
    let ok = c.post_form(
        "/login",
        &[
            ("login", "BOB@example.com"),
            ("password", "correct horse battery"),
        ],
    );
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/bob/apps");
    assert_eq!(c.get("/settings/profile").status, 200);
    let out = c.post_form("/logout", &[]);
    assert_eq!(out.status, 303);
    let after = c.get("/settings/profile");
    assert_eq!(after.status, 303);
    assert!(after.location().starts_with("/login"));
}

#[test]
fn repeated_failed_sign_ins_are_throttled() {
    let app = TestApp::start();
    app.signup("carol");
    let c = app.client();
    for _ in 0..4 {
        assert_eq!(
            c.post_form("/login", &[("login", "carol"), ("password", "wrong pass")])
                .status,
            422
        );
    }
    let locked = c.post_form("/login", &[("login", "carol"), ("password", "wrong pass")]);
    assert_eq!(locked.status, 429);
    assert!(locked
        .text(".form-error")
        .contains("Too many failed sign-ins"));
    // Even the right password is refused while locked.
    let still = c.post_form(
        "/login",
        &[("login", "carol"), ("password", "correct horse battery")],
    );
    assert_eq!(still.status, 429);
}

#[test]
fn sign_in_returns_to_the_page_asked_for_but_only_on_this_site() {
    let app = TestApp::start();
    app.signup("dave");
    let c = app.client();
    let r = c.get("/settings/profile");
    assert_eq!(r.location(), "/login?next=/settings/profile");
    let ok = c.post_form(
        "/login",
        &[
            ("login", "dave"),
            ("password", "correct horse battery"),
            ("next", "/settings/profile"),
        ],
    );
    assert_eq!(ok.location(), "/settings/profile");
    let c2 = app.client();
    let evil = c2.post_form(
        "/login",
        &[
            ("login", "dave"),
            ("password", "correct horse battery"),
            ("next", "//evil.example/"),
        ],
    );
    assert_eq!(evil.location(), "/");
}

#[test]
fn profile_edit_and_password_change_ends_other_sessions() {
    let app = TestApp::start();
    let first = app.signup("erin");
    let second = app.client();
    assert_eq!(
        second
            .post_form(
                "/login",
                &[("login", "erin"), ("password", "correct horse battery")]
            )
            .status,
        303
    );
    assert_eq!(second.get("/settings/profile").status, 200);

    let bad = first.post_form("/settings/profile", &[("name", "Erin"), ("email", "nope")]);
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("email").is_some());
    let ok = first.post_form(
        "/settings/profile",
        &[("name", "Erin Example"), ("email", "erin2@example.com")],
    );
    assert_eq!(ok.status, 303);
    assert_eq!(
        first.get("/settings/profile").attr("#name", "value"),
        "Erin Example"
    );

    let wrong = first.post_form(
        "/settings/password",
        &[
            ("current_password", "nope"),
            ("new_password", "new password 1"),
            ("confirm_password", "new password 1"),
        ],
    );
    assert_eq!(wrong.status, 422);
    assert!(wrong.field_error("current_password").is_some());
    let changed = first.post_form(
        "/settings/password",
        &[
            ("current_password", "correct horse battery"),
            ("new_password", "new password 1"),
            ("confirm_password", "new password 1"),
        ],
    );
    assert_eq!(changed.status, 303);
    // This session survives, the other one is signed out.
    assert_eq!(first.get("/settings/profile").status, 200);
    assert_eq!(second.get("/settings/profile").status, 303);
    let relogin = app.client();
    assert_eq!(
        relogin
            .post_form(
                "/login",
                &[("login", "erin"), ("password", "new password 1")]
            )
            .status,
        303
    );
}

#[test]
fn state_changing_requests_without_the_csrf_token_are_refused() {
    let app = TestApp::start();
    let c = app.signup("frank");
    for path in [
        "/frank/apps",
        "/organizations",
        "/settings/profile",
        "/logout",
        "/signup",
        "/login",
    ] {
        let res = c.post_raw(path, &[("id", "x1"), ("name", "X"), ("email", "a@b.co")]);
        assert_eq!(res.status, 403, "{path} accepted a POST without a token");
    }
    let wrong = c.post_raw("/frank/apps", &[("id", "x1"), ("csrf_token", "forged")]);
    assert_eq!(wrong.status, 403);
    // Nothing was created.
    assert!(c.get("/frank/apps").app_ids().is_empty());
    // The htmx header works as the form field does.
    let ok = c.htmx_post("/frank/apps", &[("id", "x1"), ("name", "X")], Some("modal"));
    assert_eq!(ok.status, 200);
    assert_eq!(ok.location(), "/frank/x1");
}
