//! + Add an Organization, the profile switcher, the org Account page.

use crate::support::TestApp;

#[test]
fn add_an_organization_dialog_has_the_documented_labels() {
    let app = TestApp::start();
    let c = app.signup("alice");
    let dialog = c.htmx_get("/organizations/new", Some("modal"));
    assert_eq!(dialog.status, 200);
    assert!(dialog.has("dialog#add-org-dialog"));
    assert!(
        !dialog.body.contains("<html"),
        "htmx gets the dialog block only"
    );
    let labels = dialog.texts("dialog label");
    assert_eq!(
        labels,
        ["Organization Name", "Organization ID", "Billing Email"]
    );
    assert_eq!(dialog.text("dialog button[type=submit]"), "Confirm");
    let page = c.get("/organizations/new");
    assert!(page.body.contains("<html"));
    assert!(page.has("form#add-org-form"));
    // The profile menu offers it.
    assert!(c.get("/alice/apps").has("[data-testid=add-org]"));
}

#[test]
fn creating_an_org_makes_the_creator_admin_and_switches_to_it() {
    let app = TestApp::start();
    let c = app.signup("alice");
    let res = c.post_form(
        "/organizations",
        &[
            ("name", "Acme"),
            ("id", "acme"),
            ("billing_email", "billing@acme.com"),
        ],
    );
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/acme/apps");
    let apps = c.get("/acme/apps");
    assert!(apps
        .text("[data-testid=active-profile]")
        .contains("Organization"));
    assert!(apps.text("[data-testid=active-profile]").contains("acme"));
    assert!(
        !apps.has("[data-testid=add-org]"),
        "one organization per user"
    );
    let account = c.get("/acme/account");
    assert_eq!(account.status, 200);
    assert!(account.body.contains("Admin"));
    // Switch back and forth.
    let back = c.post_form("/switch", &[("profile", "personal")]);
    assert_eq!(back.location(), "/alice/apps");
    assert!(c
        .get("/alice/apps")
        .text("[data-testid=active-profile]")
        .contains("Personal"));
    let again = c.post_form("/switch", &[("profile", "org")]);
    assert_eq!(again.location(), "/acme/apps");
}

#[test]
fn org_form_errors_are_shown_next_to_fields_with_values_kept() {
    let app = TestApp::start();
    app.signup("taken");
    let c = app.signup("alice");
    let res = c.htmx_post(
        "/organizations",
        &[("name", ""), ("id", "taken"), ("billing_email", "x")],
        Some("modal"),
    );
    assert_eq!(res.status, 422);
    assert!(res.field_error("name").is_some());
    assert!(res.field_error("billing_email").is_some());
    let res = c.post_form(
        "/organizations",
        &[("name", "T"), ("id", "taken"), ("billing_email", "a@b.co")],
    );
    assert!(res.field_error("id").expect("id error").contains("taken"));
    assert_eq!(res.attr("#org-id", "value"), "taken");
    let res = c.post_form(
        "/organizations",
        &[("name", "T"), ("id", "login"), ("billing_email", "a@b.co")],
    );
    assert!(res
        .field_error("id")
        .expect("reserved")
        .contains("reserved"));
    let res = c.post_form(
        "/organizations",
        &[
            ("name", "T"),
            ("id", "a'; DROP TABLE orgs;--"),
            ("billing_email", "a@b.co"),
        ],
    );
    assert!(res.field_error("id").is_some());
    // Nothing half-written.
    assert!(c.get("/alice/apps").has("[data-testid=add-org]"));
}

#[test]
fn a_user_belongs_to_one_organization_even_under_concurrent_requests() {
    let app = TestApp::start();
    let c = app.signup("alice");
    let token = c.csrf();
    let clients: Vec<_> = (0..6).map(|_| &c).collect();
    let results: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let id = format!("org{i}");
                let token = token.clone();
                s.spawn(move || {
                    c.post_raw(
                        "/organizations",
                        &[
                            ("name", "Org"),
                            ("id", &id),
                            ("billing_email", "a@b.co"),
                            ("csrf_token", &token),
                        ],
                    )
                    .status
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        results.iter().filter(|s| **s == 303).count(),
        1,
        "{results:?}"
    );
    use atrium::db::schema::{memberships, orgs};
    use diesel::prelude::*;
    let mut conn = app.state.pool.get().expect("conn");
    let n: i64 = memberships::table
        .count()
        .get_result(&mut *conn)
        .expect("count");
    assert_eq!(n, 1);
    let o: i64 = orgs::table.count().get_result(&mut *conn).expect("count");
    assert_eq!(o, 1, "the losing requests left no org behind");
}

#[test]
fn account_page_edit_leave_and_delete() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    let bad = admin.post_form("/acme/account", &[("name", ""), ("billing_email", "no")]);
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("name").is_some());
    assert!(bad.field_error("billing_email").is_some());
    assert_eq!(
        admin
            .post_form(
                "/acme/account",
                &[("name", "Acme Corp"), ("billing_email", "pay@acme.com")]
            )
            .status,
        303
    );
    assert_eq!(
        admin.get("/acme/account").attr("#org-name", "value"),
        "Acme Corp"
    );

    // The last admin cannot leave without handing over.
    let refused = admin.post_form("/acme/account/leave", &[]);
    assert_eq!(refused.status, 409);
    assert!(refused.text(".form-error").contains("only admin"));

    let bob = app.signup("bob");
    app.add_member("acme", "bob", "org_contributor");
    // Contributors see the page but cannot edit or delete.
    let page = bob.get("/acme/account");
    assert_eq!(page.status, 200);
    assert!(!page.has("#org-form"));
    assert!(!page.has("#delete-org-form"));
    assert_eq!(
        bob.post_form(
            "/acme/account",
            &[("name", "Hacked"), ("billing_email", "h@h.co")]
        )
        .status,
        403
    );
    assert_eq!(
        bob.post_form("/acme/account/delete", &[("confirm", "acme")])
            .status,
        403
    );

    // Hand over to bob and leave.
    let page = admin.get("/acme/account");
    assert_eq!(page.attrs("#successor option", "value"), ["", "bob"]);
    let left = admin.post_form("/acme/account/leave", &[("successor", "bob")]);
    assert_eq!(left.status, 303);
    assert_eq!(left.location(), "/alice/apps");
    assert_eq!(admin.get("/acme/account").status, 404);
    assert!(
        bob.get("/acme/account").has("#org-form"),
        "bob is admin now"
    );

    // Delete needs the ID typed again; it removes apps and memberships.
    app.create_app(&bob, "acme", "one", "One");
    let wrong = bob.post_form("/acme/account/delete", &[("confirm", "nope")]);
    assert_eq!(wrong.status, 422);
    assert_eq!(
        bob.post_form("/acme/account/delete", &[("confirm", "acme")])
            .status,
        303
    );
    assert_eq!(bob.get("/acme/apps").status, 404);
    assert_eq!(bob.get("/acme/one").status, 404);
    assert!(bob.get("/bob/apps").has("[data-testid=add-org]"));
}

#[test]
fn strangers_get_404_for_org_pages() {
    let app = TestApp::start();
    app.org_with_admin("acme", "alice");
    let eve = app.signup("eve");
    assert_eq!(eve.get("/acme/account").status, 404);
    assert_eq!(
        eve.post_form("/acme/account/delete", &[("confirm", "acme")])
            .status,
        404
    );
    assert_eq!(
        app.client().get("/acme/account").status,
        303,
        "signed out: sign in first"
    );
}
