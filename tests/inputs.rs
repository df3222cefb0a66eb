//! Inputs and concepts: upload (typed, .txt, .csv with labels, images), the
//! listing (search, concept filter, pages), labelling a selection, deleting,
//! the Concepts tab, bad input, and who may do what.

use crate::support::content::{csv_of, encode, labelled_texts, png, upload};
use crate::support::TestApp;

#[test]
fn upload_search_filter_label_and_delete_texts() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "news", "News");
    // The Inputs page is in the sidebar and starts empty.
    let empty = c.get("/alice/news/inputs");
    assert_eq!(empty.status, 200);
    assert!(empty.has("[data-testid=app-sidebar] a[href=\"/alice/news/inputs\"].current"));
    assert_eq!(empty.text("[data-testid=input-count]"), "0 inputs");
    // Typed lines, a .txt file and a .csv file with a label column (one bad label).
    let mut csv = csv_of(&labelled_texts()[..6]);
    csv.extend_from_slice(b"\"a row with a bad label\",no way!\n");
    let res = upload(
        &c,
        "alice",
        "news",
        "typed one\n\n typed two \n",
        "batch-1",
        &[
            ("notes.txt", b"first note\nsecond note\n".to_vec()),
            ("data.csv", csv),
        ],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.text("[data-testid=added-count]"), "10");
    assert_eq!(res.text("[data-testid=skipped-count]"), "1");
    assert!(res
        .text("[data-testid=upload-report] .skipped")
        .contains("row 8 of data.csv"));
    let list = c.get("/alice/news/inputs");
    assert_eq!(list.text("[data-testid=input-count]"), "10 inputs");
    assert_eq!(list.count("[data-testid=inputs] li.input-card"), 10);
    // Newest first: the csv rows were written last.
    assert!(list.texts("[data-testid=inputs] .snippet")[0].contains("tennis final"));
    // Search by text (case-insensitive) and filter by concept.
    let found = c.get("/alice/news/inputs?q=NOTE");
    assert_eq!(found.text("[data-testid=input-count]"), "2 inputs match");
    let sports = c.get("/alice/news/inputs?concept=sports");
    assert_eq!(sports.count("[data-testid=inputs] li.input-card"), 6);
    let partial = c.htmx_get("/alice/news/inputs?q=typed", Some("input-results"));
    assert!(!partial.body.contains("<html"));
    assert_eq!(partial.count("li.input-card"), 2);
    assert_eq!(
        c.get("/alice/news/inputs?q=%25")
            .text("[data-testid=input-count]"),
        "0 inputs match",
        "LIKE wildcards are literal"
    );
    // Every input carries the upload's common concept.
    assert_eq!(
        c.get("/alice/news/inputs?concept=batch-1")
            .count("li.input-card"),
        10
    );
    // Attach a concept to a selection, remove it from one, delete a selection.
    let ids = found.attrs("[data-testid=inputs] li.input-card", "data-input-id");
    let res = c.post_form(
        "/alice/news/inputs/selection",
        &[
            ("ids", &ids[0]),
            ("ids", &ids[1]),
            ("op", "label"),
            ("concept", "notes"),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        c.get("/alice/news/inputs?concept=notes")
            .count("li.input-card"),
        2
    );
    let res = c.post_form(
        "/alice/news/inputs/selection",
        &[("ids", &ids[0]), ("op", "unlabel"), ("concept", "notes")],
    );
    assert_eq!(res.status, 303);
    assert_eq!(
        c.get("/alice/news/inputs?concept=notes")
            .count("li.input-card"),
        1
    );
    // One input's page: add and remove a concept there.
    let detail = c.get(&format!("/alice/news/inputs/{}", ids[0]));
    assert_eq!(detail.status, 200);
    assert!(detail.text("[data-testid=input-text]").contains("note"));
    let res = c.post_form(
        &format!("/alice/news/inputs/{}/concepts", ids[0]),
        &[("op", "add"), ("concept", "memo")],
    );
    assert_eq!(res.status, 303);
    assert!(c
        .get(&format!("/alice/news/inputs/{}", ids[0]))
        .has("[data-testid=input-concepts] li[data-concept-id=memo]"));
    // Bad selections: clear messages, nothing changed.
    let none = c.post_form("/alice/news/inputs/selection", &[("op", "delete")]);
    assert_eq!(none.status, 422);
    assert_eq!(
        none.text("[data-testid=action-error]"),
        "Select at least one input first."
    );
    let bad = c.post_form(
        "/alice/news/inputs/selection",
        &[("ids", &ids[0]), ("op", "label"), ("concept", "no way")],
    );
    assert_eq!(bad.status, 422);
    assert!(bad
        .text("[data-testid=action-error]")
        .contains("not a valid concept ID"));
    let res = c.post_form(
        "/alice/news/inputs/selection",
        &[("ids", &ids[0]), ("ids", &ids[1]), ("op", "delete")],
    );
    assert_eq!(res.status, 303);
    assert_eq!(
        c.get("/alice/news/inputs")
            .text("[data-testid=input-count]"),
        "8 inputs"
    );
    assert_eq!(c.get(&format!("/alice/news/inputs/{}", ids[0])).status, 404);
    // The Concepts tab: counts, search, create, rename; bad ids keep what was typed.
    let concepts = c.get("/alice/news/concepts");
    assert_eq!(
        concepts.text("tr[data-concept-id=sports] .input-count"),
        "6"
    );
    assert_eq!(
        concepts.text("tr[data-concept-id=batch-1] .input-count"),
        "8"
    );
    assert_eq!(c.get("/alice/news/concepts?q=SPO").count("tbody tr"), 1);
    let res = c.post_form(
        "/alice/news/concepts",
        &[("id", "weather"), ("name", "Weather")],
    );
    assert_eq!(res.status, 303);
    let dup = c.post_form("/alice/news/concepts", &[("id", "weather"), ("name", "")]);
    assert_eq!(dup.status, 422);
    assert!(dup
        .field_error("id")
        .expect("dup")
        .contains("already has a concept"));
    let bad = c.post_form(
        "/alice/news/concepts",
        &[("id", "bad id!"), ("name", "Kept")],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("id").is_some());
    assert_eq!(bad.attr("#concept-name", "value"), "Kept");
    let res = c.post_form(
        "/alice/news/concepts/weather/rename",
        &[("name", "Weather & sky")],
    );
    assert_eq!(res.status, 303);
    assert_eq!(
        c.get("/alice/news/concepts")
            .text("tr[data-concept-id=weather] .concept-name"),
        "Weather & sky"
    );
    assert_eq!(
        c.post_form("/alice/news/concepts/nope/rename", &[("name", "x")])
            .status,
        404
    );
}

#[test]
fn bad_uploads_are_refused_clearly() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "pics", "Pics");
    // Nothing at all.
    let res = upload(&c, "alice", "pics", "  \n", "", &[]);
    assert_eq!(res.status, 422);
    assert!(res
        .text("[data-testid=upload-error]")
        .contains("Nothing to upload"));
    // A bad concept list keeps what was typed.
    let res = upload(&c, "alice", "pics", "hello", "ok, not ok!", &[]);
    assert_eq!(res.status, 422);
    assert!(res.field_error("concepts").is_some());
    assert_eq!(res.text("#upload-texts"), "hello");
    assert_eq!(res.attr("#upload-concepts", "value"), "ok, not ok!");
    // Files that are not images, or not accepted, or too large: each skipped with its reason.
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    let mut truncated = png([200, 0, 0], [255, 255, 255], true, 1);
    truncated.truncate(40);
    let huge = vec![0_u8; 11 * 1024 * 1024];
    let res = upload(
        &c,
        "alice",
        "pics",
        "",
        "",
        &[
            ("fake.png", b"just text".to_vec()),
            ("anim.gif", gif),
            ("broken.png", truncated),
            ("huge.png", huge),
            ("latin1.txt", vec![0x63, 0x61, 0x66, 0xe9]),
        ],
    );
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(res.text("[data-testid=added-count]"), "0");
    let report = res.texts("[data-testid=upload-report] .skipped li");
    assert_eq!(report.len(), 5, "{report:?}");
    assert!(report[0].contains("fake.png") && report[0].contains("not an image"));
    assert!(report[1].contains("anim.gif") && report[1].contains("not accepted"));
    assert!(report[2].contains("broken.png") && report[2].contains("could not be decoded"));
    assert!(report[3].contains("huge.png") && report[3].contains("at most 10 MB"));
    assert!(report[4].contains("latin1.txt") && report[4].contains("UTF-8"));
    assert_eq!(
        c.get("/alice/pics/inputs")
            .text("[data-testid=input-count]"),
        "0 inputs"
    );
    // A plain (urlencoded) form works for typed texts.
    let res = c.post_form("/alice/pics/inputs/upload", &[("texts", "plain form")]);
    assert_eq!(res.status, 200);
    assert_eq!(res.text("[data-testid=added-count]"), "1");
}

#[test]
fn images_get_thumbnails_and_are_served() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "pics", "Pics");
    let jpeg = encode(
        image::RgbImage::from_pixel(400, 300, image::Rgb([10, 120, 200])),
        image::ImageFormat::Jpeg,
    );
    let webp = encode(
        image::RgbImage::from_pixel(64, 64, image::Rgb([250, 250, 0])),
        image::ImageFormat::WebP,
    );
    let res = upload(
        &c,
        "alice",
        "pics",
        "",
        "colour",
        &[
            ("red.png", png([220, 20, 20], [255, 255, 255], true, 3)),
            ("blue.jpg", jpeg),
            ("yellow.webp", webp),
        ],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.text("[data-testid=added-count]"), "3");
    let list = c.get("/alice/pics/inputs");
    assert_eq!(list.count("[data-testid=inputs] img.thumb"), 3);
    let id = list.attrs("[data-testid=inputs] li.input-card", "data-input-id")[1].clone();
    let (status, ct, thumb) = c.get_bytes(&format!("/alice/pics/inputs/{id}/thumbnail"));
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    let t = image::load_from_memory(&thumb).expect("thumbnail decodes");
    assert_eq!((t.width(), t.height()), (192, 144));
    let (status, ct, original) = c.get_bytes(&format!("/alice/pics/inputs/{id}/image"));
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(
        image::load_from_memory(&original).expect("decodes").width(),
        400
    );
    let detail = c.get(&format!("/alice/pics/inputs/{id}"));
    assert!(detail.has("img.input-image"));
    assert!(detail.body.contains("400×300"));
    // Strangers cannot fetch the images of a private app.
    let eve = app.signup("eve");
    assert_eq!(
        eve.get_bytes(&format!("/alice/pics/inputs/{id}/image")).0,
        404
    );
}

#[test]
fn inputs_page_newest_first_both_ways() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "many", "Many");
    let lines: Vec<String> = (1..=95).map(|i| format!("input number {i:03}")).collect();
    let res = upload(&c, "alice", "many", &lines.join("\n"), "", &[]);
    assert_eq!(res.text("[data-testid=added-count]"), "95");
    let first = c.get("/alice/many/inputs");
    assert_eq!(first.text("[data-testid=input-count]"), "95 inputs");
    let snippets = first.texts("[data-testid=inputs] .snippet");
    assert_eq!(snippets.len(), 40);
    assert_eq!(snippets[0], "input number 095");
    assert!(!first.has("a[rel=prev]"));
    let second = c.get(&first.attr("a[rel=next]", "href"));
    assert_eq!(second.texts(".snippet")[0], "input number 055");
    let third = c.get(&second.attr("a[rel=next]", "href"));
    let last = third.texts(".snippet");
    assert_eq!(last.len(), 15);
    assert_eq!(last[14], "input number 001");
    assert!(!third.has("a[rel=next]"));
    let back = c.get(&third.attr("a[rel=prev]", "href"));
    assert_eq!(back.texts(".snippet"), second.texts(".snippet"));
    // Pages keep the search.
    let q = c.get("/alice/many/inputs?q=number%200");
    assert_eq!(q.text("[data-testid=input-count]"), "95 inputs match");
    assert!(q.attr("a[rel=next]", "href").contains("q=number%200"));
}

#[test]
fn who_may_read_and_change_inputs() {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    app.create_app(&boss, "acme", "data", "Data");
    let res = upload(&boss, "acme", "data", "hello world", "greeting", &[]);
    assert_eq!(res.status, 200);
    let id = boss
        .get("/acme/data/inputs")
        .attr("li.input-card", "data-input-id");
    // An org user reads but cannot change.
    let reader = app.signup("reader");
    app.add_member("acme", "reader", "org_user");
    let list = reader.get("/acme/data/inputs");
    assert_eq!(list.status, 200);
    assert!(
        !list.has("#upload-inputs"),
        "no upload button for read-only roles"
    );
    assert!(!list.has("input[name=ids]"));
    assert_eq!(reader.get("/acme/data/concepts").status, 200);
    assert_eq!(reader.get("/acme/data/inputs/upload").status, 403);
    assert_eq!(upload(&reader, "acme", "data", "x", "", &[]).status, 403);
    assert_eq!(
        reader
            .post_form(
                "/acme/data/inputs/selection",
                &[("ids", &id), ("op", "delete")]
            )
            .status,
        403
    );
    assert_eq!(
        reader
            .post_form("/acme/data/concepts", &[("id", "x")])
            .status,
        403
    );
    // A stranger and a signed-out visitor learn nothing.
    let eve = app.signup("eve");
    for path in [
        "/acme/data/inputs",
        "/acme/data/concepts",
        &format!("/acme/data/inputs/{id}"),
    ] {
        assert_eq!(eve.get(path).status, 404, "{path}");
        assert_eq!(app.client().get(path).status, 404, "{path}");
    }
    assert_eq!(upload(&eve, "acme", "data", "x", "", &[]).status, 404);
    // A public app's inputs can be read by anyone, still not changed.
    let res = boss.post_form("/acme/data", &[("name", "Data"), ("visibility", "public")]);
    assert_eq!(res.status, 303);
    assert_eq!(eve.get("/acme/data/inputs").status, 200);
    assert_eq!(app.client().get("/acme/data/inputs").status, 200);
    assert_eq!(upload(&eve, "acme", "data", "x", "", &[]).status, 403);
    assert_eq!(
        eve.post_form(
            "/acme/data/inputs/selection",
            &[("ids", &id), ("op", "delete")]
        )
        .status,
        403
    );
}

#[test]
fn deleting_a_concept_takes_it_off_inputs_and_models() {
    use crate::support::content::create_model;
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "news", "News");
    let rows = labelled_texts();
    let csv = csv_of(&[rows[0], rows[1], rows[20]]);
    assert_eq!(
        upload(&c, "alice", "news", "", "", &[("d.csv", csv)]).text("[data-testid=added-count]"),
        "3"
    );
    let res = create_model(
        &c,
        "alice",
        "news",
        "topics",
        "text-classifier",
        &["sports", "cooking"],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let page = c.get("/alice/news/concepts");
    assert!(page.has("tr[data-concept-id=sports] button.delete-concept"));
    // Only those who may edit inputs see the button, or may post it.
    let reader = app.signup("reader");
    assert_eq!(
        reader
            .post_form("/alice/news/concepts/sports/delete", &[])
            .status,
        404
    );
    let res = c.post_form("/alice/news/concepts/sports/delete", &[]);
    assert_eq!(res.status, 303, "{}", res.body);
    let after = c.get("/alice/news/concepts");
    assert_eq!(
        after.text(".flash"),
        "Concept sports deleted: removed from 2 inputs and 1 model."
    );
    assert!(!after.has("tr[data-concept-id=sports]"));
    assert!(after.has("tr[data-concept-id=cooking]"));
    assert_eq!(
        c.get("/alice/news/inputs")
            .text("[data-testid=input-count]"),
        "3 inputs"
    );
    let model = c.get("/alice/news/models/topics");
    assert_eq!(model.text("[data-testid=model-concepts]"), "cooking");
    assert_eq!(
        c.post_form("/alice/news/concepts/sports/delete", &[])
            .status,
        404,
        "already gone"
    );
    // Read-only members are refused with a reason.
    let boss = app.org_with_admin("acme", "boss");
    app.create_app(&boss, "acme", "data", "Data");
    upload(&boss, "acme", "data", "hello", "greeting", &[]);
    app.add_member("acme", "reader", "org_user");
    assert_eq!(
        reader
            .post_form("/acme/data/concepts/greeting/delete", &[])
            .status,
        403
    );
    assert!(!reader
        .get("/acme/data/concepts")
        .has("button.delete-concept"));
}
