//! SAML single sign-on against an independent identity provider (pysaml2 +
//! xmlsec1, see `support::saml_idp`): a successful login that creates the user
//! and adds them to the organization, every kind of bad response refused with
//! nothing changed, identity providers managed on the Security page, and
//! "Require SSO" with the admins' break-glass password sign-in.

use atrium::db::schema::{accounts, audit_events, memberships, users};
use diesel::prelude::*;

use crate::support::saml_idp::{add_idp_from_fields, post_to_acs, start, TestIdp};
use crate::support::TestApp;

/// The role of `handle` in any organization, if they have an account and a membership.
fn role_of(app: &TestApp, handle: &str) -> Option<String> {
    let mut conn = app.state.pool.get().expect("conn");
    memberships::table
        .inner_join(accounts::table.on(accounts::id.eq(memberships::user_id)))
        .filter(accounts::handle.eq(handle))
        .select(memberships::role)
        .first(&mut *conn)
        .optional()
        .expect("role")
}

fn user_count(app: &TestApp) -> i64 {
    let mut conn = app.state.pool.get().expect("conn");
    users::table.count().get_result(&mut *conn).expect("count")
}

fn events(app: &TestApp, kind: &str) -> Vec<String> {
    let mut conn = app.state.pool.get().expect("conn");
    audit_events::table
        .filter(audit_events::event_type.eq(kind))
        .order(audit_events::id.asc())
        .select(audit_events::details)
        .load(&mut *conn)
        .expect("events")
}

#[test]
fn a_user_signs_in_through_the_idp_and_lands_in_the_org() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    let idp = TestIdp::new();
    add_idp_from_fields(&admin, "acme", &idp, "org_contributor", "");

    let browser = app.client();
    let login = browser.get("/login");
    assert!(login.has("#sso-link"));
    let request_url = start(&browser, "acme");
    assert!(request_url.starts_with(&idp.sso_url), "{request_url}");
    assert!(request_url.contains("SAMLRequest="));

    let answer = idp.respond(&app, "acme", &request_url, "carol@acme.test", "ok");
    assert_eq!(answer.acs, app.url("/sso/acme/acs"));
    let res = post_to_acs(&app, &browser, &answer);
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), "/acme/apps");

    // A new account (JIT), in the org with the provider's default role, signed in.
    assert_eq!(role_of(&app, "carol").as_deref(), Some("org_contributor"));
    let apps = browser.get("/acme/apps");
    assert_eq!(apps.status, 200);
    assert!(
        apps.body.contains("Signed in through Test IdP"),
        "{}",
        apps.body
    );
    assert_eq!(events(&app, "member.join_sso").len(), 1);
    assert_eq!(events(&app, "sso.sign_in").len(), 1);

    // The same user again: found by e-mail, no second account.
    let before = user_count(&app);
    let again = app.client();
    let url = start(&again, "acme");
    let answer = idp.respond(&app, "acme", &url, "carol@acme.test", "ok");
    assert_eq!(post_to_acs(&app, &again, &answer).status, 303);
    assert_eq!(user_count(&app), before);
    assert_eq!(events(&app, "sso.sign_in").len(), 2);

    // The JIT account has no usable password.
    let pw = app.client().post_form(
        "/login",
        &[("login", "carol@acme.test"), ("password", "!sso-only")],
    );
    assert_eq!(pw.status, 422);
}

#[test]
fn bad_responses_are_refused_and_change_nothing() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    let idp = TestIdp::new();
    add_idp_from_fields(&admin, "acme", &idp, "org_user", "");
    let users_before = user_count(&app);

    // Each mode gets one thing wrong; the audit trail says which check refused it.
    for (mode, why) in [
        ("unsigned", "must be signed"),
        ("other-key", "must be signed"),
        ("altered", "must be signed"),
        ("wrong-audience", "AudienceRequirement"),
        ("wrong-destination", "is not this ACS"),
        ("expired", "expired"),
        ("unknown-request", "no request Atrium issued"),
        ("sha1", "must be signed"),
    ] {
        let browser = app.client();
        let url = start(&browser, "acme");
        let answer = idp.respond(&app, "acme", &url, "eve@acme.test", mode);
        let res = post_to_acs(&app, &browser, &answer);
        assert_eq!(res.status, 403, "{mode} was not refused: {}", res.body);
        assert!(
            res.body.contains("Single sign-on failed"),
            "{mode}: {}",
            res.body
        );
        assert_eq!(user_count(&app), users_before, "{mode} created a user");
        assert!(
            browser.get("/settings/profile").status == 303,
            "{mode} signed in"
        );
        let reason = events(&app, "sso.sign_in_failed").pop().unwrap_or_default();
        assert!(
            reason.contains(why),
            "{mode} refused for another reason: {reason}"
        );
    }
    assert_eq!(role_of(&app, "eve"), None);
    let failures = events(&app, "sso.sign_in_failed");
    assert_eq!(failures.len(), 8, "{failures:?}");

    // A good response is accepted once; posting it again is refused.
    let browser = app.client();
    let url = start(&browser, "acme");
    let answer = idp.respond(&app, "acme", &url, "eve@acme.test", "ok");
    assert_eq!(post_to_acs(&app, &browser, &answer).status, 303);
    let replay = post_to_acs(&app, &app.client(), &answer);
    assert_eq!(replay.status, 403, "replay accepted: {}", replay.body);
    assert_eq!(events(&app, "sso.sign_in").len(), 1);
}

#[test]
fn an_assertion_id_is_never_accepted_twice() {
    use atrium::db::schema::{saml_assertions, saml_requests};
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    let idp = TestIdp::new();
    add_idp_from_fields(&admin, "acme", &idp, "org_user", "");
    let browser = app.client();
    let url = start(&browser, "acme");
    let issued: (String, i64, String) = {
        let mut conn = app.state.pool.get().expect("conn");
        saml_requests::table
            .select((
                saml_requests::request_id,
                saml_requests::idp_id,
                saml_requests::next,
            ))
            .first(&mut *conn)
            .expect("the issued request")
    };
    let answer = idp.respond(&app, "acme", &url, "dan@acme.test", "ok");
    assert_eq!(post_to_acs(&app, &browser, &answer).status, 303);
    let mut conn = app.state.pool.get().expect("conn");
    let remembered: i64 = saml_assertions::table
        .count()
        .get_result(&mut *conn)
        .expect("count");
    assert_eq!(remembered, 1);
    // Even if the answered request were pending again (a second instance that had
    // not seen it consumed), the assertion id itself is refused.
    let now = atrium::models::now();
    diesel::insert_into(saml_requests::table)
        .values((
            saml_requests::request_id.eq(&issued.0),
            saml_requests::idp_id.eq(issued.1),
            saml_requests::next.eq(&issued.2),
            saml_requests::created_at.eq(now),
            saml_requests::expires_at.eq(now + chrono::Duration::minutes(5)),
        ))
        .execute(&mut *conn)
        .expect("re-issue");
    drop(conn);
    let replay = post_to_acs(&app, &app.client(), &answer);
    assert_eq!(replay.status, 403, "{}", replay.body);
    let reason = events(&app, "sso.sign_in_failed").pop().unwrap_or_default();
    assert!(reason.contains("replay"), "{reason}");
    assert_eq!(events(&app, "sso.sign_in").len(), 1);
}

#[test]
fn one_organization_rule_and_existing_accounts() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    let idp = TestIdp::new();
    add_idp_from_fields(&admin, "acme", &idp, "org_user", "acme.test");
    // Someone in another organization: a clear refusal, nothing changes.
    app.org_with_admin("globex", "hank");
    let browser = app.client();
    let url = start(&browser, "acme");
    let answer = idp.respond(&app, "acme", &url, "hank@example.com", "ok");
    let res = post_to_acs(&app, &browser, &answer);
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(res.body.contains("one organization only"), "{}", res.body);
    assert_eq!(role_of(&app, "hank").as_deref(), Some("admin"));

    // An existing account outside any org, of another domain: refused.
    app.signup("ivy");
    let url = start(&browser, "acme");
    let answer = idp.respond(&app, "acme", &url, "ivy@example.com", "ok");
    assert_eq!(post_to_acs(&app, &browser, &answer).status, 409);
    assert_eq!(role_of(&app, "ivy"), None);

    // The domain the provider claims leads to it from the SSO form.
    let form = browser.post_form("/sso", &[("org", "judy@ACME.test")]);
    assert_eq!(form.status, 303);
    assert!(form.location().starts_with(&idp.sso_url));
    let unknown = browser.post_form("/sso", &[("org", "nobody@nowhere.test")]);
    assert_eq!(unknown.status, 422);
    assert!(unknown.body.contains("No organization with single sign-on"));
}

#[test]
fn require_sso_refuses_member_passwords_but_not_admins() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    app.signup("walt");
    app.add_member("acme", "walt", "org_user");

    // Not without an enabled provider.
    let early = admin.post_form(
        "/acme/account/security/sso/require",
        &[("require_sso", "on")],
    );
    assert_eq!(early.status, 422);
    assert!(early.has("#require-error"));

    let idp = TestIdp::new();
    add_idp_from_fields(&admin, "acme", &idp, "org_user", "");
    let on = admin.post_form(
        "/acme/account/security/sso/require",
        &[("require_sso", "on")],
    );
    assert_eq!(on.status, 303, "{}", on.body);
    assert_eq!(events(&app, "sso.require_update").len(), 1);

    let member = app.client();
    let refused = member.post_form(
        "/login",
        &[("login", "walt"), ("password", "correct horse battery")],
    );
    assert_eq!(refused.status, 303);
    assert_eq!(refused.location(), "/sso?required=1&org=acme");
    let page = member.get(&refused.location());
    assert!(page.has("#sso-required"), "{}", page.body);
    assert_eq!(
        member.get("/settings/profile").status,
        303,
        "walt is signed in"
    );

    // The break-glass path: admins keep password sign-in.
    let boss = app.client();
    let ok = boss.post_form(
        "/login",
        &[("login", "boss"), ("password", "correct horse battery")],
    );
    assert_eq!(ok.status, 303);
    assert_eq!(boss.get("/settings/profile").status, 200);

    // Disabling the only provider lifts the requirement in effect.
    let id = admin
        .get("/acme/account/security/sso")
        .attr("[data-provider]", "data-provider");
    let off = admin.post_form(
        &format!("/acme/account/security/sso/providers/{id}/enabled"),
        &[("enabled", "false")],
    );
    assert_eq!(off.status, 303);
    let back = app.client().post_form(
        "/login",
        &[("login", "walt"), ("password", "correct horse battery")],
    );
    assert_eq!(back.location(), "/walt/apps");
}

#[test]
fn admins_manage_identity_providers_from_metadata_and_others_cannot() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "boss");
    let idp = TestIdp::new();

    let page = admin.get("/acme/account/security/sso");
    assert_eq!(page.status, 200);
    assert_eq!(page.text("#sp-entity-id"), app.url("/sso/acme/metadata"));
    assert_eq!(page.text("#sp-acs-url"), app.url("/sso/acme/acs"));
    assert!(page.has("[data-testid=no-providers]"));
    let meta = admin.get("/sso/acme/metadata?download=1");
    assert!(meta.body.contains("AssertionConsumerService"));
    assert!(meta.headers.get("content-disposition").is_some());

    // Bad input: errors next to the fields, what was typed kept.
    let bad = admin.post_multipart(
        "/acme/account/security/sso/providers",
        &[
            ("name", ""),
            ("default_role", "admin"),
            ("source", "metadata"),
            ("metadata_xml", "<html/>"),
        ],
        &[],
        false,
    );
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("name").is_some());
    assert!(bad.field_error("default_role").is_some());
    assert!(bad.field_error("metadata_xml").is_some());
    let bad_fields = admin.post_multipart(
        "/acme/account/security/sso/providers",
        &[
            ("name", "Okta"),
            ("default_role", "org_user"),
            ("source", "fields"),
            ("entity_id", "x"),
            ("sso_url", "ftp://x"),
            ("certificate", "nope"),
        ],
        &[],
        false,
    );
    assert_eq!(bad_fields.status, 422);
    assert!(bad_fields.field_error("sso_url").is_some());
    assert!(bad_fields.field_error("certificate").is_some());
    assert_eq!(bad_fields.attr("#idp-name", "value"), "Okta");

    // From an uploaded metadata file.
    let created = admin.post_multipart(
        "/acme/account/security/sso/providers",
        &[
            ("name", "Corporate IdP"),
            ("default_role", "team_contributor"),
            ("source", "metadata"),
        ],
        &[("metadata_file", "idp.xml", idp.metadata().into_bytes())],
        false,
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let list = admin.get("/acme/account/security/sso");
    assert_eq!(list.attr("[data-provider]", "data-name"), "Corporate IdP");
    assert_eq!(list.attr("[data-provider]", "data-enabled"), "true");
    assert_eq!(events(&app, "identity_provider.create").len(), 1);

    // A member who is not an admin sees nothing.
    app.signup("walt");
    app.add_member("acme", "walt", "org_contributor");
    let walt = app.client();
    walt.post_form(
        "/login",
        &[("login", "walt"), ("password", "correct horse battery")],
    );
    assert_eq!(walt.get("/acme/account/security/sso").status, 404);
    let id = list.attr("[data-provider]", "data-provider");
    let denied = walt.post_form(
        &format!("/acme/account/security/sso/providers/{id}/delete"),
        &[],
    );
    assert_eq!(denied.status, 404);

    let deleted = admin.post_form(
        &format!("/acme/account/security/sso/providers/{id}/delete"),
        &[],
    );
    assert_eq!(deleted.status, 303);
    assert!(admin
        .get("/acme/account/security/sso")
        .has("[data-testid=no-providers]"));
    assert_eq!(events(&app, "identity_provider.delete").len(), 1);
}
