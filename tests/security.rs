//! Security: the organization's password policy (the Security page, the one
//! checker on every path that sets a password, live rule feedback, reuse against
//! stored hashes, forced change after the lifespan).

use atrium::admin::{self, AdminCommand};
use atrium::db::schema::{accounts, password_history, users};
use diesel::prelude::*;

use crate::support::invites::{invite, membership, only_link};
use crate::support::{Client, TestApp};

const STRONG: &str = "Harbor-Lantern-42!";

/// Saves a policy through the Security page form.
fn set_policy(admin: &Client, org: &str, fields: &[(&str, &str)]) -> crate::support::Page {
    let mut all: Vec<(&str, &str)> = vec![
        ("minimum_length", "8"),
        ("maximum_length", "256"),
        ("password_life_span_days", "0"),
        ("password_reuse_epoch", "0"),
    ];
    for (k, v) in fields {
        all.retain(|(a, _)| a != k);
        all.push((k, v));
    }
    admin.post_form(&format!("/{org}/account/security/password-policy"), &all)
}

fn user_id(app: &TestApp, handle: &str) -> i64 {
    let mut conn = app.state.pool.get().expect("conn");
    accounts::table
        .filter(accounts::handle.eq(handle))
        .select(accounts::id)
        .first(&mut *conn)
        .expect("user")
}

#[test]
fn admin_edits_the_policy_and_bad_values_are_refused() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    let page = admin.get("/acme/account/security");
    assert_eq!(page.status, 200);
    assert_eq!(page.attr("#minimum_length", "value"), "8");
    assert!(page.has("[data-testid=nav-security].current"));
    assert!(admin.get("/acme/account").has("[data-testid=nav-security]"));

    let bad = set_policy(
        &admin,
        "acme",
        &[
            ("minimum_length", "20"),
            ("maximum_length", "12"),
            ("numeric_needed", "on"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("maximum_length").is_some());
    // The form keeps what was typed; nothing was saved.
    assert_eq!(bad.attr("#minimum_length", "value"), "20");
    assert!(bad.has("#numeric_needed[checked]"));
    let nan = set_policy(&admin, "acme", &[("password_reuse_epoch", "many")]);
    assert_eq!(nan.status, 422);
    assert_eq!(
        nan.field_error("password_reuse_epoch").as_deref(),
        Some("Enter a whole number.")
    );
    assert_eq!(
        admin
            .get("/acme/account/security")
            .attr("#minimum_length", "value"),
        "8"
    );

    let ok = set_policy(
        &admin,
        "acme",
        &[
            ("minimum_length", "12"),
            ("numeric_needed", "on"),
            ("no_common_vocabs", "on"),
        ],
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let page = admin.get("/acme/account/security");
    assert_eq!(page.attr("#minimum_length", "value"), "12");
    assert!(page.has("#numeric_needed[checked]"));
    assert!(!page.has("#upper_case_needed[checked]"));
    let events = crate::support::invites::audit_events(&app, "acme");
    assert!(events
        .iter()
        .any(|e| e.event_type == "password_policy.update"
            && e.details_json()["minimum_length"] == 12));

    // A member who is not an admin does not see the page.
    let member = app.signup("worker");
    app.add_member("acme", "worker", "org_contributor");
    assert_eq!(member.get("/acme/account/security").status, 404);
    assert!(!member
        .get("/acme/account")
        .has("[data-testid=nav-security]"));
}

#[test]
fn an_invitee_signs_up_under_the_org_policy_with_live_feedback() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    let r = set_policy(
        &admin,
        "acme",
        &[
            ("minimum_length", "12"),
            ("numeric_needed", "on"),
            ("non_alphanumeric_needed", "on"),
            ("exclude_names", "on"),
        ],
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        invite(&admin, "acme", "newbie@example.com", "org_user").status,
        303
    );
    let link = only_link(&app, "newbie@example.com");
    let token = link.trim_start_matches("/invitations/").to_owned();

    let browser = app.client();
    let form = browser.get(&format!("/signup?invitation={token}"));
    assert_eq!(form.status, 200);
    let listed = form.attrs("#password-rules li", "data-rule");
    assert!(listed.contains(&"minimum_length".to_owned()), "{listed:?}");
    assert!(listed.contains(&"numeric_needed".to_owned()));
    assert!(listed.contains(&"non_alphanumeric_needed".to_owned()));
    assert_eq!(
        form.attr("#password", "hx-post"),
        "/password/rules",
        "the field asks for live feedback"
    );

    // Live feedback: which rules the typed password meets.
    let live = browser.htmx_post(
        "/password/rules",
        &[
            ("password", "abcdefgh1"),
            ("invitation", &token),
            ("handle", "newbie"),
        ],
        Some("password-rules"),
    );
    assert_eq!(live.status, 200);
    assert!(live.has("li[data-rule=minimum_length].unmet"));
    assert!(live.has("li[data-rule=numeric_needed].met"));
    assert!(live.has("li[data-rule=non_alphanumeric_needed].unmet"));
    let named = browser.htmx_post(
        "/password/rules",
        &[
            ("password", "newbie-2024-xx!"),
            ("invitation", &token),
            ("handle", "newbie"),
        ],
        Some("password-rules"),
    );
    assert!(named.has("li[data-rule=exclude_names].unmet"));

    // Weak: refused with the rules shown, nothing created.
    let weak = browser.post_form(
        "/signup",
        &[
            ("handle", "newbie"),
            ("password", "abcdefgh1"),
            ("invitation", &token),
        ],
    );
    assert_eq!(weak.status, 422);
    let msg = weak.field_error("password").expect("password error");
    assert!(msg.contains("at least 12 characters"), "{msg}");
    assert!(msg.contains("symbol"), "{msg}");
    assert!(weak.has("#password-rules li[data-rule=minimum_length]"));
    assert_eq!(weak.attr("#handle", "value"), "newbie");
    let mut conn = app.state.pool.get().expect("conn");
    let accounts_named: i64 = accounts::table
        .filter(accounts::handle.eq("newbie"))
        .count()
        .get_result(&mut *conn)
        .expect("count");
    drop(conn);
    assert_eq!(accounts_named, 0, "no account was created");

    // Strong: accepted, and the invitation is accepted with it.
    let ok = browser.post_form(
        "/signup",
        &[
            ("handle", "newbie"),
            ("password", STRONG),
            ("invitation", &token),
        ],
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), "/acme/apps");
    assert_eq!(
        membership(&app, "newbie"),
        Some(("acme".to_owned(), "org_user".to_owned()))
    );
    // A sign-up outside any organization keeps the basic rules.
    let solo = app.client().post_form(
        "/signup",
        &[
            ("email", "solo@example.com"),
            ("handle", "solo"),
            ("password", "plainpass"),
        ],
    );
    assert_eq!(solo.status, 303);
}

#[test]
fn password_changes_follow_the_policy_and_reuse_is_checked_against_hashes() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    let r = set_policy(
        &admin,
        "acme",
        &[
            ("password_reuse_epoch", "2"),
            ("no_common_vocabs", "on"),
            ("numeric_needed", "on"),
        ],
    );
    assert_eq!(r.status, 303);
    let change = |c: &Client, current: &str, new: &str| {
        c.post_form(
            "/settings/password",
            &[
                ("current_password", current),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
    };
    let common = change(&admin, "correct horse battery", "password1");
    assert_eq!(common.status, 422);
    assert!(common
        .field_error("new_password")
        .expect("error")
        .contains("not a commonly used password"));
    let no_digit = change(&admin, "correct horse battery", "correct horse battery");
    assert_eq!(no_digit.status, 422);

    assert_eq!(
        change(&admin, "correct horse battery", "first-Pass-1").status,
        303
    );
    assert_eq!(change(&admin, "first-Pass-1", "second-Pass-2").status, 303);
    // The previous one is within the last 2: refused.
    let reused = change(&admin, "second-Pass-2", "first-Pass-1");
    assert_eq!(reused.status, 422);
    assert!(reused
        .field_error("new_password")
        .expect("error")
        .contains("not one of your last 2 passwords"));
    assert_eq!(change(&admin, "second-Pass-2", "third-Pass-3").status, 303);
    // Three back is allowed again.
    assert_eq!(change(&admin, "third-Pass-3", "first-Pass-1").status, 303);

    // The history holds argon2 hashes only, never the plaintext.
    let uid = user_id(&app, "boss");
    let mut conn = app.state.pool.get().expect("conn");
    let hashes: Vec<String> = password_history::table
        .filter(password_history::user_id.eq(uid))
        .select(password_history::password_hash)
        .load(&mut *conn)
        .expect("history");
    assert!(hashes.len() >= 4);
    assert!(hashes.iter().all(|h| h.starts_with("$argon2id$")));
    assert!(!hashes.iter().any(|h| h.contains("Pass")));

    // The operator's reset goes through the same checker.
    let config = app.state.config.clone();
    let weak = admin::run(
        &config,
        AdminCommand::ResetPassword {
            user: "boss".into(),
            password: "qwerty123".into(),
        },
    );
    assert!(weak.expect_err("refused").contains("commonly used"));
    let reused = admin::run(
        &config,
        AdminCommand::ResetPassword {
            user: "boss".into(),
            password: "first-Pass-1".into(),
        },
    );
    assert!(reused.expect_err("refused").contains("last 2 passwords"));
    admin::run(
        &config,
        AdminCommand::ResetPassword {
            user: "boss".into(),
            password: "operator-Set-9".into(),
        },
    )
    .expect("strong reset");
    let c = app.client();
    let r = c.post_form(
        "/login",
        &[("login", "boss"), ("password", "operator-Set-9")],
    );
    assert_eq!(r.status, 303);
}

#[test]
fn an_expired_password_must_be_changed_at_sign_in() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    assert_eq!(
        set_policy(&admin, "acme", &[("password_life_span_days", "30")]).status,
        303
    );
    // Still fresh: a normal sign-in.
    let c = app.client();
    let r = c.post_form(
        "/login",
        &[("login", "boss"), ("password", "correct horse battery")],
    );
    assert_eq!(r.location(), "/boss/apps");

    let uid = user_id(&app, "boss");
    {
        let mut conn = app.state.pool.get().expect("conn");
        diesel::update(users::table.find(uid))
            .set(users::password_changed_at.eq(atrium::models::now() - chrono::Duration::days(31)))
            .execute(&mut *conn)
            .expect("backdate");
    }
    let c = app.client();
    let r = c.post_form(
        "/login",
        &[("login", "boss"), ("password", "correct horse battery")],
    );
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/password/expired");
    // Not signed in meanwhile.
    let apps = c.get("/acme/account");
    assert_eq!(apps.status, 303);
    assert!(apps.location().starts_with("/login"));
    let page = c.get("/password/expired");
    assert_eq!(page.status, 200);
    assert!(page.has("#expired-form"));
    let same = c.post_form(
        "/password/expired",
        &[
            ("new_password", "correct horse battery"),
            ("confirm_password", "correct horse battery"),
        ],
    );
    assert_eq!(same.status, 422);
    assert!(same.field_error("new_password").is_some());
    let ok = c.post_form(
        "/password/expired",
        &[("new_password", STRONG), ("confirm_password", STRONG)],
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), "/boss/apps");
    assert_eq!(c.get("/acme/account").status, 200);
    // Someone without the pending state is sent to sign in.
    assert_eq!(app.client().get("/password/expired").location(), "/login");
}

#[test]
fn the_api_validates_a_password_against_the_callers_policy() {
    use crate::api_support::{token, Api};
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    let r = set_policy(
        &admin,
        "acme",
        &[
            ("minimum_length", "12"),
            ("non_alphanumeric_needed", "on"),
            ("password_reuse_epoch", "1"),
        ],
    );
    assert_eq!(r.status, 303);
    let api = Api::new(&app, Some(&token(&app, "boss")));
    let weak = api.post(
        "/v2/users/me/validate_password",
        serde_json::json!({"password": {"plaintext": "short"}}),
    );
    assert_eq!(weak.code(), 61001, "{}", weak.json);
    let v = &weak.json["password_violations"];
    assert_eq!(v["minimum_length"], true);
    assert_eq!(v["non_alphanumeric_needed"], true);
    assert_eq!(v["password_reuse_epoch"], false);
    assert!(
        v.get("upper_case_needed").is_none(),
        "only the policy's rules"
    );
    let current = api.post(
        "/v2/users/boss/validate_password",
        serde_json::json!({"password": {"plaintext": "correct horse battery"}}),
    );
    assert_eq!(current.code(), 61001);
    assert_eq!(
        current.json["password_violations"]["password_reuse_epoch"],
        true
    );
    let good = api.post(
        "/v2/users/me/validate_password",
        serde_json::json!({"password": {"plaintext": STRONG}}),
    );
    assert_eq!(good.code(), 10000, "{}", good.json);
    assert_eq!(good.json["password_violations"]["minimum_length"], false);
    // Someone else's: not visible.
    app.signup("eve");
    let other = api.post(
        "/v2/users/eve/validate_password",
        serde_json::json!({"password": {"plaintext": STRONG}}),
    );
    assert_eq!(other.code(), 11101);
    let empty = api.post("/v2/users/me/validate_password", serde_json::json!({}));
    assert_eq!(empty.code(), 11102);
}

/// The reset links e-mailed to `email` so far (paths).
fn reset_links(app: &TestApp, email: &str) -> Vec<String> {
    crate::support::smtp::read_outbox(&app.dir.path().join("outbox"))
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains(email)))
        .filter_map(|m| {
            let text = m.text();
            let start = text.find("/password/reset/")?;
            let rest = &text[start..];
            let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
            Some(rest[..end].to_owned())
        })
        .collect()
}

#[test]
fn forgot_password_mails_a_single_use_link_without_revealing_accounts() {
    use atrium::db::schema::password_resets;
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    assert_eq!(
        set_policy(
            &admin,
            "acme",
            &[("minimum_length", "12"), ("numeric_needed", "on")]
        )
        .status,
        303
    );
    let login = app.client().get("/login");
    assert_eq!(login.attr("#forgot-link", "href"), "/password/forgot");

    let anon = app.client();
    let unknown = anon.post_form("/password/forgot", &[("email", "nobody@example.com")]);
    let known = anon.post_form("/password/forgot", &[("email", "BOSS@example.com")]);
    assert_eq!(unknown.status, 200);
    assert_eq!(known.status, 200);
    assert_eq!(unknown.text("#reset-sent"), known.text("#reset-sent"));
    let bad = anon.post_form("/password/forgot", &[("email", "not an address")]);
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("email").is_some());
    assert_eq!(bad.attr("#email", "value"), "not an address");

    // Only the real account got mail; the stored token is a hash.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(reset_links(&app, "nobody@example.com").is_empty());
    let links = reset_links(&app, "boss@example.com");
    assert_eq!(links.len(), 1, "{links:?}");
    let link = links[0].clone();
    let token = link.trim_start_matches("/password/reset/");
    {
        let mut conn = app.state.pool.get().expect("conn");
        let stored: Vec<String> = password_resets::table
            .select(password_resets::token_hash)
            .load(&mut *conn)
            .expect("resets");
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0], token);
        assert_eq!(stored[0].len(), 64);
    }

    let page = anon.get(&link);
    assert_eq!(page.status, 200);
    assert!(page.has("#reset-form"));
    assert_eq!(
        page.headers.get("referrer-policy").expect("policy"),
        "no-referrer"
    );
    assert!(page.has("#password-rules li[data-rule=minimum_length]"));
    let weak = anon.post_form(
        &link,
        &[("new_password", "short1"), ("confirm_password", "short1")],
    );
    assert_eq!(weak.status, 422);
    assert!(weak
        .field_error("new_password")
        .expect("error")
        .contains("at least 12"));
    let ok = anon.post_form(
        &link,
        &[("new_password", STRONG), ("confirm_password", STRONG)],
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), "/login");
    // Every session of the account ended; the old password is gone.
    assert_eq!(admin.get("/acme/account").status, 303);
    let c = app.client();
    assert_eq!(
        c.post_form(
            "/login",
            &[("login", "boss"), ("password", "correct horse battery")]
        )
        .status,
        422
    );
    assert_eq!(
        c.post_form("/login", &[("login", "boss"), ("password", STRONG)])
            .location(),
        "/boss/apps"
    );
    // Single use.
    let again = anon.get(&link);
    assert_eq!(again.status, 410);
    assert!(again.has("#reset-invalid"));
    anon.get("/login"); // the reset ended the session: pick up the new CSRF token
    assert_eq!(
        anon.post_form(
            &link,
            &[("new_password", STRONG), ("confirm_password", STRONG)]
        )
        .status,
        410
    );

    // A newer link kills the older one; an expired link does not work.
    anon.post_form("/password/forgot", &[("email", "boss@example.com")]);
    anon.post_form("/password/forgot", &[("email", "boss@example.com")]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let links = reset_links(&app, "boss@example.com");
    assert_eq!(links.len(), 3);
    let (older, newest) = (&links[1], &links[2]);
    let (a, b) = (anon.get(older).status, anon.get(newest).status);
    // The outbox order is not guaranteed: exactly one of the two works.
    assert!((a == 410) != (b == 410), "{a} {b}");
    let live = if a == 200 { older } else { newest };
    {
        let mut conn = app.state.pool.get().expect("conn");
        diesel::update(password_resets::table)
            .set(
                password_resets::expires_at
                    .eq(atrium::models::now() - chrono::Duration::minutes(1)),
            )
            .execute(&mut *conn)
            .expect("expire");
    }
    assert_eq!(anon.get(live).status, 410);
}
