//! SQL statements per request: the pages that list apps run a fixed, small number
//! of statements whatever the number of apps (no N+1). Counted with the pool's
//! instrumentation counter (`TestApp::queries()`, also `atrium_db_queries_total`
//! on `/metrics`).

use crate::support::{database_kind, Client, TestApp};

/// Statements the server ran to answer one GET (which must succeed).
fn queries_for(app: &TestApp, c: &Client, path: &str) -> u64 {
    let before = app.queries();
    let page = c.get(path);
    assert_eq!(page.status, 200, "GET {path}: {}", page.body);
    app.queries() - before
}

/// Per-request counts of the screens under test, in a fixed order.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    my_apps: u64,
    my_apps_by_name: u64,
    my_apps_page_2: u64,
    search: u64,
    app_page: u64,
}

fn measure(app: &TestApp, c: &Client) -> Counts {
    // One request first so that nothing lazy (a pool connection, a session key)
    // falls into the measured requests.
    queries_for(app, c, "/acme/apps");
    Counts {
        my_apps: queries_for(app, c, "/acme/apps"),
        my_apps_by_name: queries_for(app, c, "/acme/apps?sort=name&dir=asc"),
        my_apps_page_2: queries_for(app, c, "/acme/apps?page=2"),
        search: queries_for(app, c, "/acme/apps?q=app"),
        app_page: queries_for(app, c, "/acme/app001"),
    }
}

fn create_apps(app: &TestApp, c: &Client, range: std::ops::Range<usize>) {
    for i in range {
        app.create_app(c, "acme", &format!("app{i:03}"), &format!("App {i:03}"));
    }
}

#[test]
fn statements_per_page_do_not_grow_with_the_number_of_apps() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    create_apps(&app, &admin, 0..5);
    for pinned in ["app001", "app003"] {
        let res = admin.post_form(&format!("/acme/{pinned}/pin"), &[("pinned", "true")]);
        assert_eq!(res.status, 303);
    }
    let listing = admin.get("/acme/apps");
    assert_eq!(listing.count("li.app-card.pinned"), 2, "pins are present");
    assert_eq!(listing.app_ids().len(), 5);

    let with_5 = measure(&app, &admin);

    create_apps(&app, &admin, 5..60);
    let listing = admin.get("/acme/apps");
    assert_eq!(listing.count("li.app-card.pinned"), 2);
    assert_eq!(listing.app_ids().len(), 2 + 24, "pins above a full page");
    assert!(listing.has("a[rel=next]"));

    let with_60 = measure(&app, &admin);
    assert_eq!(with_5, with_60, "statements per request grew with the apps");

    // The exact figures, so that an extra statement on these hot pages is noticed.
    //
    // My Apps, page 1 (any sort, with or without a search): 4 statements —
    //   1. the session's user joined with their membership and its org, and
    //      whether an invitation waits for them (one statement for the whole
    //      actor, `auth::session`; the invitations themselves are read only
    //      when there is one, for the navbar's banner);
    //   (1b. for members other than admins, their team grants and label
    //   restrictions, only when the org's teams changed since they were cached:
    //   see the Team Contributor test below);
    //   2. the owner by handle (its `app_count` column is the tab's count: no COUNT);
    //   3. the viewer's pinned apps of this owner that match the search;
    //   4. the page itself (24 + 1 rows, to know whether a next page exists), with
    //      the pins left out by a subquery rather than a list of ids.
    // Page 2 shows no pinned block: 3 statements. A search of 3+ characters on
    // SQLite first asks the trigram index for its candidates: one more.
    // The app page: the user (1), the owner and the app (2), and whether the
    // viewer pinned it (1) = 4.
    //
    // On PostgreSQL the pool also checks each connection it hands out (`SELECT 1`):
    // My Apps takes 1 connection (the session, owner and page in one trip), the
    // app page 3 (the session, owner + app, the pin).
    let ping = u64::from(database_kind() == "postgres");
    let fts = u64::from(database_kind() == "sqlite");
    assert_eq!(
        with_60,
        Counts {
            my_apps: 4 + ping,
            my_apps_by_name: 4 + ping,
            my_apps_page_2: 3 + ping,
            search: 4 + fts + ping,
            app_page: 4 + 3 * ping,
        }
    );
}

#[test]
fn the_counter_is_exported_on_metrics() {
    let app = TestApp::start();
    let c = app.signup("alice");
    let before = app.queries();
    assert_eq!(c.get("/alice/apps").status, 200);
    let metrics = app.client().get("/metrics");
    let exported: u64 = metrics
        .body
        .lines()
        .find_map(|l| l.strip_prefix("atrium_db_queries_total "))
        .expect("atrium_db_queries_total on /metrics")
        .trim()
        .parse()
        .expect("a number");
    assert!(exported > before, "the My Apps request ran statements");
    assert_eq!(exported, app.queries());
}

/// A Team Contributor's pages: as many statements as an admin's, whatever the
/// number of grants: their team grants and label restrictions are loaded once
/// and kept in memory until the org's teams change (the `teams_version` the
/// session statement reads); the listing filters grants in SQL (a subquery), not
/// by a list of ids.
#[test]
fn a_team_contributors_statements_do_not_grow_with_grants() {
    use crate::support::teams::{add_to_team, create_team, grant, restrict};
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    create_apps(&app, &admin, 0..30);
    let tc = app.signup("tc");
    app.add_member("acme", "tc", "team_contributor");
    create_team(&admin, "acme", "crew", "labeler_worker");
    create_team(&admin, "acme", "more", "model_trainer");
    add_to_team(&admin, "acme", "crew", &["tc"]);
    add_to_team(&admin, "acme", "more", &["tc"]);
    for i in 0..3 {
        grant(&admin, "acme", "crew", &format!("app{i:03}"), "default");
    }
    queries_for(&app, &tc, "/acme/apps");
    let few = (
        queries_for(&app, &tc, "/acme/apps"),
        queries_for(&app, &tc, "/acme/app001"),
    );
    assert_eq!(tc.get("/acme/apps").app_ids().len(), 3);
    for i in 3..30 {
        grant(&admin, "acme", "more", &format!("app{i:03}"), "default");
    }
    restrict(&admin, "acme", "more", "");
    // The first request after a change loads the access again: one statement.
    let reload = queries_for(&app, &tc, "/acme/apps");
    let many = (
        queries_for(&app, &tc, "/acme/apps"),
        queries_for(&app, &tc, "/acme/app001"),
    );
    assert_eq!(tc.get("/acme/apps").app_ids().len(), 24, "a full page");
    assert_eq!(few, many, "statements per request grew with the grants");
    queries_for(&app, &admin, "/acme/apps");
    let admin_counts = (
        queries_for(&app, &admin, "/acme/apps"),
        queries_for(&app, &admin, "/acme/app001"),
    );
    assert_eq!(many, admin_counts);
    assert_eq!(reload, admin_counts.0 + 1);
}
