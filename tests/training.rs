//! Training and prediction for real: a text classifier and a visual classifier
//! learn small data sets, report metrics and predict the expected concept first;
//! data problems fail with the platform's codes; the durable job survives a
//! restart and runs once; a job is never claimed twice.

use std::time::Instant;

use crate::support::content::{
    create_model, csv_of, labelled_texts, png, predicted, train, upload, wait_done,
};
use crate::support::TestApp;

fn files(v: &[(String, Vec<u8>)]) -> Vec<(&str, Vec<u8>)> {
    v.iter().map(|(n, b)| (n.as_str(), b.clone())).collect()
}

fn predict_text(c: &crate::support::Client, model: &str, text: &str) -> crate::support::Page {
    c.post_multipart(&format!("{model}/predict"), &[("text", text)], &[], true)
}

#[test]
fn text_classifier_trains_reports_metrics_and_predicts() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "news", "News");
    let res = upload(
        &c,
        "alice",
        "news",
        "",
        "",
        &[("topics.csv", csv_of(&labelled_texts()))],
    );
    assert_eq!(res.text("[data-testid=added-count]"), "40");
    assert_eq!(
        create_model(
            &c,
            "alice",
            "news",
            "topics",
            "text-classifier",
            &["sports", "cooking"]
        )
        .status,
        303
    );
    let m = "/alice/news/models/topics";
    // Before training: a clear refusal, not an error page.
    let untrained = predict_text(&c, m, "the match");
    assert_eq!(untrained.status, 422);
    assert!(untrained
        .text("[data-testid=predict-error]")
        .contains("not been trained"));
    let started = Instant::now();
    let version = train(&c, m);
    assert_eq!(version.len(), 32);
    let page = wait_done(&c, m, &version);
    eprintln!(
        "text: 40 inputs trained in {:?} (queue to done, debug build)",
        started.elapsed()
    );
    let v = format!("article.version[data-version-id=\"{version}\"]");
    assert_eq!(page.attr(&v, "data-status"), "trained", "{}", page.body);
    assert!(page
        .text(&format!("{v} [data-testid=input-count]"))
        .starts_with("40 (32 to train, 8 held out"));
    let accuracy = page.text(&format!("{v} [data-testid=accuracy]"));
    let f1: f64 = page
        .text(&format!("{v} [data-testid=macro-f1]"))
        .parse()
        .expect("f1");
    eprintln!("text: accuracy {accuracy}, macro-F1 {f1}");
    assert!(f1 >= 0.6, "macro-F1 {f1} on an easy two-topic set");
    assert_eq!(
        page.attrs(
            &format!("{v} [data-testid=concept-metrics] tr[data-concept-id]"),
            "data-concept-id"
        ),
        ["cooking", "sports"]
    );
    assert_eq!(
        page.count(&format!(
            "{v} [data-testid=confusion-matrix] rect[fill-opacity]"
        )),
        4
    );
    // The confusion matrix counts the 8 held-out examples.
    let cells: u64 = page
        .texts(&format!("{v} [data-testid=confusion-matrix] text.count"))
        .iter()
        .map(|t| t.parse::<u64>().expect("count"))
        .sum();
    assert_eq!(cells, 8);
    // Predictions rank the expected concept first (texts not in the training data).
    let p = predict_text(&c, m, "The goalkeeper saved the match for the team");
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(predicted(&p)[0], "sports");
    let p = predict_text(&c, m, "Bake the cake with butter, sugar and eggs");
    assert_eq!(predicted(&p)[0], "cooking");
    assert_eq!(predicted(&p).len(), 2, "every concept gets a score");
    // Unknown words: the class priors answer (both concepts, equal here).
    let p = predict_text(&c, m, "zzyzx qwerty");
    assert_eq!(p.status, 200);
    assert_eq!(p.count("[data-testid=predictions] li"), 2);
    // Bad input: clear messages, never a 500.
    let empty = predict_text(&c, m, "   ");
    assert_eq!(empty.status, 422);
    assert_eq!(
        empty.text("[data-testid=predict-error]"),
        "Enter a text to classify."
    );
    let img = c.post_multipart(
        &format!("{m}/predict"),
        &[],
        &[("image", "x.png", png([0, 0, 0], [255, 255, 255], true, 1))],
        true,
    );
    assert_eq!(img.status, 422);
    assert!(img
        .text("[data-testid=predict-error]")
        .contains("classifies texts, not images"));
    // The full page (no htmx) shows the same result in the Overview.
    let full = c.post_multipart(
        &format!("{m}/predict"),
        &[("text", "the striker scored a goal")],
        &[],
        false,
    );
    assert_eq!(full.status, 200);
    assert_eq!(predicted(&full)[0], "sports");
    assert!(full.has("[data-testid=model-title]"));
    // The trained model was cached: one entry, predictions did not add more.
    assert_eq!(app.state.models.len(), 1);
    // Delete the version: the model is untrained again.
    let res = c.post_form(&format!("{m}/versions/{version}/delete"), &[]);
    assert_eq!(res.status, 303);
    assert_eq!(app.state.models.len(), 0);
    assert_eq!(predict_text(&c, m, "goal").status, 422);
}

#[test]
fn visual_classifier_learns_colours_and_shapes() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "shapes", "Shapes");
    let reds: Vec<(String, Vec<u8>)> = (0..12)
        .map(|i| {
            (
                format!("red{i}.png"),
                png([210, 30, 30], [250, 250, 250], true, i),
            )
        })
        .collect();
    let blues: Vec<(String, Vec<u8>)> = (0..12)
        .map(|i| {
            (
                format!("blue{i}.png"),
                png([30, 40, 200], [250, 250, 250], false, i),
            )
        })
        .collect();
    assert_eq!(
        upload(&c, "alice", "shapes", "", "red-disc", &files(&reds))
            .text("[data-testid=added-count]"),
        "12"
    );
    assert_eq!(
        upload(&c, "alice", "shapes", "", "blue-square", &files(&blues))
            .text("[data-testid=added-count]"),
        "12"
    );
    // Texts in the app are ignored by a visual classifier.
    upload(
        &c,
        "alice",
        "shapes",
        "a text labelled red",
        "red-disc",
        &[],
    );
    assert_eq!(
        create_model(
            &c,
            "alice",
            "shapes",
            "colours",
            "visual-classifier",
            &["red-disc", "blue-square"]
        )
        .status,
        303
    );
    let m = "/alice/shapes/models/colours";
    let started = Instant::now();
    let version = train(&c, m);
    let page = wait_done(&c, m, &version);
    eprintln!(
        "visual: 24 images trained in {:?} (queue to done)",
        started.elapsed()
    );
    let v = format!("article.version[data-version-id=\"{version}\"]");
    assert_eq!(page.attr(&v, "data-status"), "trained", "{}", page.body);
    assert!(page
        .text(&format!("{v} [data-testid=input-count]"))
        .starts_with("24 "));
    assert_eq!(page.text(&format!("{v} [data-testid=accuracy]")), "100.0%");
    let red = png([200, 40, 40], [245, 245, 245], true, 99);
    let p = c.post_multipart(
        &format!("{m}/predict"),
        &[],
        &[("image", "new.png", red)],
        true,
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(predicted(&p)[0], "red-disc");
    let blue = png([40, 50, 190], [245, 245, 245], false, 77);
    let p = c.post_multipart(
        &format!("{m}/predict"),
        &[],
        &[("image", "new.png", blue)],
        true,
    );
    assert_eq!(predicted(&p)[0], "blue-square");
    // Not an image, no image, a text: each refused with its reason.
    let p = c.post_multipart(
        &format!("{m}/predict"),
        &[],
        &[("image", "x.png", b"nope".to_vec())],
        true,
    );
    assert_eq!(p.status, 422);
    assert!(p
        .text("[data-testid=predict-error]")
        .contains("not an image"));
    // A browser sends an empty file part when no file was chosen.
    let p = c.post_multipart(
        &format!("{m}/predict"),
        &[],
        &[("image", "", Vec::new())],
        true,
    );
    assert_eq!(p.status, 422);
    assert!(
        p.text("[data-testid=predict-error]")
            .contains("Choose an image"),
        "{}",
        p.body
    );
}

/// Trains `model` and returns the failed version's code and reason.
fn failure(c: &crate::support::Client, model: &str) -> (String, String) {
    let version = train(c, model);
    let page = wait_done(c, model, &version);
    let v = format!("article.version[data-version-id=\"{version}\"]");
    assert_eq!(page.attr(&v, "data-status"), "failed", "{}", page.body);
    (
        page.text(&format!("{v} [data-testid=failure-code]")),
        page.text(&format!("{v} [data-testid=failure-reason]")),
    )
}

#[test]
fn training_failures_name_their_cause() {
    let app = TestApp::start();
    let c = app.signup("alice");
    app.create_app(&c, "alice", "lab", "Lab");
    upload(
        &c,
        "alice",
        "lab",
        "",
        "",
        &[("d.csv", csv_of(&labelled_texts()[..4]))],
    );
    upload(&c, "alice", "lab", "one lonely example", "lonely", &[]);
    let cases = [
        ("none", vec![], "21118", "no concepts to learn"),
        ("single", vec!["sports"], "21112", "at least two concepts"),
        (
            "nodata",
            vec!["weather", "traffic"],
            "21110",
            "No text inputs are labelled",
        ),
        ("nopos", vec!["sports", "weather"], "21111", "\"weather\""),
        (
            "onlyone",
            vec!["sports", "lonely"],
            "21117",
            "\"lonely\" has only one example",
        ),
    ];
    for (id, concepts, code, reason) in cases {
        assert_eq!(
            create_model(&c, "alice", "lab", id, "text-classifier", &concepts).status,
            303
        );
        let (got_code, got_reason) = failure(&c, &format!("/alice/lab/models/{id}"));
        assert_eq!(got_code, code, "{id}: {got_reason}");
        assert!(got_reason.contains(reason), "{id}: {got_reason}");
    }
    // A visual classifier over an app of texts has no data.
    assert_eq!(
        create_model(
            &c,
            "alice",
            "lab",
            "pics",
            "visual-classifier",
            &["sports", "lonely"]
        )
        .status,
        303
    );
    let (code, reason) = failure(&c, "/alice/lab/models/pics");
    assert_eq!(code, "21110");
    assert!(reason.contains("No image inputs"), "{reason}");
    // A failed model cannot predict.
    let p = predict_text(&c, "/alice/lab/models/none", "x");
    assert_eq!(p.status, 422);
}

fn job_row(app: &TestApp, version: &str) -> (String, i32, i32) {
    use atrium::db::schema::{jobs, model_versions};
    use diesel::prelude::*;
    let mut conn = app.state.pool.get().expect("conn");
    model_versions::table
        .inner_join(jobs::table)
        .filter(model_versions::version_id.eq(version))
        .select((jobs::status, jobs::attempts, jobs::progress))
        .first(&mut *conn)
        .expect("job")
}

#[test]
fn training_jobs_survive_a_restart_and_run_once() {
    // A web-only instance queues the job; nobody runs it.
    let app = TestApp::start_with(|c| c.job_workers = 0);
    let c = app.signup("alice");
    app.create_app(&c, "alice", "news", "News");
    upload(
        &c,
        "alice",
        "news",
        "",
        "",
        &[("t.csv", csv_of(&labelled_texts()))],
    );
    create_model(
        &c,
        "alice",
        "news",
        "topics",
        "text-classifier",
        &["sports", "cooking"],
    );
    let m = "/alice/news/models/topics";
    let queued = train(&c, m);
    let second = train(&c, m);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let page = c.get(&format!("{m}/versions"));
    assert_eq!(
        page.attr(
            &format!("article[data-version-id=\"{queued}\"]"),
            "data-status"
        ),
        "queued"
    );
    assert_eq!(
        page.attr("#versions", "data-pending"),
        "true",
        "the tab polls while pending"
    );
    assert!(page.has("#versions[hx-trigger]"));
    assert_eq!(job_row(&app, &queued), ("queued".to_owned(), 0, 0));
    // Simulate an instance that died while running the second job: its lease ran out.
    {
        use atrium::db::schema::{jobs, model_versions};
        use diesel::prelude::*;
        let mut conn = app.state.pool.get().expect("conn");
        let job: i64 = model_versions::table
            .filter(model_versions::version_id.eq(&second))
            .select(model_versions::job_id.assume_not_null())
            .first(&mut *conn)
            .expect("job id");
        diesel::update(jobs::table.find(job))
            .set((
                jobs::status.eq("running"),
                jobs::attempts.eq(1),
                jobs::locked_by.eq("dead-instance"),
                jobs::locked_until.eq(atrium::models::now() - chrono::Duration::minutes(5)),
            ))
            .execute(&mut *conn)
            .expect("fake a dead worker");
    }
    // Restart with a worker: both jobs complete, each exactly once.
    let app = app.restart_with(|c| c.job_workers = 1);
    let c2 = app.client();
    c2.post_form(
        "/login",
        &[("login", "alice"), ("password", "correct horse battery")],
    );
    for v in [&queued, &second] {
        let page = wait_done(&c2, m, v);
        assert_eq!(
            page.attr(&format!("article[data-version-id=\"{v}\"]"), "data-status"),
            "trained"
        );
    }
    assert_eq!(job_row(&app, &queued), ("done".to_owned(), 1, 100));
    assert_eq!(
        job_row(&app, &second),
        ("done".to_owned(), 2, 100),
        "re-queued once after the dead lease"
    );
    assert_eq!(c2.get(&format!("{m}/versions")).count("article.version"), 2);
    assert_eq!(
        predicted(&predict_text(&c2, m, "a goal in the final match"))[0],
        "sports"
    );
}

#[test]
fn a_job_is_claimed_by_one_worker_only() {
    use atrium::models::job::Job;
    let app = TestApp::start_with(|c| c.job_workers = 0);
    let job = {
        let mut conn = app.state.pool.get().expect("conn");
        Job::enqueue(&mut conn, "noop", "{}").expect("enqueue")
    };
    let winners: Vec<Option<Job>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let pool = app.state.pool.clone();
                s.spawn(move || {
                    let mut conn = pool.get().expect("conn");
                    Job::claim(&mut conn, &format!("w{i}"), chrono::Duration::seconds(60))
                        .expect("claim")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let claimed: Vec<&Job> = winners.iter().flatten().collect();
    assert_eq!(claimed.len(), 1, "exactly one worker gets the job");
    assert_eq!(claimed[0].id, job.id);
    assert_eq!(claimed[0].attempts, 1);
    // A lease that runs out puts it back; finishing needs the lease.
    let mut conn = app.state.pool.get().expect("conn");
    let owner = claimed[0].locked_by.clone().expect("locked");
    assert!(!Job::finish(&mut conn, job.key(), "someone-else").expect("finish"));
    assert!(Job::finish(&mut conn, job.key(), &owner).expect("finish"));
    assert!(Job::claim(&mut conn, "late", chrono::Duration::seconds(60))
        .expect("claim")
        .is_none());
}

#[test]
fn who_may_train() {
    let app = TestApp::start();
    let boss = app.org_with_admin("acme", "boss");
    app.create_app(&boss, "acme", "lab", "Lab");
    upload(
        &boss,
        "acme",
        "lab",
        "",
        "",
        &[("t.csv", csv_of(&labelled_texts()))],
    );
    create_model(
        &boss,
        "acme",
        "lab",
        "topics",
        "text-classifier",
        &["sports", "cooking"],
    );
    let m = "/acme/lab/models/topics";
    let v = train(&boss, m);
    wait_done(&boss, m, &v);
    // The org user reads versions and predicts, but does not train or delete versions.
    let reader = app.signup("reader");
    app.add_member("acme", "reader", "org_user");
    let page = reader.get(&format!("{m}/versions"));
    assert_eq!(page.status, 200);
    assert!(page.has("[data-testid=metrics]"));
    assert!(!page.has("#train-model"));
    assert_eq!(reader.post_form(&format!("{m}/train"), &[]).status, 403);
    assert_eq!(
        reader
            .post_form(&format!("{m}/versions/{v}/delete"), &[])
            .status,
        403
    );
    assert_eq!(
        predicted(&predict_text(&reader, m, "the striker scored"))[0],
        "sports"
    );
    // A stranger learns nothing about the private model.
    let eve = app.signup("eve");
    assert_eq!(eve.get(&format!("{m}/versions")).status, 404);
    assert_eq!(predict_text(&eve, m, "goal").status, 404);
    assert_eq!(eve.post_form(&format!("{m}/train"), &[]).status, 404);
}
