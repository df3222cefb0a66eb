//! The teams walk in a real headless Chromium: an admin creates a team in the
//! Create Team dialog, adds a member invited as Team Contributor through the Add
//! Members search dialog, and grants two of five apps; the member signs in and
//! sees exactly those two. The admin then labels one app `hipaa` and restricts
//! the team to `hipaa`: the member now sees one.

use crate::browser::wait_for_modal;
use crate::support::browser::{runtime, Browser};
use crate::support::invites::{invite, membership, only_link};
use crate::support::TestApp;

async fn sign_in(b: &Browser, handle: &str) {
    b.goto("/login").await;
    b.fill("#login", handle).await;
    b.fill("#password", "correct horse battery").await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for_path(&format!("/{handle}/apps")).await;
}

#[test]
fn create_team_add_member_grant_then_restrict() {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    for i in 1..=5 {
        app.create_app(&boss, "acme", &format!("a{i}"), &format!("App {i}"));
    }
    // Invited as Team Contributor; joins by signing up from the link.
    assert_eq!(
        invite(&boss, "acme", "tc@example.com", "team_contributor").status,
        303
    );
    let token = only_link(&app, "tc@example.com")
        .trim_start_matches("/invitations/")
        .to_owned();
    let joined = app.client().post_form(
        "/signup",
        &[
            ("email", "tc@example.com"),
            ("handle", "tc"),
            ("password", "correct horse battery"),
            ("invitation", &token),
        ],
    );
    assert_eq!(joined.status, 303, "{}", joined.body);
    assert_eq!(
        membership(&app, "tc"),
        Some(("acme".to_owned(), "team_contributor".to_owned()))
    );

    runtime().block_on(async {
        let admin = Browser::launch(&app.base).await;
        sign_in(&admin, "boss").await;
        admin.goto("/acme/account").await;
        admin.click("[data-testid=nav-teams]").await;
        admin.wait_for_path("/acme/account/teams").await;
        admin.visible("[data-testid=no-teams]").await;

        // Create Team: the dialog opens in place.
        admin.mark_document().await;
        admin.click("#create-team").await;
        wait_for_modal(&admin, "#team-dialog").await;
        assert!(admin.same_document().await, "the dialog opens in place");
        admin.fill("#team-id", "labelers").await;
        admin.fill("#team-name", "Labelers").await;
        admin.select("#team-role", "labeler_lead").await;
        admin.click("#team-form button[type=submit]").await;
        admin.wait_for_path("/acme/account/teams/labelers").await;
        admin.wait_for_text(".flash", "Team Labelers created").await;

        // Add Members: search the org's members, tick, confirm.
        admin.click("#add-members").await;
        wait_for_modal(&admin, "#add-members-dialog").await;
        admin.visible("[data-candidate=boss]").await;
        admin.type_keys("#candidate-search", "tc").await;
        admin.gone("[data-candidate=boss]").await;
        admin.visible("#add-members-confirm").await;
        admin.click("[data-candidate=tc]").await;
        admin.click("#add-members-confirm").await;
        admin.wait_for_text(".flash", "Added to Labelers: tc").await;
        admin.visible("#team-members tr[data-member=tc]").await;

        // Grant two of the five apps.
        for a in ["a2", "a4"] {
            admin.fill("#grant-app", a).await;
            admin.click("#grant-form button[type=submit]").await;
            admin
                .wait_for_text(".flash", &format!("{a} granted to Labelers"))
                .await;
        }
        admin
            .visible("#team-apps tr[data-app=a4][data-role=labeler_lead]")
            .await;

        // The member sees exactly those two.
        let member = Browser::launch(&app.base).await;
        sign_in(&member, "tc").await;
        member.goto("/acme/apps").await;
        member.wait_for_cards(&["a4", "a2"]).await;

        // Label one app hipaa in App Settings, restrict the team to hipaa.
        admin.goto("/acme/a2/settings").await;
        admin.fill("#labels", "hipaa").await;
        admin.click("#labels-form button[type=submit]").await;
        admin
            .wait_for_text(".flash", "Compliance labels saved")
            .await;
        admin.goto("/acme/account/teams/labelers").await;
        admin.fill("#restriction-labels", "hipaa").await;
        admin.click("#restriction-form button[type=submit]").await;
        admin
            .wait_for_text(".flash", "Team restricted to hipaa")
            .await;
        admin
            .wait_for_text(
                "#restriction-statement",
                "can only reach apps labelled hipaa",
            )
            .await;

        // The member now sees one, with its label.
        member.goto("/acme/apps").await;
        member.wait_for_cards(&["a2"]).await;
        member.visible("[data-app-id=a2] [data-label=hipaa]").await;
        member.goto("/acme/a4").await;
        member
            .wait_for_text(".error-card .status-code", "404")
            .await;

        member.close().await;
        admin.close().await;
    });
}
