//! My Apps: create, list (grid / list), search, sort, pin, duplicate, delete; the app page.

use crate::support::TestApp;

#[test]
fn create_list_search_sort_pin_duplicate_delete() {
    let app = TestApp::start();
    let c = app.signup("alice");
    for (id, name) in [
        ("bravo", "Bravo"),
        ("alpha", "alpha"),
        ("charlie", "Charlie"),
    ] {
        app.create_app(&c, "alice", id, name);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Default sort: last updated, newest first.
    assert_eq!(
        c.get("/alice/apps").app_ids(),
        ["charlie", "alpha", "bravo"]
    );
    assert_eq!(
        c.get("/alice/apps?sort=name&dir=asc").app_ids(),
        ["alpha", "bravo", "charlie"]
    );
    assert_eq!(
        c.get("/alice/apps?sort=name&dir=desc").app_ids(),
        ["charlie", "bravo", "alpha"]
    );
    assert_eq!(
        c.get("/alice/apps?sort=updated&dir=asc").app_ids(),
        ["bravo", "alpha", "charlie"]
    );
    // Search by name, case-insensitive, as a plain GET and as htmx (the results block only).
    assert_eq!(c.get("/alice/apps?q=ARL").app_ids(), ["charlie"]);
    let partial = c.htmx_get("/alice/apps?q=a&sort=name&dir=asc", Some("app-results"));
    assert!(!partial.body.contains("<html"));
    assert_eq!(partial.app_ids(), ["alpha", "bravo", "charlie"]);
    assert_eq!(
        c.get("/alice/apps?q=%25").app_ids(),
        Vec::<String>::new(),
        "LIKE wildcards are literal"
    );
    // Pin: rises to the top whatever the sort.
    let pinned = c.htmx_post(
        "/alice/bravo/pin?sort=name&dir=desc",
        &[("pinned", "true")],
        Some("app-results"),
    );
    assert_eq!(pinned.status, 200);
    assert_eq!(pinned.app_ids(), ["bravo", "charlie", "alpha"]);
    assert_eq!(
        c.get("/alice/apps?sort=name&dir=asc").app_ids(),
        ["bravo", "alpha", "charlie"]
    );
    assert!(c
        .get("/alice/apps")
        .has("li.app-card.pinned[data-app-id=bravo]"));
    c.post_form("/alice/bravo/pin", &[("pinned", "false")]);
    assert_eq!(
        c.get("/alice/apps?sort=name&dir=asc").app_ids(),
        ["alpha", "bravo", "charlie"]
    );
    // Duplicate asks for a new ID.
    let form = c.htmx_get("/alice/alpha/duplicate", Some("modal"));
    assert_eq!(form.attr("#new-id", "value"), "alpha-copy");
    let taken = c.post_form(
        "/alice/alpha/duplicate",
        &[("new_id", "bravo"), ("new_name", "B")],
    );
    assert_eq!(taken.status, 422);
    assert!(taken
        .field_error("new_id")
        .expect("taken")
        .contains("already has an app"));
    assert_eq!(
        c.post_form(
            "/alice/alpha/duplicate",
            &[("new_id", "alpha2"), ("new_name", "Alpha 2")]
        )
        .status,
        303
    );
    assert!(c
        .get("/alice/apps")
        .app_ids()
        .contains(&"alpha2".to_owned()));
    // Copy ID carries the id.
    assert_eq!(
        c.get("/alice/apps?q=alpha2")
            .attr("[data-action=copy-id]", "data-copy"),
        "alpha2"
    );
    // Delete asks for confirmation.
    assert_eq!(
        c.post_form("/alice/alpha2/delete", &[("confirm", "nope")])
            .status,
        422
    );
    assert_eq!(
        c.post_form("/alice/alpha2/delete", &[("confirm", "alpha2")])
            .status,
        303
    );
    assert_eq!(c.get("/alice/apps").app_ids().len(), 3);
    assert_eq!(c.get("/alice/apps").text("[data-testid=app-count]"), "3");
}

#[test]
fn grid_or_list_view_is_remembered_per_user() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "one", "One");
    assert_eq!(
        c.get("/alice/apps").attr("[data-testid=apps]", "data-view"),
        "grid"
    );
    assert_eq!(
        c.post_form(
            "/settings/apps-view",
            &[("view", "list"), ("back", "/alice/apps")]
        )
        .status,
        303
    );
    assert_eq!(
        c.get("/alice/apps").attr("[data-testid=apps]", "data-view"),
        "list"
    );
    let other = app.client();
    other.post_form(
        "/login",
        &[("login", "alice"), ("password", "correct horse battery")],
    );
    assert_eq!(
        other
            .get("/alice/apps")
            .attr("[data-testid=apps]", "data-view"),
        "list",
        "per user, not per session"
    );
    assert_eq!(
        c.post_form("/settings/apps-view", &[("view", "mosaic")])
            .status,
        400
    );
}

#[test]
fn bad_listing_parameters_get_a_clear_message() {
    let app = TestApp::start();
    let c = app.signup("alice");
    for (q, needle) in [
        ("sort=color", "Unknown sort"),
        ("dir=up", "Unknown direction"),
        ("page=-1", "not a page number"),
        ("page=abc", "not a page number"),
        ("page=99999999999999999999", "not a page number"),
    ] {
        let res = c.get(&format!("/alice/apps?{q}"));
        assert_eq!(res.status, 400, "{q}");
        assert!(
            res.text(".error-message").contains(needle),
            "{q}: {}",
            res.body
        );
    }
    assert_eq!(
        c.get("/alice/apps?q=%27%3B%20DROP%20TABLE%20apps%3B--")
            .status,
        200
    );
    assert_eq!(
        c.get(&format!("/alice/apps?q={}", "x".repeat(101))).status,
        400
    );
}

#[test]
fn pages_hold_24_apps() {
    let app = TestApp::start();
    let c = app.signup("alice");
    for i in 0..30 {
        app.create_app(&c, "alice", &format!("app{i:02}"), &format!("App {i:02}"));
    }
    let p1 = c.get("/alice/apps?sort=name&dir=asc");
    assert_eq!(p1.app_ids().len(), 24);
    assert!(p1.has("a[rel=next]"));
    let p2 = c.get("/alice/apps?sort=name&dir=asc&page=2");
    assert_eq!(p2.app_ids().len(), 6);
    assert_eq!(p2.app_ids()[0], "app24");
    assert!(!p2.has("a[rel=next]"));
    assert!(p2.has("a[rel=prev]"));
}

#[test]
fn create_app_errors_and_escaping() {
    let app = TestApp::start();
    let c = app.signup("alice");
    let dialog = c.htmx_get("/alice/apps/new", Some("modal"));
    assert!(dialog.has("dialog#create-app-dialog"));
    let res = c.post_form(
        "/alice/apps",
        &[
            ("id", "Bad ID"),
            ("name", &"n".repeat(101)),
            ("description", "<script>alert(1)</script>"),
        ],
    );
    assert_eq!(res.status, 422);
    assert!(res.field_error("id").is_some());
    assert!(res.field_error("name").is_some());
    assert_eq!(res.text("#app-description"), "<script>alert(1)</script>");
    assert!(!res.body.contains("<script>alert(1)"));
    let res = c.post_form("/alice/apps", &[("id", "apps"), ("name", "x")]);
    assert!(res
        .field_error("id")
        .expect("reserved")
        .contains("reserved"));
    app.create_app(&c, "alice", "dup", "Dup");
    let res = c.post_form("/alice/apps", &[("id", "dup"), ("name", "x")]);
    assert!(res
        .field_error("id")
        .expect("taken")
        .contains("already has an app"));
    // Unicode and HTML are stored and shown escaped.
    let res = c.post_form(
        "/alice/apps",
        &[
            ("id", "uni"),
            ("name", "Ünïcødé <i>x</i> 😀"),
            ("description", ""),
        ],
    );
    assert_eq!(res.status, 303);
    let page = c.get("/alice/uni");
    assert_eq!(page.text("[data-testid=app-title]"), "Ünïcødé <i>x</i> 😀");
    assert!(!page.body.contains("<i>x</i>"));
}

#[test]
fn app_page_overview_and_settings() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "one", "One");
    let page = c.get("/alice/one");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.texts("[data-testid=app-sidebar] .label"),
        ["Overview", "Inputs", "App Models", "App Settings"]
    );
    let bad = c.post_form(
        "/alice/one",
        &[
            ("name", "One"),
            ("description", "d"),
            ("visibility", "secret"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("visibility").is_some());
    assert_eq!(
        c.post_form(
            "/alice/one",
            &[
                ("name", "One!"),
                ("description", "Hello"),
                ("visibility", "public")
            ]
        )
        .status,
        303
    );
    // Public apps are readable signed out, but not editable.
    let anon = app.client();
    let p = anon.get("/alice/one");
    assert_eq!(p.status, 200);
    assert_eq!(p.text("[data-testid=app-title]"), "One!");
    assert!(!p.has("#overview-form"));
    assert_eq!(anon.get("/alice/one/settings").status, 303);
    // Settings can rename the ID.
    let s = c.get("/alice/one/settings");
    assert!(s.has("#settings-form"));
    let r = c.post_form(
        "/alice/one/settings",
        &[
            ("id", "uno"),
            ("name", "Uno"),
            ("description", ""),
            ("visibility", "private"),
        ],
    );
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/alice/uno/settings");
    assert_eq!(c.get("/alice/one").status, 404);
    assert_eq!(anon.get("/alice/uno").status, 404, "private again");
    // Delete from settings.
    assert_eq!(
        c.post_form("/alice/uno/delete", &[("confirm", "uno")])
            .status,
        303
    );
    assert_eq!(c.get("/alice/uno").status, 404);
}

#[test]
fn org_apps_follow_roles() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    app.create_app(&admin, "acme", "secret", "Secret");
    let viewer = app.signup("olga");
    app.add_member("acme", "olga", "org_user");
    let page = viewer.get("/acme/secret");
    assert_eq!(page.status, 200, "org users read every org app");
    assert!(!page.has("#overview-form"));
    assert_eq!(
        viewer
            .post_form("/acme/secret", &[("name", "x"), ("visibility", "private")])
            .status,
        403
    );
    assert_eq!(
        viewer
            .post_form("/acme/apps", &[("id", "mine"), ("name", "x")])
            .status,
        403
    );
    assert!(
        viewer
            .get("/acme/apps")
            .has("li[data-app-id=secret] .pin-form"),
        "org users may pin"
    );
    let eve = app.signup("eve");
    assert_eq!(eve.get("/acme/secret").status, 404);
    // A stranger sees a public app in the listing but is offered no pin (it would be refused).
    admin.post_form(
        "/acme/secret",
        &[("name", "Secret"), ("visibility", "public")],
    );
    let listing = eve.get("/acme/apps");
    assert_eq!(listing.app_ids(), ["secret"]);
    assert!(!listing.has(".pin-form"));
    admin.post_form(
        "/acme/secret",
        &[("name", "Secret"), ("visibility", "private")],
    );
    assert_eq!(eve.get("/acme/apps").app_ids(), Vec::<String>::new());
    assert_eq!(app.client().get("/acme/secret").status, 404);
}
