//! The app-content walk in a real headless Chromium: create an app, upload
//! twenty labelled texts from a file, create a Text Classifier, train it and
//! watch the version go from queued to trained, type a text in the predict box
//! and see the expected concept on top; star the model and find it on the
//! Starred page.

use atrium::content::training::{run_job, Progress};
use atrium::db::DbConn;
use atrium::error::AppError;
use atrium::models::job::Job;
use atrium::models::JobId;
use serde_json::json;

use crate::browser::{create_app, open_profile_menu, sign_up, wait_for_modal};
use crate::support::browser::{runtime, Browser};
use crate::support::content::{csv_of, labelled_texts};
use crate::support::TestApp;

/// Keeps the lease of the job the test runs, as a worker does.
struct Lease {
    job: JobId,
}

impl Progress for Lease {
    fn report(&mut self, conn: &mut DbConn, percent: i32) -> Result<bool, AppError> {
        Ok(Job::heartbeat(
            conn,
            self.job,
            "walk-worker",
            percent,
            chrono::Duration::seconds(60),
        )?)
    }
}

/// Plays the job worker once: claims the queued training job and runs it.
fn run_the_queued_job(app: &TestApp) {
    let mut conn = app.state.pool.get().expect("conn");
    let job = Job::claim(&mut conn, "walk-worker", chrono::Duration::seconds(60))
        .expect("claim")
        .expect("a queued training job");
    let workdir = app.state.config.data_dir.join("tmp");
    run_job(
        &mut conn,
        &job,
        "walk-worker",
        &workdir,
        &mut Lease { job: job.key() },
    )
    .expect("training runs");
}

#[test]
fn walk_upload_train_predict_and_star() {
    // No background worker: the walk sees the version queued, then runs the job.
    let app = TestApp::start_with(|c| c.job_workers = 0);
    let texts = labelled_texts();
    let twenty: Vec<(&str, &str)> = texts[..10].iter().chain(&texts[20..30]).copied().collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("topics.csv");
    std::fs::write(&file, csv_of(&twenty)).expect("write the csv");
    runtime().block_on(async {
        let b = Browser::launch(&app.base).await;
        sign_up(&b, "trainer").await;
        create_app(&b, "trainer", "topics", "Topics").await;

        // Inputs → Upload Inputs → the file, in the htmx dialog.
        b.click("[data-testid=app-sidebar] a[href='/trainer/topics/inputs']")
            .await;
        b.wait_for_path("/trainer/topics/inputs").await;
        b.click("#upload-inputs").await;
        wait_for_modal(&b, "#upload-dialog").await;
        b.type_keys("#upload-files", file.to_str().expect("utf-8 path"))
            .await;
        b.click("#upload-form button[type=submit]").await;
        b.wait_for_text("[data-testid=added-count]", "20").await;
        b.goto("/trainer/topics/inputs").await;
        b.wait_for_text("[data-testid=input-count]", "20 inputs")
            .await;

        // App Models → Create Model → Text Classifier, learning both concepts.
        b.click("[data-testid=app-sidebar] a[href='/trainer/topics/models']")
            .await;
        b.wait_for_path("/trainer/topics/models").await;
        b.click("#create-model").await;
        wait_for_modal(&b, "#create-model-dialog").await;
        b.click("[data-type=text-classifier]").await;
        b.visible("#create-model-form").await;
        b.fill("#model-id", "topics-model").await;
        b.fill("#model-name", "Topic finder").await;
        b.click("#create-model-form input[name=concepts][value=sports]")
            .await;
        b.click("#create-model-form input[name=concepts][value=cooking]")
            .await;
        b.click("#create-model-form button[type=submit]").await;
        b.wait_for_path("/trainer/topics/models/topics-model").await;
        b.wait_for_text("[data-testid=model-title]", "Topic finder")
            .await;

        // Train Model: the Versions tab shows the version queued, and follows it
        // (htmx polling) until it is trained.
        b.click("#train-model").await;
        b.wait_for_path("/trainer/topics/models/topics-model/versions")
            .await;
        b.visible("article.version[data-status=queued]").await;
        b.wait_for_text("[data-testid=version-status]", "queued")
            .await;
        b.mark_document().await;
        let app_ref = &app;
        tokio::task::block_in_place(|| run_the_queued_job(app_ref));
        b.visible("article.version[data-status=trained]").await;
        b.wait_for_text("[data-testid=version-status]", "trained")
            .await;
        assert!(
            b.same_document().await,
            "the status changed in place (htmx polling), without a reload"
        );
        b.visible("[data-testid=macro-f1]").await;
        b.visible("[data-testid=confusion-matrix]").await;

        // Overview: the predict box puts the expected concept on top.
        b.click("[data-testid=model-tabs] a:first-child").await;
        b.wait_for_path("/trainer/topics/models/topics-model").await;
        b.fill(
            "#predict-text",
            "The goalkeeper saved a penalty and the team won the match",
        )
        .await;
        b.click("#predict-form button[type=submit]").await;
        b.wait_until(
            "sports on top of the predictions",
            "const li = document.querySelector('[data-testid=predictions] li'); \
             return !!li && li.getAttribute('data-concept-id') === arguments[0];",
            vec![json!("sports")],
        )
        .await;
        b.fill(
            "#predict-text",
            "Bake the bread and stir the sauce with butter",
        )
        .await;
        b.click("#predict-form button[type=submit]").await;
        b.wait_until(
            "cooking on top of the predictions",
            "const li = document.querySelector('[data-testid=predictions] li'); \
             return !!li && li.getAttribute('data-concept-id') === arguments[0];",
            vec![json!("cooking")],
        )
        .await;

        // Star it, then find it on the Starred page of the profile menu.
        b.click("[data-testid=star-button]").await;
        b.wait_until(
            "the model to be starred",
            "const s = document.querySelector('[data-testid=star-button]'); \
             return !!s && s.getAttribute('aria-pressed') === 'true';",
            vec![],
        )
        .await;
        open_profile_menu(&b).await;
        b.click("[data-testid=profile-menu] a[href='/starred']")
            .await;
        b.wait_for_path("/starred").await;
        b.visible("[data-testid=starred] [data-model-id=topics-model]")
            .await;
        b.wait_for_text("[data-testid=starred]", "Topic finder")
            .await;

        b.close().await;
    });
}
