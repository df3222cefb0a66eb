//! SAML single sign-on in a real headless Chromium, against the pysaml2 identity
//! provider serving its own sign-in page: an admin adds the provider from its
//! metadata on the Security page; a new user signs in through it and lands in the
//! organization.

use serde_json::json;

use crate::support::browser::{runtime, Browser};
use crate::support::saml_idp::TestIdp;
use crate::support::TestApp;

#[test]
fn admin_adds_an_idp_from_metadata_and_a_user_signs_in_through_it() {
    let app = TestApp::start();
    app.org_with_admin("acme", "boss");
    let idp = TestIdp::serve();
    let metadata = idp.metadata();

    runtime().block_on(async {
        let b = Browser::launch(&app.base).await;
        b.goto("/login").await;
        b.fill("#login", "boss").await;
        b.fill("#password", "correct horse battery").await;
        b.click("form[action='/login'] button[type=submit]").await;
        b.wait_for_path("/boss/apps").await;

        b.goto("/acme/account/security").await;
        b.click("#manage-sso").await;
        b.wait_for_path("/acme/account/security/sso").await;
        b.wait_for_text("#sp-acs-url", "/sso/acme/acs").await;
        b.fill("#idp-name", "Corporate IdP").await;
        b.select("#idp-role", "org_contributor").await;
        // Pasting: set the textarea's value at once (typing 5 KB key by key is slow).
        b.js(
            "document.querySelector('#idp-metadata').value = arguments[0];",
            vec![json!(metadata)],
        )
        .await;
        b.click("#idp-submit").await;
        b.wait_for_text(".flash", "created and enabled").await;
        b.wait_for_text("[data-testid=providers] td.name", "Corporate IdP")
            .await;
        b.close().await;
    });

    runtime().block_on(async {
        let b = Browser::launch(&app.base).await;
        b.goto("/login").await;
        b.click("#sso-link").await;
        b.wait_for_path("/sso").await;
        b.fill("#sso-org", "acme").await;
        b.click("#sso-form button[type=submit]").await;
        // The identity provider's own page, on its own port.
        b.visible("#idp-email").await;
        b.fill("#idp-email", "zoe@acme.test").await;
        b.click("#idp-submit").await;
        b.wait_for_path("/acme/apps").await;
        b.wait_for_text(".flash", "Signed in through Corporate IdP")
            .await;
        b.close().await;
    });

    let mut conn = app.state.pool.get().expect("conn");
    use atrium::db::schema::{accounts, memberships};
    use diesel::prelude::*;
    let role: String = memberships::table
        .inner_join(accounts::table.on(accounts::id.eq(memberships::user_id)))
        .filter(accounts::handle.eq("zoe"))
        .select(memberships::role)
        .first(&mut *conn)
        .expect("zoe is a member");
    assert_eq!(role, "org_contributor");
}
