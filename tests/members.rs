//! Account → Members: who sees it, the Invite Member dialog, Pending
//! Invitations (resend, rescind, expiry), Current Members (search, roles,
//! removal, the last-admin rules), the rate limit and the audit trail.

use crate::support::invites::{
    audit_events, expire_invitations, invite, membership, only_link, outbox_links,
};
use crate::support::TestApp;

#[test]
fn only_admins_see_the_members_screen() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    let page = admin.get("/acme/account/members");
    assert_eq!(page.status, 200);
    assert!(page.has("#pending-invitations"));
    assert!(page.has("#current-members"));
    assert_eq!(page.text("#invite-member"), "Invite Member");
    assert_eq!(page.text("a[data-testid=nav-members].current"), "Members");
    assert!(admin.get("/acme/account").has("a[data-testid=nav-members]"));

    let roles = [
        "org_contributor",
        "team_contributor",
        "org_user",
        "financial_manager",
    ];
    for role in roles {
        let handle = format!("u-{}", role.replace('_', "-"));
        let c = app.signup(&handle);
        app.add_member("acme", &handle, role);
        let account = c.get("/acme/account");
        assert_eq!(account.status, 200, "{role} sees the Account page");
        assert!(
            !account.has("a[data-testid=nav-members]"),
            "{role} gets no Members link"
        );
        assert_eq!(c.get("/acme/account/members").status, 404, "{role}");
        assert_eq!(c.get("/acme/account/members/invite").status, 404, "{role}");
        assert_eq!(
            invite(&c, "acme", "x@example.com", "admin").status,
            404,
            "{role} cannot invite"
        );
        assert_eq!(
            c.post_form("/acme/account/members/alice/role", &[("role", "org_user")])
                .status,
            404,
            "{role} cannot change roles"
        );
        assert_eq!(
            c.post_form("/acme/account/members/alice/remove", &[])
                .status,
            404,
            "{role} cannot remove"
        );
    }
    let eve = app.signup("eve");
    assert_eq!(eve.get("/acme/account/members").status, 404);
    assert_eq!(eve.get("/eve/account/members").status, 404, "not an org");
    let anonymous = app.client().get("/acme/account/members");
    assert_eq!(anonymous.status, 303);
    assert!(anonymous.location().starts_with("/login?next="));
    // Nobody but the admin changed anything.
    assert_eq!(membership(&app, "alice").expect("alice").1, "admin");
    assert!(audit_events(&app, "acme").is_empty());
}

#[test]
fn invite_dialog_validates_each_address_and_sends_mail() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    let dialog = admin.htmx_get("/acme/account/members/invite", Some("modal"));
    assert_eq!(dialog.status, 200);
    assert!(!dialog.body.contains("<html"), "htmx gets the dialog only");
    assert_eq!(dialog.text("#invite-title"), "Invite Member");
    assert_eq!(dialog.texts("#invite-form > label"), ["Email", "Role"]);
    assert_eq!(
        dialog.attrs("#invite-role option", "value"),
        [
            "",
            "team_contributor",
            "org_contributor",
            "org_user",
            "financial_manager",
            "admin"
        ]
    );
    assert_eq!(
        dialog.texts("#invite-role option")[1..],
        [
            "Team Contributor (select apps)",
            "Organization Contributor (all apps)",
            "Organization User (all apps, read-only)",
            "Financial Manager",
            "Admin"
        ]
    );
    assert_eq!(dialog.text("#invite-form button[type=submit]"), "Confirm");
    assert!(admin
        .get("/acme/account/members/invite")
        .body
        .contains("<html"));

    // Each address is checked on its own; nothing is sent while one is wrong.
    let typed = "good@example.com, not-an-email\nalso@@bad";
    let bad = admin.htmx_post(
        "/acme/account/members/invite",
        &[("emails", typed), ("role", "org_user")],
        Some("modal"),
    );
    assert_eq!(bad.status, 422);
    let errors = bad.texts(".field-error[data-field=emails]");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("not-an-email"));
    assert!(errors[1].contains("also@@bad"));
    assert_eq!(
        bad.text("#invite-emails"),
        typed.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    assert_eq!(
        bad.attr("#invite-role option[selected]", "value"),
        "org_user"
    );
    let no_role = invite(&admin, "acme", "good@example.com", "");
    assert_eq!(no_role.status, 422);
    assert!(no_role.field_error("role").is_some());
    let empty = invite(&admin, "acme", " , ", "admin");
    assert!(empty
        .field_error("emails")
        .expect("error")
        .contains("Enter"));
    let member = invite(&admin, "acme", "alice@example.com", "admin");
    assert_eq!(member.status, 422);
    assert!(member
        .field_error("emails")
        .expect("member")
        .contains("already a member"));
    assert!(admin
        .get("/acme/account/members")
        .has("[data-testid=no-invitations]"));
    assert!(outbox_links(&app, "good@example.com").is_empty());

    // Two at once, comma or newline separated, repeats ignored.
    let ok = invite(
        &admin,
        "acme",
        "Carol@Example.com\ndan@example.com, carol@example.com",
        "org_contributor",
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), "/acme/account/members");
    let page = admin.get("/acme/account/members");
    assert!(page
        .text(".flash")
        .contains("Invitations sent to carol@example.com, dan@example.com."));
    assert_eq!(page.count("[data-testid=invitations] tbody tr"), 2);
    let row = "tr[data-email=\"carol@example.com\"]";
    assert_eq!(
        page.text(&format!("{row} .role")),
        "Organization Contributor (all apps)"
    );
    assert_eq!(page.text(&format!("{row} .inviter")), "alice");
    assert_eq!(page.attr(row, "data-delivery"), "sent");
    assert_eq!(page.text(&format!("{row} .delivery")), "Sent");
    assert!(page.text(&format!("{row} .sent")).ends_with("UTC"));
    assert!(page.text(&format!("{row} .expires")).ends_with("UTC"));
    let link = only_link(&app, "carol@example.com");
    assert_eq!(only_link(&app, "dan@example.com").len(), link.len());
    // The token is random and only its hash is stored.
    let token = link.trim_start_matches("/invitations/");
    assert!(token.len() >= 32);
    {
        use atrium::db::schema::invitations;
        use diesel::prelude::*;
        let mut conn = app.state.pool.get().expect("conn");
        let hashes: Vec<String> = invitations::table
            .select(invitations::token_hash)
            .load(&mut *conn)
            .expect("hashes");
        assert!(hashes.iter().all(|h| h != token && h.len() == 64));
        assert!(hashes.contains(&atrium::models::invitation::hash_token(token)));
    }

    // A second invitation to a pending address is refused, the first one stays.
    let again = invite(&admin, "acme", "carol@example.com", "admin");
    assert_eq!(again.status, 422);
    assert!(again
        .field_error("emails")
        .expect("pending")
        .contains("pending invitation"));
}

#[test]
fn resend_replaces_the_link_and_rescind_kills_it() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    assert_eq!(
        invite(&admin, "acme", "carol@example.com", "org_user").status,
        303
    );
    let first = only_link(&app, "carol@example.com");
    let page = admin.get("/acme/account/members");
    let id = page.attr("tr[data-email=\"carol@example.com\"]", "data-invitation");

    let res = admin.post_form(&format!("/acme/account/invitations/{id}/resend"), &[]);
    assert_eq!(res.status, 303);
    let page = admin.get("/acme/account/members");
    assert!(page
        .text(".flash")
        .contains("Invitation resent to carol@example.com"));
    let links = outbox_links(&app, "carol@example.com");
    assert_eq!(links.len(), 2);
    let second = links.into_iter().find(|l| *l != first).expect("new link");
    let fresh = app.client();
    let old = fresh.get(&first);
    assert_eq!(old.status, 404, "the old link stopped working");
    assert_eq!(old.attr("#invitation", "data-case"), "invalid");
    assert_eq!(fresh.get(&second).status, 200);

    let res = admin.post_form(&format!("/acme/account/invitations/{id}/rescind"), &[]);
    assert_eq!(res.status, 303);
    let page = admin.get("/acme/account/members");
    assert!(page.text(".flash").contains("rescinded"));
    assert!(page.has("[data-testid=no-invitations]"));
    let gone = fresh.get(&second);
    assert_eq!(gone.status, 410);
    assert!(gone.text(".error-message").contains("rescinded"));
    // A rescinded invitation can be neither resent nor rescinded again.
    let res = admin.post_form(&format!("/acme/account/invitations/{id}/resend"), &[]);
    assert_eq!(res.status, 409);
    assert!(res.text("#members-error").contains("no longer pending"));
    assert_eq!(
        admin
            .post_form("/acme/account/invitations/nope/rescind", &[])
            .status,
        404
    );
    let trail: Vec<(String, String, String, String)> = audit_events(&app, "acme")
        .into_iter()
        .map(|e| {
            let role = e.details_json()["role"].as_str().unwrap_or("").to_owned();
            assert_eq!(e.source_ip, "127.0.0.1");
            assert_eq!(e.target_id, id);
            (e.event_type, e.actor_label, e.target_label, role)
        })
        .collect();
    let expected = [
        "invitation.create",
        "invitation.resend",
        "invitation.cancel",
    ];
    assert_eq!(trail.len(), 3);
    for (event, kind) in trail.iter().zip(expected) {
        assert_eq!(
            (
                event.0.as_str(),
                event.1.as_str(),
                event.2.as_str(),
                event.3.as_str()
            ),
            (kind, "alice", "carol@example.com", "org_user")
        );
    }
    // Another org's admin cannot touch it.
    let other = app.org_with_admin("globex", "gary");
    assert_eq!(
        other
            .post_form(&format!("/globex/account/invitations/{id}/resend"), &[])
            .status,
        404
    );
}

#[test]
fn expired_invitations_say_so_and_can_be_resent() {
    let app = TestApp::start_with(|c| c.invitation_ttl_days = 3);
    let admin = app.org_with_admin("acme", "alice");
    let carol = app.signup("carol");
    assert_eq!(
        invite(&admin, "acme", "carol@example.com", "org_user").status,
        303
    );
    let link = only_link(&app, "carol@example.com");
    {
        use atrium::db::schema::invitations;
        use diesel::prelude::*;
        let mut conn = app.state.pool.get().expect("conn");
        let (created, expires): (chrono::NaiveDateTime, chrono::NaiveDateTime) = invitations::table
            .select((invitations::created_at, invitations::expires_at))
            .first(&mut *conn)
            .expect("row");
        assert_eq!((expires - created).num_days(), 3, "configured expiry");
    }
    expire_invitations(&app, "acme");
    let page = carol.get(&link);
    assert_eq!(page.status, 410);
    assert!(page.text(".error-message").contains("expired"));
    assert!(!page.has("#accept"));
    let res = carol.post_form(&format!("{link}/accept"), &[]);
    assert_eq!(res.status, 410);
    assert_eq!(membership(&app, "carol"), None, "nothing changed");
    assert!(!carol
        .get("/carol/apps")
        .has("[data-testid=invitation-banner]"));

    let members = admin.get("/acme/account/members");
    let row = "tr[data-email=\"carol@example.com\"]";
    assert!(members
        .text(&format!("{row} .expires"))
        .starts_with("Expired"));
    let id = members.attr(row, "data-invitation");
    assert_eq!(
        admin
            .post_form(&format!("/acme/account/invitations/{id}/resend"), &[])
            .status,
        303
    );
    let fresh = outbox_links(&app, "carol@example.com")
        .into_iter()
        .find(|l| *l != link)
        .expect("new link");
    assert_eq!(carol.get(&fresh).attr("#invitation", "data-case"), "open");
    // A new invitation to the same address replaces an expired one too.
    expire_invitations(&app, "acme");
    assert_eq!(
        invite(&admin, "acme", "carol@example.com", "admin").status,
        303
    );
    assert_eq!(
        admin
            .get("/acme/account/members")
            .count("[data-testid=invitations] tbody tr"),
        1
    );
    // The replaced one can no longer be resent (the new one is the invitation now).
    let res = admin.post_form(&format!("/acme/account/invitations/{id}/resend"), &[]);
    assert_eq!(res.status, 409);
    assert!(res.text("#members-error").contains("no longer pending"));
}

#[test]
fn roles_change_and_the_last_admin_stays() {
    let app = TestApp::start();
    let alice = app.org_with_admin("acme", "alice");
    let bob = app.signup("bob");
    app.add_member("acme", "bob", "org_contributor");

    // Alice is the only admin: the screen says how to hand over.
    let page = alice.get("/acme/account/members");
    assert!(page.text("#handover-note").contains("only admin"));
    assert!(page.has("tr[data-member=alice] [data-testid=last-admin-hint]"));
    assert!(!page.has("tr[data-member=alice] select"));
    assert!(page.has("tr[data-member=bob] select[name=role]"));
    assert!(!page.has("tr[data-member=alice] [data-action=remove]"));
    let res = alice.post_form("/acme/account/members/alice/role", &[("role", "org_user")]);
    assert_eq!(res.status, 409);
    assert!(res.text("#members-error").contains("hand over"));
    assert_eq!(membership(&app, "alice").expect("m").1, "admin");
    let res = alice.post_form("/acme/account/members/alice/remove", &[]);
    assert_eq!(res.status, 409);
    assert!(res.text("#members-error").contains("Leave"));
    let refused = alice.post_form("/acme/account/leave", &[]);
    assert_eq!(refused.status, 409, "the last admin cannot leave");

    // Bad roles and unknown members are refused clearly.
    assert_eq!(
        alice
            .post_form("/acme/account/members/bob/role", &[("role", "owner")])
            .status,
        400
    );
    assert_eq!(
        alice
            .post_form("/acme/account/members/nobody/role", &[("role", "admin")])
            .status,
        404
    );

    // Hand over: bob becomes admin (htmx select), then alice may step down.
    let res = alice.htmx_post("/acme/account/members/bob/role", &[("role", "admin")], None);
    assert_eq!(res.status, 200);
    assert_eq!(res.location(), "/acme/account/members");
    assert_eq!(membership(&app, "bob").expect("m").1, "admin");
    assert!(
        bob.get("/acme/account/members").status == 200,
        "bob manages members now"
    );
    let res = alice.post_form("/acme/account/members/alice/role", &[("role", "org_user")]);
    assert_eq!(res.status, 303);
    assert_eq!(
        res.location(),
        "/acme/account",
        "no Members screen for her now"
    );
    assert_eq!(alice.get("/acme/account/members").status, 404);
    let page = bob.get("/acme/account/members");
    assert_eq!(page.attr("tr[data-member=alice]", "data-role"), "org_user");
    assert!(page.text("#handover-note").contains("bob"));

    let kinds: Vec<String> = audit_events(&app, "acme")
        .into_iter()
        .map(|e| format!("{} {} {}", e.event_type, e.actor_label, e.target_label))
        .collect();
    assert_eq!(
        kinds,
        [
            "member.role_change alice bob",
            "member.role_change alice alice"
        ]
    );
}

#[test]
fn removed_members_lose_access_at_once_and_keep_their_own_things() {
    let app = TestApp::start();
    let alice = app.org_with_admin("acme", "alice");
    let bob = app.signup("bob");
    app.add_member("acme", "bob", "org_contributor");
    app.create_app(&bob, "acme", "bobs-org-app", "Bob's org app");
    app.create_app(&bob, "bob", "bobs-own-app", "Bob's own app");
    let other_bob = app.client();
    other_bob.post_form(
        "/login",
        &[("login", "bob"), ("password", "correct horse battery")],
    );
    assert_eq!(bob.get("/acme/bobs-org-app").status, 200);

    let confirm = alice.htmx_get("/acme/account/members/bob/remove", Some("modal"));
    assert_eq!(confirm.status, 200);
    assert!(confirm.has("dialog#remove-dialog"));
    assert!(confirm
        .text("#remove-dialog")
        .contains("stay in the organization"));
    let res = alice.post_form("/acme/account/members/bob/remove", &[]);
    assert_eq!(res.status, 303);
    let page = alice.get("/acme/account/members");
    assert!(page.text(".flash").contains("bob was removed"));
    assert!(!page.has("tr[data-member=bob]"));

    // Every session of bob's ended on his very next request.
    for c in [&bob, &other_bob] {
        let next = c.get("/acme/bobs-org-app");
        assert_eq!(next.status, 404, "the org app is gone for him");
        assert_eq!(c.get("/settings/profile").status, 303, "signed out");
    }
    let bob = app.client();
    let res = bob.post_form(
        "/login",
        &[("login", "bob"), ("password", "correct horse battery")],
    );
    assert_eq!(res.status, 303);
    let apps = bob.get("/bob/apps");
    assert!(!apps.has("[data-testid=switch-org]"), "no org in his menu");
    assert_eq!(apps.app_ids(), ["bobs-own-app"], "his own apps stay");
    assert_eq!(bob.get("/acme/account").status, 404);
    assert_eq!(
        alice.get("/acme/apps").app_ids(),
        ["bobs-org-app"],
        "apps he created stay in the org"
    );
    assert_eq!(membership(&app, "bob"), None);
    let removal = audit_events(&app, "acme").pop().expect("event");
    assert_eq!(removal.event_type, "member.remove");
    assert_eq!(removal.target_label, "bob");
}

#[test]
fn members_are_searched_by_name_or_email() {
    let app = TestApp::start();
    let alice = app.org_with_admin("acme", "alice");
    for (handle, name) in [("carol", "Carol Danvers"), ("dave", "Dave Lister")] {
        let c = app.signup(handle);
        c.post_form(
            "/settings/profile",
            &[("name", name), ("email", &format!("{handle}@corp.example"))],
        );
        app.add_member("acme", handle, "org_user");
    }
    let members = |page: &crate::support::Page| page.attrs("tr[data-member]", "data-member");
    assert_eq!(
        members(&alice.get("/acme/account/members")),
        ["alice", "carol", "dave"]
    );
    assert_eq!(
        members(&alice.get("/acme/account/members?q=DANVERS")),
        ["carol"]
    );
    assert_eq!(
        members(&alice.get("/acme/account/members?q=corp.example")),
        ["carol", "dave"]
    );
    let live = alice.htmx_get("/acme/account/members?q=lister", Some("member-results"));
    assert_eq!(live.status, 200);
    assert!(
        !live.body.contains("<html"),
        "typing swaps the results only"
    );
    assert_eq!(members(&live), ["dave"]);
    let none = alice.get("/acme/account/members?q=%25");
    assert!(none
        .text("[data-testid=no-members]")
        .contains("No member matches"));
    assert_eq!(alice.get("/acme/account/members?page=0").status, 400);
}

#[test]
fn invitations_are_rate_limited_per_org() {
    let app = TestApp::start_with(|c| c.invite_rate_limit = 3);
    let admin = app.org_with_admin("acme", "alice");
    assert_eq!(
        invite(&admin, "acme", "a@example.com, b@example.com", "org_user").status,
        303
    );
    let res = invite(&admin, "acme", "c@example.com, d@example.com", "org_user");
    assert_eq!(res.status, 429);
    assert!(res
        .text(".error-message")
        .contains("3 invitations per hour, and 1 remain"));
    assert!(
        outbox_links(&app, "c@example.com").is_empty(),
        "nothing sent"
    );
    assert_eq!(
        invite(&admin, "acme", "c@example.com", "org_user").status,
        303
    );
    let id = admin
        .get("/acme/account/members")
        .attr("tr[data-email=\"a@example.com\"]", "data-invitation");
    let res = admin.post_form(&format!("/acme/account/invitations/{id}/resend"), &[]);
    assert_eq!(res.status, 429, "resends count too");
    // Another organization has its own allowance.
    let other = app.org_with_admin("globex", "gary");
    assert_eq!(
        invite(&other, "globex", "a@example.com", "org_user").status,
        303
    );
}

#[test]
fn whether_an_address_has_an_account_is_not_revealed() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    app.signup("dave");
    app.org_with_admin("globex", "gary");
    // An address with an account, one in another org, and one unknown: same answer.
    let mut rows = Vec::new();
    for email in ["dave@example.com", "gary@example.com", "nobody@example.com"] {
        let res = invite(&admin, "acme", email, "org_user");
        assert_eq!(res.status, 303);
        let page = admin.get("/acme/account/members");
        assert_eq!(page.text(".flash"), format!("Invitation sent to {email}."));
        let row = format!("tr[data-email=\"{email}\"]");
        rows.push((
            page.text(&format!("{row} .role")),
            page.text(&format!("{row} .delivery")),
        ));
    }
    assert!(rows.windows(2).all(|w| w[0] == w[1]), "{rows:?}");
    // Non-admins cannot even ask.
    let carol = app.signup("carol");
    app.add_member("acme", "carol", "org_contributor");
    for email in ["dave@example.com", "unknown@example.com"] {
        let res = invite(&carol, "acme", email, "org_user");
        assert_eq!(res.status, 404);
    }
    // A stranger probing links learns nothing.
    let eve = app.signup("eve");
    let probe = eve.get("/invitations/dave");
    assert_eq!(probe.status, 404);
    assert!(!probe.body.contains("dave@example.com"));
}
