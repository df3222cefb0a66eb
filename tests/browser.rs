//! Walks through the portal in a real headless Chromium (chromedriver + fantoccini):
//! the htmx dialogs, the profile switcher and the My Apps listing as a person
//! uses them, JavaScript included.

use serde_json::json;

use crate::support::browser::{runtime, Browser};
use crate::support::TestApp;

/// Signs up through the form; ends on the new user's apps, acting as them.
pub(crate) async fn sign_up(b: &Browser, handle: &str) {
    b.goto("/signup").await;
    b.fill("#email", &format!("{handle}@example.com")).await;
    b.fill("#handle", handle).await;
    b.fill("#password", "correct horse battery").await;
    b.click("form[action='/signup'] button[type=submit]").await;
    b.wait_for_path(&format!("/{handle}/apps")).await;
    b.wait_for_text("[data-testid=active-profile]", handle)
        .await;
    b.wait_for_text("[data-testid=active-profile] .badge", "Personal")
        .await;
}

/// Opens the profile menu (the avatar in the navbar).
pub(crate) async fn open_profile_menu(b: &Browser) {
    b.click("[data-testid=profile-menu] > summary").await;
    b.wait_until(
        "the profile menu to open",
        "return document.querySelector('[data-testid=profile-menu]').open === true;",
        vec![],
    )
    .await;
}

/// Waits until the htmx-loaded dialog `css` is shown as a modal dialog.
pub(crate) async fn wait_for_modal(b: &Browser, css: &str) {
    b.visible(css).await;
    b.wait_until(
        &format!("{css} to be an open modal dialog"),
        "const d = document.querySelector(arguments[0]); \
         return !!d && d.open && d.matches(':modal') && !!d.closest('#modal');",
        vec![json!(css)],
    )
    .await;
}

/// Opens the card menu of an app and clicks one of its actions.
async fn card_action(b: &Browser, app: &str, action: &str) {
    let card = format!("[data-testid=apps] [data-app-id='{app}']");
    b.click(&format!("{card} details.card-menu > summary"))
        .await;
    b.click(&format!("{card} details.card-menu [data-action={action}]"))
        .await;
}

/// Creates an app through the "+ Create an App" dialog of the listing.
pub(crate) async fn create_app(b: &Browser, owner: &str, id: &str, name: &str) {
    b.goto(&format!("/{owner}/apps")).await;
    b.click("#create-app").await;
    wait_for_modal(b, "#create-app-dialog").await;
    b.fill("#app-id", id).await;
    b.fill("#app-name", name).await;
    b.click("#create-app-form button[type=submit]").await;
    // A created app opens on its overview.
    b.wait_for_path(&format!("/{owner}/{id}")).await;
}

#[test]
fn walk_signup_org_switch_and_my_apps() {
    let app = TestApp::start();
    runtime().block_on(async {
        let b = Browser::launch(&app.base).await;

        sign_up(&b, "walker").await;

        // + Add an Organization, from the profile menu, in an htmx dialog.
        open_profile_menu(&b).await;
        b.mark_document().await;
        b.click("[data-testid=add-org]").await;
        wait_for_modal(&b, "#add-org-dialog").await;
        assert!(
            b.same_document().await,
            "the dialog must open in place (htmx), not as a new page"
        );
        b.fill("#org-name", "Walk Org").await;
        b.fill("#org-id", "walk-org").await;
        b.fill("#org-billing", "billing@walk-org.example").await;
        b.click("#add-org-form button[type=submit]").await;

        // Lands on the org's apps, acting as the org.
        b.wait_for_path("/walk-org/apps").await;
        b.wait_for_text("[data-testid=active-profile]", "walk-org")
            .await;
        b.wait_for_text("[data-testid=active-profile] .badge", "Organization")
            .await;
        b.wait_for_text(".flash", "Organization Walk Org created")
            .await;

        // Switch to the personal profile and back.
        open_profile_menu(&b).await;
        b.click("[data-testid=switch-personal]").await;
        b.wait_for_path("/walker/apps").await;
        b.wait_for_text("[data-testid=active-profile] .badge", "Personal")
            .await;
        b.wait_for_text("[data-testid=active-profile]", "walker")
            .await;
        open_profile_menu(&b).await;
        b.click("[data-testid=switch-org]").await;
        b.wait_for_path("/walk-org/apps").await;
        b.wait_for_text("[data-testid=active-profile] .badge", "Organization")
            .await;

        // Two apps, created through the dialog. Names are chosen so that "last
        // updated" and "name descending" give different orders.
        create_app(&b, "walk-org", "zeta-app", "Zeta").await;
        create_app(&b, "walk-org", "alpha-app", "Alpha").await;
        b.goto("/walk-org/apps").await;
        b.wait_for_cards(&["alpha-app", "zeta-app"]).await;
        assert_eq!(b.texts("[data-testid=app-count]").await, vec!["2"]);

        // List view (remembered for the user).
        b.click("[data-testid=list-view]").await;
        b.visible("[data-testid=apps][data-view=list]").await;
        assert_eq!(
            b.js(
                "return document.querySelector('[data-testid=list-view]').getAttribute('aria-pressed');",
                vec![]
            )
            .await,
            json!("true")
        );

        // Search: htmx replaces the results while typing, without a reload.
        b.mark_document().await;
        b.type_keys("#app-search", "alp").await;
        b.wait_for_cards(&["alpha-app"]).await;
        assert!(b.path().await.contains("q=alp"), "the search is in the URL");
        // Backspace three times empties the box again.
        b.type_keys("#app-search", "\u{E003}\u{E003}\u{E003}")
            .await;
        b.wait_for_cards(&["alpha-app", "zeta-app"]).await;

        // Sort by name, descending.
        b.select("#app-sort", "name").await;
        b.select("#app-dir", "desc").await;
        b.wait_for_cards(&["zeta-app", "alpha-app"]).await;
        let path = b.path().await;
        assert!(
            path.contains("sort=name") && path.contains("dir=desc"),
            "sort in the URL: {path}"
        );
        assert_eq!(b.value("#app-sort").await, "name");
        assert_eq!(b.value("#app-dir").await, "desc");
        assert_eq!(
            b.js(
                "return document.querySelectorAll('#app-results').length;",
                vec![]
            )
            .await,
            json!(1),
            "the results are replaced, not nested"
        );

        // Pin the last app: it moves to the top, marked pinned; the sort stays.
        b.click("[data-app-id='alpha-app'] button.pin").await;
        b.wait_until(
            "alpha-app to be pinned",
            "const c = document.querySelector(\"[data-testid=apps] [data-app-id='alpha-app']\"); \
             return !!c && c.classList.contains('pinned') && \
               c.querySelector('button.pin').getAttribute('aria-pressed') === 'true';",
            vec![],
        )
        .await;
        b.wait_for_cards(&["alpha-app", "zeta-app"]).await;
        assert!(
            b.same_document().await,
            "search, sort and pin update in place"
        );
        assert_eq!(b.value("#app-sort").await, "name");

        // Duplicate from the card menu, under a new ID.
        card_action(&b, "zeta-app", "duplicate").await;
        wait_for_modal(&b, "#duplicate-app-dialog").await;
        assert_eq!(b.value("#new-id").await, "zeta-app-copy");
        b.fill("#new-id", "zeta-twin").await;
        b.click("#duplicate-app-form button[type=submit]").await;
        b.wait_for_text(".flash", "Duplicated zeta-app as zeta-twin")
            .await;
        b.wait_for_path("/walk-org/apps").await;
        let ids = b.card_ids().await;
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert_eq!(ids[0], "alpha-app", "the pinned app stays first: {ids:?}");
        assert!(ids.contains(&"zeta-twin".to_owned()), "{ids:?}");
        assert_eq!(b.texts("[data-testid=app-count]").await, vec!["3"]);

        // Delete the copy, confirming with its ID.
        card_action(&b, "zeta-twin", "delete").await;
        wait_for_modal(&b, "#delete-app-dialog").await;
        b.fill("#confirm-app", "zeta-twin").await;
        b.click("#delete-app-form button[type=submit]").await;
        b.wait_for_text(".flash", "App zeta-twin deleted").await;
        b.gone("[data-app-id='zeta-twin']").await;
        let ids = b.card_ids().await;
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(!ids.contains(&"zeta-twin".to_owned()), "{ids:?}");
        assert_eq!(b.texts("[data-testid=app-count]").await, vec!["2"]);

        b.close().await;
    });
}

#[test]
fn add_org_dialog_keeps_errors_and_typing_in_place() {
    let app = TestApp::start();
    runtime().block_on(async {
        let b = Browser::launch(&app.base).await;
        sign_up(&b, "typist").await;

        open_profile_menu(&b).await;
        b.mark_document().await;
        b.click("[data-testid=add-org]").await;
        wait_for_modal(&b, "#add-org-dialog").await;

        // A bad ID, the user's own handle and a bad e-mail.
        b.fill("#org-name", "Typist Works").await;
        b.fill("#org-id", "Not An ID!").await;
        b.fill("#org-billing", "not-an-email").await;
        b.click("#add-org-form button[type=submit]").await;
        b.visible("#add-org-dialog .field-error[data-field=id]")
            .await;
        wait_for_modal(&b, "#add-org-dialog").await;
        b.visible("#add-org-dialog .field-error[data-field=billing_email]")
            .await;
        assert!(
            b.texts("#add-org-dialog .field-error[data-field=name]")
                .await
                .is_empty(),
            "the name was fine"
        );
        assert!(b.same_document().await, "the error stays in the dialog");
        assert_eq!(b.path().await, "/typist/apps");
        assert_eq!(b.value("#org-name").await, "Typist Works");
        assert_eq!(b.value("#org-id").await, "Not An ID!");
        assert_eq!(b.value("#org-billing").await, "not-an-email");

        // An ID that is taken (by the user) is refused the same way.
        b.fill("#org-id", "typist").await;
        b.fill("#org-billing", "billing@typist.example").await;
        b.click("#add-org-form button[type=submit]").await;
        b.wait_for_text(
            "#add-org-dialog .field-error[data-field=id]",
            "This ID is taken",
        )
        .await;
        wait_for_modal(&b, "#add-org-dialog").await;
        assert!(
            b.texts("#add-org-dialog .field-error[data-field=billing_email]")
                .await
                .is_empty(),
            "the e-mail is fine now"
        );
        assert!(b.same_document().await);
        assert_eq!(b.value("#org-billing").await, "billing@typist.example");
        assert_eq!(
            b.texts("[data-testid=active-profile] .badge").await,
            vec!["Personal"],
            "nothing was created"
        );

        // Fixed: created, and the user now acts as the org.
        b.fill("#org-id", "typist-works").await;
        b.click("#add-org-form button[type=submit]").await;
        b.wait_for_path("/typist-works/apps").await;
        b.wait_for_text("[data-testid=active-profile] .badge", "Organization")
            .await;

        b.close().await;
    });
}
