//! App Models: Create Model (type first), listing and search, edit, visibility,
//! stars and the Starred page, Use Model snippets, delete, and who may do what.

use crate::support::content::create_model;
use crate::support::TestApp;

#[test]
fn create_list_edit_star_and_delete_models() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "shop", "Shop");
    let empty = c.get("/alice/shop/models");
    assert_eq!(empty.status, 200);
    assert!(empty.has("[data-testid=app-sidebar] a[href=\"/alice/shop/models\"].current"));
    assert!(empty.has("#create-model"));
    // Create Model asks for the type first.
    let chooser = c.htmx_get("/alice/shop/models/new", Some("modal"));
    assert_eq!(
        chooser.attrs("[data-testid=model-types] a.model-type", "data-type"),
        ["text-classifier", "visual-classifier"]
    );
    let form = c.get("/alice/shop/models/new?type=text-classifier");
    assert!(form.text("#create-model-title").contains("Text Classifier"));
    assert_eq!(c.get("/alice/shop/models/new?type=llm").status, 400);
    // Bad input: clear messages, what was typed is kept, nothing created.
    let bad = c.post_form(
        "/alice/shop/models",
        &[
            ("type", "text-classifier"),
            ("id", "Bad ID"),
            ("name", "Kept name"),
            ("new_concepts", "good, bad one!"),
            ("visibility", "private"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("id").is_some());
    assert!(bad.field_error("new_concepts").is_some());
    assert_eq!(bad.attr("#model-name", "value"), "Kept name");
    let no_type = c.post_form("/alice/shop/models", &[("id", "x1")]);
    assert_eq!(no_type.status, 422);
    assert!(no_type.field_error("type").is_some());
    assert_eq!(
        c.get("/alice/shop/concepts").count("tbody tr"),
        0,
        "nothing half-written"
    );
    // A good one, with new concepts, goes to the model page.
    let res = c.post_form(
        "/alice/shop/models",
        &[
            ("type", "text-classifier"),
            ("id", "reviews"),
            ("name", "Review sentiment"),
            ("description", "Happy or not"),
            ("new_concepts", "positive, negative"),
            ("visibility", "private"),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), "/alice/shop/models/reviews");
    let page = c.get("/alice/shop/models/reviews");
    assert_eq!(page.text("[data-testid=model-title]"), "Review sentiment");
    assert_eq!(page.text("[data-testid=model-visibility]"), "private");
    assert_eq!(
        page.texts("[data-testid=model-concepts] .badge"),
        ["negative", "positive"]
    );
    assert!(page.has("#train-model") && page.has("#use-model") && page.has("#edit-visibility"));
    let dup = create_model(
        &c,
        "alice",
        "shop",
        "reviews",
        "visual-classifier",
        &["positive"],
    );
    assert_eq!(dup.status, 422);
    assert!(dup
        .field_error("id")
        .expect("dup")
        .contains("already has a model"));
    assert_eq!(
        create_model(
            &c,
            "alice",
            "shop",
            "photos",
            "visual-classifier",
            &["positive"]
        )
        .status,
        303
    );
    // Listing with search.
    assert_eq!(
        c.get("/alice/shop/models")
            .attrs("[data-testid=models] li", "data-model-id"),
        ["photos", "reviews"]
    );
    assert_eq!(
        c.get("/alice/shop/models?q=SENTI")
            .attrs("[data-testid=models] li", "data-model-id"),
        ["reviews"]
    );
    // Edit details and concepts; the Concepts tab searches them.
    let res = c.post_form(
        "/alice/shop/models/reviews",
        &[
            ("name", "Reviews"),
            ("description", "Sentiment of reviews"),
            ("concepts", "positive"),
            ("concepts", "negative"),
            ("new_concepts", "neutral"),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let tab = c.get("/alice/shop/models/reviews/concepts");
    assert_eq!(
        tab.attrs(
            "[data-testid=model-concepts-table] tr[data-concept-id]",
            "data-concept-id"
        ),
        ["negative", "neutral", "positive"]
    );
    assert_eq!(
        c.get("/alice/shop/models/reviews/concepts?q=neu")
            .attrs("tr[data-concept-id]", "data-concept-id"),
        ["neutral"]
    );
    let bad = c.post_form("/alice/shop/models/reviews", &[("name", &"n".repeat(101))]);
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("name").is_some());
    // Edit Visibility.
    assert!(c
        .get("/alice/shop/models/reviews/visibility")
        .has("#visibility-form"));
    let res = c.post_form(
        "/alice/shop/models/reviews/visibility",
        &[("visibility", "public")],
    );
    assert_eq!(res.status, 303);
    assert_eq!(
        c.get("/alice/shop/models/reviews")
            .text("[data-testid=model-visibility]"),
        "public"
    );
    assert_eq!(
        c.post_form(
            "/alice/shop/models/reviews/visibility",
            &[("visibility", "secret")]
        )
        .status,
        400
    );
    // Star (htmx swaps the button), then find it on the Starred page of the menu.
    let starred = c.htmx_post(
        "/alice/shop/models/reviews/star",
        &[("starred", "true")],
        Some("star"),
    );
    assert_eq!(starred.status, 200);
    assert_eq!(
        starred.attr("[data-testid=star-button]", "aria-pressed"),
        "true"
    );
    assert_eq!(starred.text("[data-testid=star-count]"), "1");
    c.post_form("/alice/shop/models/reviews/star", &[("starred", "true")]);
    let page = c.get("/alice/shop/models/reviews");
    assert_eq!(
        page.text("[data-testid=star-count]"),
        "1",
        "starring twice counts once"
    );
    assert!(page.has("[data-testid=profile-menu] a[href=\"/starred\"]"));
    let list = c.get("/starred");
    assert_eq!(
        list.attrs("[data-testid=starred] li", "data-model-id"),
        ["reviews"]
    );
    c.post_form("/alice/shop/models/reviews/star", &[("starred", "false")]);
    assert!(!c.get("/starred").has("[data-testid=starred]"));
    assert_eq!(
        app.client().get("/starred").status,
        303,
        "signed out: sign in first"
    );
    // Use Model: real ids in both snippets.
    let use_model = c.htmx_get("/alice/shop/models/reviews/use", Some("modal"));
    let curl = use_model.text("[data-testid=snippet-curl]");
    assert!(curl.contains(&format!(
        "{}/v2/users/alice/apps/shop/models/reviews/outputs",
        app.base
    )));
    let python = use_model.text("[data-testid=snippet-python]");
    assert!(python.contains("user_id=\"alice\", app_id=\"shop\""));
    assert!(python.contains("model_id=\"reviews\""));
    assert!(python.contains("get_json_channel"));
    // Delete.
    assert!(c
        .get("/alice/shop/models/photos/delete")
        .has("#delete-model-form"));
    let res = c.post_form("/alice/shop/models/photos/delete", &[]);
    assert_eq!(res.status, 303);
    assert_eq!(c.get("/alice/shop/models/photos").status, 404);
    assert_eq!(
        c.get("/alice/shop/models")
            .attrs("[data-testid=models] li", "data-model-id"),
        ["reviews"]
    );
}

#[test]
fn public_models_are_open_to_signed_in_users() {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    app.create_app(&boss, "acme", "lab", "Lab");
    assert_eq!(
        create_model(
            &boss,
            "acme",
            "lab",
            "secret",
            "text-classifier",
            &["a", "b"]
        )
        .status,
        303
    );
    assert_eq!(
        create_model(
            &boss,
            "acme",
            "lab",
            "shared",
            "text-classifier",
            &["a", "b"]
        )
        .status,
        303
    );
    boss.post_form(
        "/acme/lab/models/shared/visibility",
        &[("visibility", "public")],
    );
    let eve = app.signup("eve");
    // The app and its private model stay hidden.
    assert_eq!(eve.get("/acme/lab/models").status, 404);
    assert_eq!(eve.get("/acme/lab/models/secret").status, 404);
    assert_eq!(
        eve.post_form("/acme/lab/models/secret/star", &[("starred", "true")])
            .status,
        404
    );
    // The public model can be opened, starred and used, not changed.
    let page = eve.get("/acme/lab/models/shared");
    assert_eq!(page.status, 200);
    assert!(
        !page.has("[data-testid=app-sidebar]"),
        "no app navigation for outsiders"
    );
    assert!(!page.has("#train-model") && !page.has("#edit-visibility"));
    assert!(page.has("#predict-form"));
    assert_eq!(eve.get("/acme/lab/models/shared/versions").status, 200);
    assert_eq!(eve.get("/acme/lab/models/shared/concepts").status, 200);
    assert_eq!(
        eve.post_form("/acme/lab/models/shared/star", &[("starred", "true")])
            .status,
        303
    );
    assert_eq!(
        eve.get("/starred")
            .attrs("[data-testid=starred] li", "data-model-id"),
        ["shared"]
    );
    assert_eq!(
        eve.post_form("/acme/lab/models/shared/train", &[]).status,
        404
    );
    assert_eq!(
        eve.post_form("/acme/lab/models/shared/delete", &[]).status,
        404
    );
    assert_eq!(
        eve.post_form("/acme/lab/models/shared", &[("name", "mine")])
            .status,
        404
    );
    // Signed out: asked to sign in, never shown.
    let anon = app.client().get("/acme/lab/models/shared");
    assert_eq!(anon.status, 303);
    assert!(anon.location().starts_with("/login"));
    assert_eq!(app.client().get("/acme/lab/models/secret").status, 404);
    // Back to private: gone from the outsider's Starred page.
    boss.post_form(
        "/acme/lab/models/shared/visibility",
        &[("visibility", "private")],
    );
    assert_eq!(eve.get("/acme/lab/models/shared").status, 404);
    assert!(!eve.get("/starred").has("[data-testid=starred]"));
}

#[test]
fn org_users_read_models_but_do_not_change_them() {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    app.create_app(&boss, "acme", "lab", "Lab");
    assert_eq!(
        create_model(&boss, "acme", "lab", "m1", "text-classifier", &["a", "b"]).status,
        303
    );
    let reader = app.signup("reader");
    app.add_member("acme", "reader", "org_user");
    let list = reader.get("/acme/lab/models");
    assert_eq!(list.status, 200);
    assert!(!list.has("#create-model"));
    let page = reader.get("/acme/lab/models/m1");
    assert_eq!(page.status, 200);
    assert!(!page.has("#train-model") && !page.has("#model-edit-form"));
    assert!(page.has("#predict-form"), "org users may predict");
    assert_eq!(reader.get("/acme/lab/models/new").status, 403);
    assert_eq!(
        create_model(&reader, "acme", "lab", "m2", "text-classifier", &["a"]).status,
        403
    );
    assert_eq!(
        reader.post_form("/acme/lab/models/m1/train", &[]).status,
        403
    );
    assert_eq!(
        reader.post_form("/acme/lab/models/m1/delete", &[]).status,
        403
    );
    assert_eq!(
        reader
            .post_form(
                "/acme/lab/models/m1/visibility",
                &[("visibility", "public")]
            )
            .status,
        403
    );
    assert_eq!(
        reader
            .post_form("/acme/lab/models/m1/star", &[("starred", "true")])
            .status,
        303
    );
    // A financial manager (billing only) does not see the app's models at all.
    let money = app.signup("money");
    app.add_member("acme", "money", "financial_manager");
    assert_eq!(money.get("/acme/lab/models").status, 404);
    assert_eq!(money.get("/acme/lab/models/m1").status, 404);
}
