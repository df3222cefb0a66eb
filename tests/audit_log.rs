//! Security → Audit log: sign-ins and failed sign-ins of members, token creation
//! and revocation, policy changes are recorded; the screen filters by member,
//! event type and dates, pages through them, exports CSV that spreadsheets will
//! not run as formulas; admins only.

use atrium::db::schema::{accounts, api_keys, audit_events};
use atrium::models::audit::{self, AuditActor, AuditTarget, EventKind};
use atrium::models::{OrgId, UserId};
use diesel::prelude::*;

use crate::support::{Client, TestApp};

const PASSWORD: &str = "correct horse battery";
const FORMULA: &str = "=HYPERLINK(\"http://x\",\"a, b\")";

fn id_of(app: &TestApp, handle: &str) -> i64 {
    let mut conn = app.state.pool.get().expect("conn");
    accounts::table
        .filter(accounts::handle.eq(handle))
        .select(accounts::id)
        .first(&mut *conn)
        .expect("account")
}

fn events_on_page(page: &crate::support::Page) -> Vec<String> {
    page.attrs("[data-testid=audit-log] tbody tr", "data-event")
}

/// An org with an admin (boss) and a member (worker) who failed once, then signed in.
fn setup(app: &TestApp) -> (Client, Client) {
    let boss = app.org_with_admin("acme", "boss");
    app.signup("worker");
    app.add_member("acme", "worker", "org_user");
    let worker = app.client();
    let wrong = worker.post_form("/login", &[("login", "worker"), ("password", "nope")]);
    assert_eq!(wrong.status, 422);
    let ok = worker.post_form("/login", &[("login", "worker"), ("password", PASSWORD)]);
    assert_eq!(ok.status, 303);
    // A token whose description is a spreadsheet formula, created and revoked.
    let created = boss.post_form(
        "/settings/tokens",
        &[
            ("description", FORMULA),
            ("scopes", "apps:read"),
            ("expires", "7"),
        ],
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let key_id: String = {
        let mut conn = app.state.pool.get().expect("conn");
        api_keys::table
            .filter(api_keys::description.eq(FORMULA))
            .select(api_keys::key_id)
            .first(&mut *conn)
            .expect("key")
    };
    let revoked = boss.post_form(&format!("/settings/tokens/{key_id}/revoke"), &[]);
    assert_eq!(revoked.status, 303);
    let policy = boss.post_form(
        "/acme/account/security/password-policy",
        &[
            ("minimum_length", "10"),
            ("maximum_length", "256"),
            ("password_life_span_days", "0"),
            ("password_reuse_epoch", "0"),
        ],
    );
    assert_eq!(policy.status, 303);
    (boss, worker)
}

#[test]
fn events_are_recorded_filtered_and_exported() {
    let app = TestApp::start();
    let (boss, worker) = setup(&app);
    let security = boss.get("/acme/account/security");
    assert!(security.has("#audit-log-link"));
    let page = boss.get("/acme/account/security/audit-log");
    assert_eq!(page.status, 200, "{}", page.body);
    let all = events_on_page(&page);
    for kind in [
        "session.sign_in",
        "session.sign_in_failed",
        "token.create",
        "token.revoke",
        "password_policy.update",
    ] {
        assert!(all.iter().any(|e| e == kind), "{kind} in {all:?}");
    }
    assert!(page.has("tr.failed"), "the refused sign-in is marked");

    // By member: the worker's own sign-ins (as actor or target).
    let mine = events_on_page(&boss.get("/acme/account/security/audit-log?member=worker"));
    assert_eq!(mine, ["session.sign_in", "session.sign_in_failed"]);
    // By type.
    let tokens = events_on_page(&boss.get("/acme/account/security/audit-log?type=token.create"));
    assert_eq!(tokens, ["token.create"]);
    // By dates (whole days, UTC).
    let today = chrono::Utc::now().date_naive();
    let (yesterday, tomorrow) = (today.pred_opt().expect("d"), today.succ_opt().expect("d"));
    let on = |from: &str, to: &str| {
        events_on_page(&boss.get(&format!(
            "/acme/account/security/audit-log?from={from}&to={to}"
        )))
        .len()
    };
    assert_eq!(on(&today.to_string(), &today.to_string()), all.len());
    assert_eq!(on(&tomorrow.to_string(), ""), 0);
    assert_eq!(on("", &yesterday.to_string()), 0);
    // Bad filters are shown next to their fields.
    let bad = boss.get("/acme/account/security/audit-log?from=2026-13-45&type=nope");
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("from").is_some());
    assert!(bad.field_error("type").is_some());
    assert_eq!(bad.attr("#from", "value"), "2026-13-45");
    let reversed = boss.get(&format!(
        "/acme/account/security/audit-log?from={today}&to={yesterday}"
    ));
    assert_eq!(reversed.status, 422);
    assert!(reversed.field_error("to").is_some());

    // CSV: quoted, formulas defused, the same filters.
    let (status, ctype, body) =
        boss.get_bytes("/acme/account/security/audit-log.csv?type=token.create");
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    let text = String::from_utf8(body).expect("utf-8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("header").clone();
    assert_eq!(&headers[1], "event");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][1], "token.create");
    assert_eq!(&rows[0][3], "boss");
    assert_eq!(rows[0][6].to_string(), format!("'{FORMULA}"));
    assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"a, b\"\")\""));
    let (all_status, _, all_csv) = boss.get_bytes("/acme/account/security/audit-log.csv");
    assert_eq!(all_status, 200);
    let n = csv::Reader::from_reader(&all_csv[..]).records().count();
    assert_eq!(n, all.len());

    // Admins only: to a member the log does not exist.
    assert_eq!(worker.get("/acme/account/security/audit-log").status, 404);
    assert_eq!(
        worker.get_bytes("/acme/account/security/audit-log.csv").0,
        404
    );
    let outsider = app.signup("outsider");
    assert_eq!(outsider.get("/acme/account/security/audit-log").status, 404);
}

#[test]
fn the_log_is_paginated() {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    let org = OrgId(id_of(&app, "acme"));
    let boss_id = UserId(id_of(&app, "boss"));
    {
        let mut conn = app.state.pool.get().expect("conn");
        let actor = AuditActor {
            user_id: Some(boss_id),
            label: "boss".to_owned(),
            ip: "192.0.2.1".to_owned(),
        };
        for i in 0..120 {
            audit::record(
                &mut conn,
                Some(org),
                &actor,
                EventKind::InvitationCreate,
                &AuditTarget::invitation(&format!("inv{i}"), &format!("p{i}@example.com")),
                serde_json::json!({ "n": i }),
            )
            .expect("record");
        }
    }
    let total: i64 = {
        let mut conn = app.state.pool.get().expect("conn");
        audit_events::table
            .filter(audit_events::org_id.eq(org.0))
            .count()
            .get_result(&mut *conn)
            .expect("count")
    };
    let first = boss.get("/acme/account/security/audit-log");
    assert_eq!(events_on_page(&first).len(), 50);
    assert!(first.has("a[rel=next]"));
    assert!(!first.has("a[rel=prev]"));
    // Newest first.
    assert!(first.body.contains("p119@example.com"));
    let last_page = (total + 49) / 50;
    let last = boss.get(&format!(
        "/acme/account/security/audit-log?page={last_page}"
    ));
    assert_eq!(
        events_on_page(&last).len() as i64,
        total - 50 * (last_page - 1)
    );
    assert!(!last.has("a[rel=next]"));
    assert!(last.has("a[rel=prev]"));
    // Filters survive paging.
    let filtered = boss.get("/acme/account/security/audit-log?type=invitation.create");
    assert!(filtered
        .attr("a[rel=next]", "href")
        .contains("type=invitation.create"));
}
