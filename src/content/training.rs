//! Training: **Train Model** creates a version and its durable job; a worker runs
//! the job here. The labelled inputs are split 80/20 (stratified, fixed seed), the
//! classifier learns from the 80, is scored on the 20, and the artifact is kept on
//! the version. Problems with the data fail the version with the platform's code
//! and a reason a person can act on.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::AppError;
use crate::ml::metrics::{evaluate, Metrics};
use crate::ml::split::{stratified_split, SEED, TEST_FRACTION};
use crate::ml::{picture, text, visual, Classifier, Sample, TrainedModel};
use crate::models::concept::Concept;
use crate::models::input::{Input, InputKind};
use crate::models::job::Job;
use crate::models::ml_model::MlModel;
use crate::models::version::{status, ModelVersion, TrainedVersion};
use crate::models::{ModelKey, UserId};

/// Images read from the database at a time while computing features.
const IMAGE_CHUNK: usize = 128;
/// How often a running job renews its lease while the learner works.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(20);

/// A run that cannot succeed with the data at hand: the version fails with `code`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: i32,
    pub reason: String,
    pub inputs: i64,
}

impl Failure {
    fn new(code: i32, reason: impl Into<String>, inputs: i64) -> Failure {
        Failure {
            code,
            reason: reason.into(),
            inputs,
        }
    }
}

/// What the worker needs to report progress and keep its lease.
pub trait Progress {
    /// Records progress (0–100); `false` when the job is no longer ours.
    fn report(&mut self, conn: &mut DbConn, percent: i32) -> Result<bool, AppError>;
}

/// Creates a queued version of `model` and the job that trains it.
pub fn enqueue(
    conn: &mut DbConn,
    model: ModelKey,
    by: Option<UserId>,
) -> Result<ModelVersion, AppError> {
    Ok(ModelVersion::create_with_job(conn, model, by)?)
}

/// The labelled data of a run.
struct Prepared {
    /// Concept ids, by class index.
    classes: Vec<String>,
    /// Input keys with their first class and all their classes.
    examples: Vec<(i64, usize, Vec<usize>)>,
}

fn quoted(ids: &[&str]) -> String {
    ids.iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Gathers the model's labelled inputs, or says why there is nothing to learn.
fn prepare(conn: &mut DbConn, model: &MlModel) -> Result<Result<Prepared, Failure>, AppError> {
    let concepts: Vec<Concept> = MlModel::concepts(conn, model.key(), None)?;
    if concepts.is_empty() {
        return Ok(Err(Failure::new(
            status::INVALID_PARAMS,
            "The model has no concepts to learn: edit the model and choose at least two.",
            0,
        )));
    }
    if concepts.len() < 2 {
        return Ok(Err(Failure::new(
            status::SINGLE_CLASS,
            format!(
                "A classifier needs at least two concepts to tell apart; this model has only \"{}\". Edit the model to add another.",
                concepts[0].concept_id
            ),
            0,
        )));
    }
    let kind = model.model_type().input_kind();
    let keys: Vec<i64> = concepts.iter().map(|c| c.id).collect();
    let class_of: HashMap<i64, usize> = keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
    let labels = Input::positive_labels(conn, model.app(), kind, &keys)?;
    let mut examples: Vec<(i64, usize, Vec<usize>)> = Vec::new();
    for (input, concept) in labels {
        let Some(&class) = class_of.get(&concept) else {
            continue;
        };
        match examples.last_mut() {
            Some((k, _, classes)) if *k == input => classes.push(class),
            _ => examples.push((input, class, vec![class])),
        }
    }
    for e in &mut examples {
        e.1 = e.2.iter().copied().min().unwrap_or(e.1);
    }
    let ids: Vec<&str> = concepts.iter().map(|c| c.concept_id.as_str()).collect();
    let what = match kind {
        InputKind::Text => "text",
        InputKind::Image => "image",
    };
    let n = examples.len() as i64;
    if examples.is_empty() {
        return Ok(Err(Failure::new(
            status::NO_DATA,
            format!(
                "No {what} inputs are labelled with the model's concepts ({}). Label some inputs first.",
                quoted(&ids)
            ),
            0,
        )));
    }
    let mut counts = vec![0_usize; concepts.len()];
    for (_, _, classes) in &examples {
        for &c in classes {
            counts[c] += 1;
        }
    }
    let missing: Vec<&str> = ids
        .iter()
        .zip(&counts)
        .filter(|(_, &n)| n == 0)
        .map(|(c, _)| *c)
        .collect();
    if !missing.is_empty() {
        return Ok(Err(Failure::new(
            status::NO_POSITIVES,
            format!(
                "No {what} input is labelled with {}: every concept needs examples.",
                quoted(&missing)
            ),
            n,
        )));
    }
    let single: Vec<&str> = ids
        .iter()
        .zip(&counts)
        .filter(|(_, &n)| n == 1)
        .map(|(c, _)| *c)
        .collect();
    if !single.is_empty() {
        return Ok(Err(Failure::new(
            status::INSUFFICIENT_DATA,
            format!(
                "{} {} only one example: label at least two inputs with every concept (one is held out to test the model).",
                quoted(&single),
                if single.len() == 1 { "has" } else { "have" }
            ),
            n,
        )));
    }
    Ok(Ok(Prepared {
        classes: ids.iter().map(|s| (*s).to_owned()).collect(),
        examples,
    }))
}

/// Runs `work` on a helper thread while this thread renews the job's lease.
fn with_heartbeat<T: Send>(
    conn: &mut DbConn,
    progress: &mut dyn Progress,
    percent: i32,
    work: impl FnOnce() -> T + Send,
) -> Result<Option<std::thread::Result<T>>, AppError> {
    std::thread::scope(|s| {
        let handle = s.spawn(move || std::panic::catch_unwind(AssertUnwindSafe(work)));
        let mut last = Instant::now();
        let mut ours = true;
        while !handle.is_finished() {
            std::thread::sleep(Duration::from_millis(50));
            if last.elapsed() >= HEARTBEAT_EVERY {
                last = Instant::now();
                ours = ours && progress.report(conn, percent)?;
            }
        }
        let result = handle.join().unwrap_or_else(|p| Err(p));
        Ok(ours.then_some(result))
    })
}

/// The outcome of one run, before it is recorded.
enum Outcome {
    Trained(TrainedVersion),
    Failed(Failure),
    /// The job is no longer ours: record nothing.
    Lost,
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the learner crashed".to_owned())
}

/// Loads the contents, trains, evaluates.
fn train_version(
    conn: &mut DbConn,
    model: &MlModel,
    workdir: &Path,
    progress: &mut dyn Progress,
) -> Result<Outcome, AppError> {
    let data = match prepare(conn, model)? {
        Ok(d) => d,
        Err(f) => return Ok(Outcome::Failed(f)),
    };
    let total = data.examples.len() as i64;
    if !progress.report(conn, 15)? {
        return Ok(Outcome::Lost);
    }
    let primaries: Vec<usize> = data.examples.iter().map(|e| e.1).collect();
    let (train_idx, test_idx) = stratified_split(&primaries, TEST_FRACTION, SEED);
    let keys: Vec<i64> = data.examples.iter().map(|e| e.0).collect();
    let n_classes = data.classes.len();
    let started = Instant::now();
    // Contents, by example index.
    enum Contents {
        Texts(Vec<String>),
        Features(Vec<Option<Vec<f32>>>),
    }
    let contents = if model.is_text() {
        let mut by_key: HashMap<i64, String> = Input::texts(conn, &keys)?.into_iter().collect();
        Contents::Texts(
            keys.iter()
                .map(|k| by_key.remove(k).unwrap_or_default())
                .collect(),
        )
    } else {
        let mut feats = Vec::with_capacity(keys.len());
        for (n, chunk) in keys.chunks(IMAGE_CHUNK).enumerate() {
            let mut by_key: HashMap<i64, Vec<u8>> =
                Input::images(conn, chunk)?.into_iter().collect();
            for k in chunk {
                let f = by_key
                    .remove(k)
                    .and_then(|b| picture::decode(&b).ok())
                    .map(|(img, _)| visual::features(&img));
                feats.push(f);
            }
            let done = ((n + 1) * IMAGE_CHUNK).min(keys.len());
            if !progress.report(conn, 15 + (25 * done / keys.len().max(1)) as i32)? {
                return Ok(Outcome::Lost);
            }
        }
        Contents::Features(feats)
    };
    if !progress.report(conn, 40)? {
        return Ok(Outcome::Lost);
    }
    // One training row per (input, concept) of the training part.
    let mut rows_idx = Vec::new();
    let mut rows_label = Vec::new();
    for &i in &train_idx {
        for &c in &data.examples[i].2 {
            rows_idx.push(i);
            rows_label.push(c);
        }
    }
    let trained = match &contents {
        Contents::Texts(texts) => {
            let train_texts: Vec<String> = rows_idx.iter().map(|&i| texts[i].clone()).collect();
            with_heartbeat(conn, progress, 40, || {
                text::train(&train_texts, &rows_label, n_classes, workdir)
                    .map(|m| Classifier::Text(Box::new(m)))
            })?
        }
        Contents::Features(feats) => {
            let mut rows = Vec::new();
            let mut labels = Vec::new();
            for (&i, &c) in rows_idx.iter().zip(&rows_label) {
                if let Some(f) = &feats[i] {
                    rows.push(f.clone());
                    labels.push(c);
                }
            }
            with_heartbeat(conn, progress, 40, || {
                visual::train(&rows, &labels, n_classes).map(Classifier::Visual)
            })?
        }
    };
    let classifier = match trained {
        None => return Ok(Outcome::Lost),
        Some(Err(p)) => {
            return Ok(Outcome::Failed(Failure::new(
                status::UNKNOWN_ERROR,
                format!("The learner failed: {}", panic_message(p.as_ref())),
                total,
            )))
        }
        Some(Ok(Err(crate::ml::MlError::NoWords))) => {
            return Ok(Outcome::Failed(Failure::new(
                status::INSUFFICIENT_DATA,
                "The training texts contain no words to learn from.",
                total,
            )))
        }
        Some(Ok(Err(e))) => {
            return Ok(Outcome::Failed(Failure::new(
                status::UNKNOWN_ERROR,
                format!("The learner failed: {e}"),
                total,
            )))
        }
        Some(Ok(Ok(c))) => c,
    };
    let training_seconds = started.elapsed().as_secs_f64();
    if !progress.report(conn, 85)? {
        return Ok(Outcome::Lost);
    }
    let model_out = TrainedModel {
        classifier,
        classes: data.classes.clone(),
    };
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    let timer = Instant::now();
    for &i in &test_idx {
        let best = match &contents {
            Contents::Texts(t) => model_out.best_class(Sample::Text(&t[i])).ok(),
            Contents::Features(f) => match (&f[i], &model_out.classifier) {
                (Some(feat), Classifier::Visual(v)) => v
                    .predict(feat)
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(c, _)| c),
                _ => None,
            },
        };
        if let Some(p) = best {
            truth.push(data.examples[i].1);
            predicted.push(p);
        }
    }
    let mut metrics: Metrics = evaluate(&data.classes, &truth, &predicted);
    metrics.predict_micros = if truth.is_empty() {
        0.0
    } else {
        timer.elapsed().as_secs_f64() * 1e6 / truth.len() as f64
    };
    metrics.train_count = train_idx.len() as u64;
    metrics.training_seconds = training_seconds;
    let artifact = model_out
        .to_bytes()
        .map_err(|e| AppError::internal(format!("artifact: {e}")))?;
    let metrics_json =
        serde_json::to_string(&metrics).map_err(|e| AppError::internal(format!("metrics: {e}")))?;
    Ok(Outcome::Trained(TrainedVersion {
        total_input_count: total,
        train_count: train_idx.len() as i64,
        test_count: test_idx.len() as i64,
        active_concept_count: n_classes as i64,
        metrics: metrics_json,
        artifact,
    }))
}

/// Runs a training job claimed by `worker`. Errors are infrastructure failures
/// (the worker retries the job later); data problems fail the version instead.
pub fn run_job(
    conn: &mut DbConn,
    job: &Job,
    worker: &str,
    workdir: &Path,
    progress: &mut dyn Progress,
) -> Result<(), AppError> {
    let version_id = serde_json::from_str::<serde_json::Value>(&job.payload)
        .ok()
        .and_then(|v| {
            v.get("version_id")
                .and_then(|s| s.as_str())
                .map(str::to_owned)
        });
    let version = match version_id {
        Some(v) => ModelVersion::find_by_public_id(conn, &v)?,
        None => None,
    };
    // Deleted meanwhile, or already recorded: nothing to do.
    let Some(version) = version.filter(ModelVersion::is_pending) else {
        Job::finish(conn, job.key(), worker)?;
        return Ok(());
    };
    let model = match crate::db::schema::ml_models::table
        .find(version.model_id)
        .select(MlModel::as_select())
        .first::<MlModel>(conn)
    {
        Ok(m) => m,
        Err(diesel::result::Error::NotFound) => {
            Job::finish(conn, job.key(), worker)?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    ModelVersion::mark_training(conn, version.key())?;
    if !progress.report(conn, 5)? {
        return Ok(());
    }
    let outcome = train_version(conn, &model, workdir, progress)?;
    let key = version.key();
    crate::db::transaction(conn, |conn| {
        match &outcome {
            Outcome::Lost => return Ok(()),
            _ if !Job::finish(conn, job.key(), worker)? => return Ok(()),
            Outcome::Trained(t) => ModelVersion::mark_trained(conn, key, t)?,
            Outcome::Failed(f) => {
                ModelVersion::mark_failed(conn, key, f.code, &f.reason, f.inputs)?
            }
        };
        Ok::<(), diesel::result::Error>(())
    })?;
    match outcome {
        Outcome::Trained(t) => tracing::info!(
            version = %version.version_id,
            inputs = t.total_input_count,
            "model version trained"
        ),
        Outcome::Failed(f) => tracing::info!(
            version = %version.version_id,
            code = f.code,
            reason = %f.reason,
            "model version failed"
        ),
        Outcome::Lost => tracing::warn!(
            version = %version.version_id,
            "training job was taken over by another worker; result discarded"
        ),
    }
    Ok(())
}
