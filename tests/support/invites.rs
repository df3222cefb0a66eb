//! Helpers for member and invitation tests: send invitations through the form,
//! find the links that went out, and read memberships and the audit trail
//! straight from the database.

use atrium::db::schema::{accounts, memberships};
use atrium::models::audit::{self, AuditEvent};
use atrium::models::OrgId;
use diesel::prelude::*;

use super::smtp::read_outbox;
use super::{Client, Page, TestApp};

/// Posts the Invite Member form as `admin`.
pub fn invite(admin: &Client, org: &str, emails: &str, role: &str) -> Page {
    admin.post_form(
        &format!("/{org}/account/members/invite"),
        &[("emails", emails), ("role", role)],
    )
}

/// Every invitation link written to the outbox for `email`.
pub fn outbox_links(app: &TestApp, email: &str) -> Vec<String> {
    read_outbox(&app.dir.path().join("outbox"))
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains(email)))
        .map(|m| m.invitation_path())
        .collect()
}

/// The one invitation link sent to `email` (fails when there is not exactly one).
pub fn only_link(app: &TestApp, email: &str) -> String {
    let links = outbox_links(app, email);
    assert_eq!(links.len(), 1, "links to {email}: {links:?}");
    links[0].clone()
}

/// The org handle and role of `user`'s membership, if any.
pub fn membership(app: &TestApp, user: &str) -> Option<(String, String)> {
    let mut conn = app.state.pool.get().expect("conn");
    let uid: i64 = accounts::table
        .filter(accounts::handle.eq(user))
        .select(accounts::id)
        .first(&mut *conn)
        .expect("user");
    let row: Option<(i64, String)> = memberships::table
        .filter(memberships::user_id.eq(uid))
        .select((memberships::org_id, memberships::role))
        .first(&mut *conn)
        .optional()
        .expect("membership");
    row.map(|(org_id, role)| {
        let handle: String = accounts::table
            .find(org_id)
            .select(accounts::handle)
            .first(&mut *conn)
            .expect("org");
        (handle, role)
    })
}

/// Number of memberships `user` has (the schema allows one).
pub fn membership_count(app: &TestApp, user: &str) -> i64 {
    let mut conn = app.state.pool.get().expect("conn");
    let uid: i64 = accounts::table
        .filter(accounts::handle.eq(user))
        .select(accounts::id)
        .first(&mut *conn)
        .expect("user");
    memberships::table
        .filter(memberships::user_id.eq(uid))
        .count()
        .get_result(&mut *conn)
        .expect("count")
}

/// The org's audit events, oldest first.
pub fn audit_events(app: &TestApp, org: &str) -> Vec<AuditEvent> {
    let mut conn = app.state.pool.get().expect("conn");
    let org_id: i64 = accounts::table
        .filter(accounts::handle.eq(org))
        .select(accounts::id)
        .first(&mut *conn)
        .expect("org");
    let mut events = audit::for_org(&mut conn, OrgId(org_id), 1000).expect("audit");
    events.reverse();
    events
}

/// Moves every invitation's expiry of `org` into the past.
pub fn expire_invitations(app: &TestApp, org: &str) {
    use atrium::db::schema::invitations;
    let mut conn = app.state.pool.get().expect("conn");
    let org_id: i64 = accounts::table
        .filter(accounts::handle.eq(org))
        .select(accounts::id)
        .first(&mut *conn)
        .expect("org");
    diesel::update(invitations::table.filter(invitations::org_id.eq(org_id)))
        .set(invitations::expires_at.eq(atrium::models::now() - chrono::Duration::hours(1)))
        .execute(&mut *conn)
        .expect("expire");
}
