//! The Security screens in a real headless Chromium: an admin sets a password
//! policy; an invitee sees the rules live as they type, a weak password is
//! refused with the rules shown, a strong one is accepted.

use crate::support::browser::{runtime, Browser};
use crate::support::invites::{invite, only_link};
use crate::support::TestApp;

#[test]
fn admin_sets_a_policy_and_an_invitee_signs_up_under_it() {
    let app = TestApp::start();
    let admin_http = app.org_with_admin("acme", "boss");
    runtime().block_on(async {
        let b = Browser::launch(&app.base).await;
        b.goto("/login").await;
        b.fill("#login", "boss").await;
        b.fill("#password", "correct horse battery").await;
        b.click("form[action='/login'] button[type=submit]").await;
        b.wait_for_path("/boss/apps").await;

        // Account → Security → password policy: min 12, digit, symbol.
        b.goto("/acme/account").await;
        b.click("[data-testid=nav-security]").await;
        b.wait_for_path("/acme/account/security").await;
        b.fill("#minimum_length", "12").await;
        b.click("#numeric_needed").await;
        b.click("#non_alphanumeric_needed").await;
        b.click("#policy-form button[type=submit]").await;
        b.wait_for_text(".flash", "Password policy saved").await;
        assert_eq!(b.value("#minimum_length").await, "12");
        b.close().await;
    });

    assert_eq!(
        invite(&admin_http, "acme", "newbie@example.com", "org_user").status,
        303
    );
    let token = only_link(&app, "newbie@example.com")
        .trim_start_matches("/invitations/")
        .to_owned();

    runtime().block_on(async {
        let b = Browser::launch(&app.base).await;
        b.goto(&format!("/signup?invitation={token}")).await;
        b.fill("#handle", "newbie").await;
        // Live feedback while typing a weak password.
        b.type_keys("#password", "abcdefgh").await;
        b.visible("#password-rules li[data-rule=minimum_length].unmet")
            .await;
        b.visible("#password-rules li[data-rule=numeric_needed].unmet")
            .await;
        b.type_keys("#password", "1").await;
        b.visible("#password-rules li[data-rule=numeric_needed].met")
            .await;
        b.click("form[action='/signup'] button[type=submit]").await;
        b.wait_for_text(
            ".field-error[data-field=password]",
            "at least 12 characters",
        )
        .await;
        b.visible("#password-rules li[data-rule=non_alphanumeric_needed]")
            .await;
        assert_eq!(b.path().await, "/signup");

        // A strong password: every rule met, and the invitee lands in the org.
        b.type_keys("#password", "Harbor-Lantern-42!").await;
        b.visible("#password-rules li[data-rule=minimum_length].met")
            .await;
        b.visible("#password-rules li[data-rule=non_alphanumeric_needed].met")
            .await;
        b.click("form[action='/signup'] button[type=submit]").await;
        b.wait_for_path("/acme/apps").await;
        b.close().await;
    });
}

/// Two-factor in the browser: enrol from the QR page's key, see the recovery
/// codes, sign out, sign in with the password and then a code.
#[test]
fn a_user_enrols_in_two_factor_and_signs_in_with_a_code() {
    use atrium::auth::totp;
    let app = TestApp::start();
    app.signup("alice");
    runtime().block_on(async {
        let b = Browser::launch(&app.base).await;
        b.goto("/login").await;
        b.fill("#login", "alice").await;
        b.fill("#password", "correct horse battery").await;
        b.click("form[action='/login'] button[type=submit]").await;
        b.wait_for_path("/alice/apps").await;

        b.goto("/settings/profile").await;
        b.visible("[data-testid=this-session]").await;
        b.click("a[href='/settings/two-factor']").await;
        b.wait_for_path("/settings/two-factor").await;
        b.click("#setup-form button[type=submit]").await;
        b.visible("[data-testid=qr] svg").await;
        let key = b.texts("#totp-secret").await.join("");
        let secret = totp::base32_decode(&key).expect("base32 key");
        let now = chrono::Utc::now().timestamp();
        b.fill("#code", &totp::code_at(&secret, now)).await;
        b.click("#confirm-form button[type=submit]").await;
        b.visible("[data-testid=recovery-codes]").await;
        assert_eq!(b.texts("[data-testid=recovery-codes] code").await.len(), 10);

        b.click("[data-testid=profile-menu] summary").await;
        b.click("form[action='/logout'] button[type=submit]").await;
        b.wait_for_path("/login").await;
        b.fill("#login", "alice").await;
        b.fill("#password", "correct horse battery").await;
        b.click("form[action='/login'] button[type=submit]").await;
        b.wait_for_path("/login/two-factor").await;
        let next = totp::code_at(&secret, chrono::Utc::now().timestamp() + 30);
        b.fill("#code", &next).await;
        b.click("#two-factor-form button[type=submit]").await;
        b.wait_for_path("/alice/apps").await;
        b.close().await;
    });
}
