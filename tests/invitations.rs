//! The invitee's side: the link page in every case, sign-up through the link,
//! sign-in and back, accept and decline, the in-app banner, and two
//! organizations' invitations accepted at the same moment.

use crate::support::invites::{
    audit_events, invite, membership, membership_count, only_link, outbox_links,
};
use crate::support::TestApp;

#[test]
fn a_new_user_signs_up_through_the_link_and_joins() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    assert_eq!(
        invite(&admin, "acme", "newbie@example.com", "org_contributor").status,
        303
    );
    let link = only_link(&app, "newbie@example.com");

    let browser = app.client();
    let page = browser.get(&link);
    assert_eq!(page.status, 200);
    assert_eq!(page.attr("#invitation", "data-case"), "signed-out");
    assert_eq!(
        page.text("[data-testid=invited-email]"),
        "newbie@example.com"
    );
    assert_eq!(
        page.text("[data-testid=invited-role]"),
        "Organization Contributor (all apps)"
    );
    assert_eq!(
        page.headers.get("referrer-policy").expect("policy"),
        "no-referrer"
    );
    let signup_href = page.attr("#signup-to-join", "href");
    let form = browser.get(&signup_href);
    assert_eq!(form.status, 200);
    assert_eq!(form.attr("#email", "value"), "newbie@example.com");
    assert!(form.has("#email[readonly]"), "the address is locked");
    assert!(form.text("#invited-to").contains("acme inc"));
    let token = link.trim_start_matches("/invitations/");
    assert_eq!(form.attr("input[name=invitation]", "value"), token);

    // Form errors keep the invitation.
    let bad = browser.post_form(
        "/signup",
        &[
            ("email", "newbie@example.com"),
            ("handle", "X"),
            ("password", "short"),
            ("invitation", token),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.has("#email[readonly]"));
    // A tampered address is ignored: the invitation decides.
    let res = browser.post_form(
        "/signup",
        &[
            ("email", "someone-else@example.com"),
            ("handle", "newbie"),
            ("password", "correct horse battery"),
            ("invitation", token),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), "/acme/apps");
    let apps = browser.get("/acme/apps");
    assert!(apps.text(".flash").contains("Welcome to acme inc"));
    assert!(apps.text("[data-testid=active-profile]").contains("acme"));
    assert_eq!(
        membership(&app, "newbie"),
        Some(("acme".to_owned(), "org_contributor".to_owned()))
    );
    assert_eq!(
        browser.get("/settings/profile").attr("#email", "value"),
        "newbie@example.com"
    );
    // The link worked once.
    let used = app.client().get(&link);
    assert_eq!(used.status, 410);
    assert!(used.text(".error-message").contains("already accepted"));
    let members = admin.get("/acme/account/members");
    assert!(members.has("tr[data-member=newbie]"));
    assert!(members.has("[data-testid=no-invitations]"));
    let accept = audit_events(&app, "acme").pop().expect("event");
    assert_eq!(accept.event_type, "invitation.accept");
    assert_eq!(accept.actor_label, "newbie");
    assert_eq!(accept.source_ip, "127.0.0.1");
}

#[test]
fn an_existing_user_signs_in_and_comes_back_to_accept() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    let carol = app.signup("carol");
    carol.post_form("/logout", &[]);
    assert_eq!(
        invite(&admin, "acme", "carol@example.com", "org_user").status,
        303
    );
    let link = only_link(&app, "carol@example.com");

    let page = carol.get(&link);
    assert_eq!(page.attr("#invitation", "data-case"), "signed-out");
    let login = page.attr("#signin-to-respond", "href");
    let form = carol.get(&login);
    assert_eq!(form.status, 200);
    let next = form.attr("input[name=next]", "value");
    assert_eq!(next, link);
    let res = carol.post_form(
        "/login",
        &[
            ("login", "carol@example.com"),
            ("password", "correct horse battery"),
            ("next", &next),
        ],
    );
    assert_eq!(res.location(), link, "back to the invitation");
    let page = carol.get(&link);
    assert_eq!(page.attr("#invitation", "data-case"), "open");
    assert_eq!(page.text("#accept"), "Accept");
    assert_eq!(page.text("#decline"), "Decline");
    assert!(
        page.has("[data-testid=invitation-banner]"),
        "the app shows it too"
    );
    assert_eq!(
        membership(&app, "carol"),
        None,
        "opening the link changes nothing"
    );

    let res = carol.post_form(&format!("{link}/accept"), &[]);
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/acme/apps");
    assert_eq!(
        membership(&app, "carol"),
        Some(("acme".to_owned(), "org_user".to_owned()))
    );
    let apps = carol.get("/acme/apps");
    assert!(!apps.has("[data-testid=invitation-banner]"));
    // Org users read; they do not create.
    assert!(!apps.has("#create-app"));
}

#[test]
fn declining_changes_nothing_else() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    let carol = app.signup("carol");
    assert_eq!(
        invite(&admin, "acme", "carol@example.com", "admin").status,
        303
    );
    let link = only_link(&app, "carol@example.com");
    let res = carol.post_form(&format!("{link}/decline"), &[]);
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/carol/apps");
    assert!(carol.get("/carol/apps").text(".flash").contains("declined"));
    assert_eq!(membership(&app, "carol"), None);
    let page = carol.get(&link);
    assert_eq!(page.status, 410);
    assert!(page.text(".error-message").contains("declined"));
    assert_eq!(carol.post_form(&format!("{link}/accept"), &[]).status, 410);
    assert_eq!(membership(&app, "carol"), None);
    assert!(admin
        .get("/acme/account/members")
        .has("[data-testid=no-invitations]"));
    assert_eq!(
        audit_events(&app, "acme").pop().expect("event").event_type,
        "invitation.decline"
    );
}

#[test]
fn the_wrong_user_and_members_of_other_orgs_change_nothing() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    let carol = app.org_with_admin("globex", "carol");
    let dave = app.signup("dave");
    assert_eq!(
        invite(&admin, "acme", "carol@example.com", "org_user").status,
        303
    );
    let link = only_link(&app, "carol@example.com");

    // Someone else holding the link.
    let page = dave.get(&link);
    assert_eq!(page.status, 403);
    assert_eq!(page.attr("#invitation", "data-case"), "wrong-user");
    assert!(!page.has("#accept"));
    let res = dave.post_form(&format!("{link}/accept"), &[]);
    assert_eq!(res.status, 403);
    assert_eq!(membership(&app, "dave"), None);
    assert_eq!(dave.post_form(&format!("{link}/decline"), &[]).status, 403);

    // The invitee, but in another organization: leave that one first.
    let page = carol.get(&link);
    assert_eq!(page.status, 200);
    assert_eq!(page.attr("#invitation", "data-case"), "other-org");
    assert!(page.text("#leave-first").contains("leave globex inc first"));
    assert!(!page.has("#accept"));
    let res = carol.post_form(&format!("{link}/accept"), &[]);
    assert_eq!(res.status, 409);
    assert!(res.text("#leave-first").contains("globex inc"));
    assert_eq!(
        membership(&app, "carol"),
        Some(("globex".to_owned(), "admin".to_owned()))
    );
    // Inside the app too: the list says so and offers no Accept.
    let mine = carol.get("/invitations");
    assert!(mine.text("#leave-first").contains("globex inc"));
    assert!(!mine.has("[data-action=accept]"));
    let id = mine.attr("[data-testid=my-invitations] li", "data-invitation");
    let res = carol.post_form(&format!("/invitations/received/{id}/accept"), &[]);
    assert_eq!(res.status, 409);
    assert!(res.text("#invitation-error").contains("leave it first"));
    assert_eq!(membership(&app, "carol").expect("member").0, "globex");

    // Once she left (handing globex over), the same link works.
    app.signup("gus");
    app.add_member("globex", "gus", "org_user");
    let left = carol.post_form("/globex/account/leave", &[("successor", "gus")]);
    assert_eq!(left.status, 303);
    let res = carol.post_form(&format!("{link}/accept"), &[]);
    assert_eq!(res.status, 303);
    assert_eq!(
        membership(&app, "carol"),
        Some(("acme".to_owned(), "org_user".to_owned()))
    );
    let globex: Vec<String> = audit_events(&app, "globex")
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(globex, ["member.role_change", "member.leave"]);
}

#[test]
fn forged_links_show_a_clear_page() {
    let app = TestApp::start();
    app.org_with_admin("acme", "alice");
    let carol = app.signup("carol");
    for path in [
        "/invitations/forged",
        "/invitations/abcdefghijklmnopqrstuvwxyz0123456789abcd",
    ] {
        let page = carol.get(path);
        assert_eq!(page.status, 404);
        assert_eq!(page.attr("#invitation", "data-case"), "invalid");
        assert!(page.text(".error-message").contains("not valid"));
        assert_eq!(carol.post_form(&format!("{path}/accept"), &[]).status, 404);
        assert_eq!(carol.post_form(&format!("{path}/decline"), &[]).status, 404);
    }
    let signup = app.client().get("/signup?invitation=forged");
    assert_eq!(signup.status, 303);
    assert_eq!(signup.location(), "/invitations/forged");
    assert_eq!(membership(&app, "carol"), None);
    // Answering needs a signed-in user.
    let res = app.client().post_form("/invitations/forged/accept", &[]);
    assert_eq!(res.status, 303);
    assert!(res.location().starts_with("/login?next="));
}

#[test]
fn existing_users_see_their_invitations_in_the_app() {
    let app = TestApp::start();
    let admin = app.org_with_admin("acme", "alice");
    let other = app.org_with_admin("globex", "gary");
    let carol = app.signup("carol");
    assert!(!carol
        .get("/carol/apps")
        .has("[data-testid=invitation-banner]"));
    assert_eq!(
        invite(&admin, "acme", "carol@example.com", "org_contributor").status,
        303
    );
    let banner = carol.get("/carol/apps");
    assert!(banner
        .text("[data-testid=invitation-banner]")
        .contains("You are invited to join acme inc as Organization Contributor (all apps)."));
    assert_eq!(
        invite(&other, "globex", "carol@example.com", "org_user").status,
        303
    );
    let page = carol.get("/invitations");
    assert!(page
        .text("[data-testid=invitation-banner]")
        .contains("2 invitations"));
    let ids = page.attrs("[data-testid=my-invitations] li", "data-invitation");
    assert_eq!(ids.len(), 2);

    // Nobody else can answer them by id.
    let eve = app.signup("eve");
    assert_eq!(
        eve.post_form(&format!("/invitations/received/{}/accept", ids[0]), &[])
            .status,
        404
    );
    // Decline globex's, accept acme's, from inside the app.
    let globex_id = page.attr(
        "[data-testid=my-invitations] li:nth-child(1)",
        "data-invitation",
    );
    let acme_id = page.attr(
        "[data-testid=my-invitations] li:nth-child(2)",
        "data-invitation",
    );
    let res = carol.post_form(&format!("/invitations/received/{globex_id}/decline"), &[]);
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/invitations");
    let res = carol.post_form(&format!("/invitations/received/{acme_id}/accept"), &[]);
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/acme/apps");
    assert_eq!(
        membership(&app, "carol"),
        Some(("acme".to_owned(), "org_contributor".to_owned()))
    );
    assert!(!carol
        .get("/acme/apps")
        .has("[data-testid=invitation-banner]"));

    // An account made after the invitation (not through its link) does not see it:
    // addresses are not verified, so only the e-mailed link proves the mailbox.
    assert_eq!(
        invite(&admin, "acme", "late@example.com", "org_user").status,
        303
    );
    let late = app.signup("late");
    assert!(!late
        .get("/late/apps")
        .has("[data-testid=invitation-banner]"));
    let link = only_link(&app, "late@example.com");
    assert_eq!(late.get(&link).attr("#invitation", "data-case"), "open");
}

#[test]
fn two_orgs_invitations_accepted_at_once_make_one_membership() {
    let app = TestApp::start();
    let acme = app.org_with_admin("acme", "alice");
    let globex = app.org_with_admin("globex", "gary");
    for round in 0..3 {
        let handle = format!("carol{round}");
        let email = format!("{handle}@example.com");
        let carol = app.signup(&handle);
        assert_eq!(invite(&acme, "acme", &email, "org_user").status, 303);
        assert_eq!(
            invite(&globex, "globex", &email, "org_contributor").status,
            303
        );
        let links = outbox_links(&app, &email);
        assert_eq!(links.len(), 2);
        let token = carol.csrf();
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = links
                .iter()
                .map(|link| {
                    let (carol, token) = (&carol, token.clone());
                    s.spawn(move || {
                        carol
                            .post_raw(&format!("{link}/accept"), &[("csrf_token", &token)])
                            .status
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let mut sorted = statuses.clone();
        sorted.sort();
        assert_eq!(sorted, [303, 409], "round {round}: {statuses:?}");
        assert_eq!(membership_count(&app, &handle), 1);
        // The losing invitation is still open: nothing changed for it.
        let (org, _) = membership(&app, &handle).expect("member");
        let loser = if org == "acme" { "globex" } else { "acme" };
        let admin = if loser == "acme" { &acme } else { &globex };
        let page = admin.get(&format!("/{loser}/account/members"));
        assert!(
            page.has(&format!("tr[data-email=\"{email}\"]")),
            "round {round}"
        );
        assert!(!page.has(&format!("tr[data-member={handle}]")));
    }
}
