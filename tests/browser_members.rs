//! The members walk in a real headless Chromium: an admin invites an address,
//! the e-mail arrives at a real SMTP server on loopback, the invitee opens its
//! link in a fresh browser, signs up and joins; the admin sees them under
//! Current Members, changes their role and removes them; the removed member's
//! next page load no longer shows the organization.

use serde_json::json;

use crate::browser::{open_profile_menu, sign_up, wait_for_modal};
use crate::support::browser::{runtime, Browser};
use crate::support::invites::membership;
use crate::support::smtp::SmtpSink;
use crate::support::TestApp;

/// Signs in through the form; ends on the user's apps.
async fn sign_in(b: &Browser, handle: &str) {
    b.goto("/login").await;
    b.fill("#login", handle).await;
    b.fill("#password", "correct horse battery").await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for_path(&format!("/{handle}/apps")).await;
}

#[test]
fn invite_join_change_role_remove() {
    let sink = SmtpSink::start();
    let app = TestApp::start_with(|c| c.smtp_url = Some(sink.url()));
    runtime().block_on(async {
        // The admin creates the organization and opens Members from the Account page.
        let admin = Browser::launch(&app.base).await;
        sign_up(&admin, "boss").await;
        open_profile_menu(&admin).await;
        admin.click("[data-testid=add-org]").await;
        wait_for_modal(&admin, "#add-org-dialog").await;
        admin.fill("#org-name", "Crew Co").await;
        admin.fill("#org-id", "crew").await;
        admin.fill("#org-billing", "billing@crew.example").await;
        admin.click("#add-org-form button[type=submit]").await;
        admin.wait_for_path("/crew/apps").await;
        admin.goto("/crew/account/members").await;
        admin.visible("#current-members tr[data-member=boss]").await;

        // Invite Member: the dialog opens in place; Confirm sends the e-mail.
        admin.mark_document().await;
        admin.click("#invite-member").await;
        wait_for_modal(&admin, "#invite-dialog").await;
        assert!(admin.same_document().await, "the dialog opens in place");
        admin.fill("#invite-emails", "newbie@example.com").await;
        admin.select("#invite-role", "org_contributor").await;
        admin.click("#invite-form button[type=submit]").await;
        admin
            .wait_for_text(".flash", "Invitation sent to newbie@example.com")
            .await;
        admin
            .visible("#pending-invitations tr[data-email='newbie@example.com'][data-delivery=sent]")
            .await;

        // The mail arrived over SMTP, addressed to the invitee, with the link.
        let mails = sink.wait_for(1);
        assert_eq!(mails.len(), 1, "one invitation e-mail");
        assert_eq!(mails[0].to, vec!["newbie@example.com".to_owned()]);
        assert!(
            mails[0]
                .header("Subject")
                .is_some_and(|s| s.contains("Crew Co")),
            "subject: {:?}",
            mails[0].header("Subject")
        );
        let link = mails[0].invitation_path();

        // A fresh browser opens the link, signs up with the address locked, and joins.
        let invitee = Browser::launch(&app.base).await;
        invitee.goto(&link).await;
        invitee.visible("#invitation[data-case=signed-out]").await;
        invitee
            .wait_for_text("[data-testid=invited-role]", "Organization Contributor")
            .await;
        invitee.click("#signup-to-join").await;
        invitee.wait_for_path("/signup").await;
        invitee.visible("#invited-to").await;
        assert_eq!(invitee.value("#email").await, "newbie@example.com");
        assert_eq!(
            invitee
                .js("return document.querySelector('#email').readOnly;", vec![])
                .await,
            json!(true),
            "the invited address is locked"
        );
        invitee.fill("#handle", "newbie").await;
        invitee.fill("#name", "New Bie").await;
        invitee.fill("#password", "correct horse battery").await;
        invitee
            .click("form[action='/signup'] button[type=submit]")
            .await;
        invitee.wait_for_path("/crew/apps").await;
        invitee.wait_for_text(".flash", "Welcome to Crew Co").await;
        invitee
            .wait_for_text("[data-testid=active-profile]", "crew")
            .await;
        assert_eq!(
            membership(&app, "newbie"),
            Some(("crew".to_owned(), "org_contributor".to_owned()))
        );

        // The admin sees the new member; the invitation is no longer pending.
        admin.goto("/crew/account/members").await;
        admin
            .visible("#current-members tr[data-member=newbie][data-role=org_contributor]")
            .await;
        assert_eq!(
            admin
                .texts("#current-members tr[data-member=newbie] td.email")
                .await,
            vec!["newbie@example.com"]
        );
        admin
            .gone("#pending-invitations tr[data-email='newbie@example.com']")
            .await;

        // Change the role: choosing it in the row saves it.
        admin
            .select("tr[data-member=newbie] select[name=role]", "org_user")
            .await;
        admin
            .wait_for_text(".flash", "newbie is now Organization User")
            .await;
        admin
            .visible("#current-members tr[data-member=newbie][data-role=org_user]")
            .await;
        assert_eq!(
            membership(&app, "newbie"),
            Some(("crew".to_owned(), "org_user".to_owned()))
        );

        // Remove them, confirming in the dialog.
        admin
            .click("tr[data-member=newbie] [data-action=remove]")
            .await;
        wait_for_modal(&admin, "#remove-dialog").await;
        admin.click("#remove-form button[type=submit]").await;
        admin.wait_for_text(".flash", "newbie was removed").await;
        admin.gone("#current-members tr[data-member=newbie]").await;
        admin.visible("#current-members tr[data-member=boss]").await;
        assert_eq!(membership(&app, "newbie"), None);

        // The removed member's next page load no longer shows the organization:
        // their session for it ended.
        invitee.client.refresh().await.expect("reload");
        invitee.wait_for_path("/crew/apps").await;
        invitee.gone("[data-testid=active-profile]").await;
        invitee.goto("/crew/account").await;
        invitee.wait_for_path("/login").await;
        // Signed in again, they have their personal profile and no organization.
        sign_in(&invitee, "newbie").await;
        invitee
            .wait_for_text("[data-testid=active-profile] .badge", "Personal")
            .await;
        open_profile_menu(&invitee).await;
        invitee.visible("[data-testid=add-org]").await;
        assert!(
            invitee.texts("[data-testid=switch-org]").await.is_empty(),
            "no organization in the profile menu"
        );
        invitee.goto("/crew/account").await;
        invitee
            .wait_for_text(".error-card .status-code", "404")
            .await;

        invitee.close().await;
        admin.close().await;
    });
}
