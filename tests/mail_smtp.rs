//! Invitation e-mail through a real SMTP conversation with the in-process sink
//! (`support::smtp`): delivered, refused, down, and hung servers. The invitation
//! is never lost and the admin never sees a 500.

use std::time::{Duration, Instant};

use crate::support::invites::{invite, membership};
use crate::support::smtp::{closed_port, Mode, SmtpSink};
use crate::support::TestApp;

#[test]
fn the_invitation_travels_over_smtp_and_its_link_works() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = TestApp::start_with(move |c| {
        c.smtp_url = Some(url);
        c.mail_from = "Acme via Atrium <noreply@atrium.test>".to_owned();
    });
    let admin = app.org_with_admin("acme", "alice");
    let res = invite(&admin, "acme", "newbie@example.com", "team_contributor");
    assert_eq!(res.status, 303);
    let mails = sink.wait_for(1);
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from, "noreply@atrium.test");
    assert_eq!(mail.to, ["newbie@example.com"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("alice invited you to join acme inc on Atrium")
    );
    assert!(mail.text().contains("multipart/alternative"));
    assert!(mail.text().contains("Team Contributor (select apps)"));
    let link = mail.invitation_path();
    assert!(
        mail.text().contains(&format!("{}{link}", app.base)),
        "absolute link"
    );
    assert!(
        !app.dir.path().join("outbox").exists()
            || std::fs::read_dir(app.dir.path().join("outbox"))
                .expect("outbox")
                .next()
                .is_none(),
        "nothing in the outbox when SMTP is configured"
    );
    let row = admin
        .get("/acme/account/members")
        .attr("tr[data-email=\"newbie@example.com\"]", "data-delivery");
    assert_eq!(row, "sent");

    // The invitee follows it in a fresh browser, signs up and joins.
    let browser = app.client();
    let signup = browser.get(&browser.get(&link).attr("#signup-to-join", "href"));
    assert_eq!(signup.attr("#email", "value"), "newbie@example.com");
    let token = signup.attr("input[name=invitation]", "value");
    let res = browser.post_form(
        "/signup",
        &[
            ("handle", "newbie"),
            ("password", "correct horse battery"),
            ("invitation", &token),
        ],
    );
    assert_eq!(res.location(), "/acme/apps");
    assert_eq!(
        membership(&app, "newbie"),
        Some(("acme".to_owned(), "team_contributor".to_owned()))
    );
}

#[test]
fn smtp_down_keeps_the_invitation_and_resend_delivers_once_it_is_back() {
    let port = closed_port();
    let app = TestApp::start_with(move |c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}")));
    let admin = app.org_with_admin("acme", "alice");
    let res = invite(&admin, "acme", "carol@example.com", "org_user");
    assert_eq!(res.status, 303, "no 500 when the mail server is down");
    let page = admin.get("/acme/account/members");
    assert!(page
        .text(".flash")
        .contains("The invitation to carol@example.com was saved but the email was not delivered"));
    let row = "tr[data-email=\"carol@example.com\"]";
    assert_eq!(page.attr(row, "data-delivery"), "failed");
    assert_eq!(
        page.text(&format!("{row} .delivery .badge")),
        "Not delivered"
    );
    assert!(page
        .text(&format!("{row} .delivery-error"))
        .starts_with("SMTP:"));
    assert!(page.text(&format!("{row} .sent")).contains("not yet"));

    // The server comes back on the same port: resend delivers, with a working link.
    let sink = SmtpSink::start_with(Mode::Accept, port);
    let id = page.attr(row, "data-invitation");
    let res = admin.post_form(&format!("/acme/account/invitations/{id}/resend"), &[]);
    assert_eq!(res.status, 303);
    let page = admin.get("/acme/account/members");
    assert!(page
        .text(".flash")
        .contains("Invitation resent to carol@example.com"));
    assert_eq!(page.attr(row, "data-delivery"), "sent");
    assert!(!page.has(&format!("{row} .delivery-error")));
    let mails = sink.wait_for(1);
    assert_eq!(mails.len(), 1);
    let carol = app.signup("carol");
    let link = mails[0].invitation_path();
    assert_eq!(carol.get(&link).attr("#invitation", "data-case"), "open");
    assert_eq!(carol.post_form(&format!("{link}/accept"), &[]).status, 303);
    assert_eq!(membership(&app, "carol").expect("member").0, "acme");
}

#[test]
fn a_refusing_server_is_recorded_with_its_answer() {
    let sink = SmtpSink::start_with(Mode::RefuseRecipients, 0);
    let url = sink.url();
    let app = TestApp::start_with(move |c| c.smtp_url = Some(url));
    let admin = app.org_with_admin("acme", "alice");
    let res = invite(&admin, "acme", "a@example.com, b@example.com", "org_user");
    assert_eq!(res.status, 303);
    let page = admin.get("/acme/account/members");
    for email in ["a@example.com", "b@example.com"] {
        let row = format!("tr[data-email=\"{email}\"]");
        assert_eq!(page.attr(&row, "data-delivery"), "failed");
        let error = page.text(&format!("{row} .delivery-error"));
        assert!(error.contains("550"), "{error}");
    }
    assert!(sink.mails().is_empty());
}

#[test]
fn a_hung_server_cannot_hold_the_request() {
    let sink = SmtpSink::start_with(Mode::Silent, 0);
    let url = sink.url();
    let app = TestApp::start_with(move |c| {
        c.smtp_url = Some(url);
        c.smtp_timeout_secs = 1;
    });
    let admin = app.org_with_admin("acme", "alice");
    let started = Instant::now();
    let res = invite(
        &admin,
        "acme",
        "a@example.com, b@example.com, c@example.com",
        "org_user",
    );
    let took = started.elapsed();
    assert_eq!(res.status, 303);
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let page = admin.get("/acme/account/members");
    assert_eq!(
        page.attrs("tr[data-delivery=failed]", "data-email").len(),
        3
    );
}
