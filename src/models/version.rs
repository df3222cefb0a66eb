//! Model versions: one per training run, with the platform's status codes, the
//! counts and metrics of the run, and the trained artifact (kept in the database
//! so that every instance can load it). A version is created together with the
//! job that trains it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{jobs, model_versions};
use crate::db::DbConn;
use crate::models::job::Job;
use crate::models::{now, random_id, JobId, ModelKey, UserId, VersionKey};

/// The platform's model status codes.
pub mod status {
    pub const TRAINED: i32 = 21100;
    pub const TRAINING: i32 = 21101;
    pub const UNTRAINED: i32 = 21102;
    pub const QUEUED: i32 = 21103;
    pub const FAILED: i32 = 21106;
    /// No labelled inputs of the model's kind.
    pub const NO_DATA: i32 = 21110;
    /// A concept without positive examples.
    pub const NO_POSITIVES: i32 = 21111;
    /// Fewer than two concepts to tell apart.
    pub const SINGLE_CLASS: i32 = 21112;
    /// The run was interrupted too many times.
    pub const TIMED_OUT: i32 = 21113;
    /// The learner itself failed.
    pub const UNKNOWN_ERROR: i32 = 21115;
    /// Too few examples of a concept to learn and evaluate it.
    pub const INSUFFICIENT_DATA: i32 = 21117;
    /// The model's settings cannot be trained (e.g. no concepts chosen).
    pub const INVALID_PARAMS: i32 = 21118;

    /// The platform's name of a code.
    pub fn description(code: i32) -> &'static str {
        match code {
            TRAINED => "Model is trained and ready",
            TRAINING => "Model is currently training",
            UNTRAINED => "Model has not been trained",
            QUEUED => "Model is queued for training",
            FAILED => "Model training failed",
            NO_DATA => "Model training had no data",
            NO_POSITIVES => "Model training had no positive examples",
            SINGLE_CLASS => "Model training needs at least two concepts",
            TIMED_OUT => "Model training was interrupted too often",
            UNKNOWN_ERROR => "Model training failed with an unknown error",
            INSUFFICIENT_DATA => "Model training had insufficient data",
            INVALID_PARAMS => "Model training had invalid parameters",
            _ => "Unknown status",
        }
    }

    /// The short word the screens show.
    pub fn word(code: i32) -> &'static str {
        match code {
            TRAINED => "trained",
            TRAINING => "training",
            QUEUED => "queued",
            UNTRAINED => "untrained",
            _ => "failed",
        }
    }
}

/// A version row without its artifact.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = model_versions)]
pub struct ModelVersion {
    pub id: i64,
    pub model_id: i64,
    pub version_id: String,
    pub status_code: i32,
    pub failure_reason: Option<String>,
    pub job_id: Option<i64>,
    pub total_input_count: i64,
    pub train_count: i64,
    pub test_count: i64,
    pub active_concept_count: i64,
    pub metrics: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
}

/// Every column but the artifact, in the order of [`ModelVersion`].
type Columns = (
    model_versions::id,
    model_versions::model_id,
    model_versions::version_id,
    model_versions::status_code,
    model_versions::failure_reason,
    model_versions::job_id,
    model_versions::total_input_count,
    model_versions::train_count,
    model_versions::test_count,
    model_versions::active_concept_count,
    model_versions::metrics,
    model_versions::created_by,
    model_versions::created_at,
    model_versions::started_at,
    model_versions::completed_at,
);

/// Every column but the artifact.
const COLUMNS: Columns = (
    model_versions::id,
    model_versions::model_id,
    model_versions::version_id,
    model_versions::status_code,
    model_versions::failure_reason,
    model_versions::job_id,
    model_versions::total_input_count,
    model_versions::train_count,
    model_versions::test_count,
    model_versions::active_concept_count,
    model_versions::metrics,
    model_versions::created_by,
    model_versions::created_at,
    model_versions::started_at,
    model_versions::completed_at,
);

/// What a successful run records.
#[derive(Debug, Clone)]
pub struct TrainedVersion {
    pub total_input_count: i64,
    pub train_count: i64,
    pub test_count: i64,
    pub active_concept_count: i64,
    /// JSON of `ml::metrics::Metrics`.
    pub metrics: String,
    pub artifact: Vec<u8>,
}

/// The job kind that trains a version.
pub const TRAIN_JOB: &str = "train";

impl ModelVersion {
    pub fn key(&self) -> VersionKey {
        VersionKey(self.id)
    }

    pub fn is_trained(&self) -> bool {
        self.status_code == status::TRAINED
    }

    /// Queued or training.
    pub fn is_pending(&self) -> bool {
        matches!(self.status_code, status::QUEUED | status::TRAINING)
    }

    pub fn is_failed(&self) -> bool {
        !self.is_trained() && !self.is_pending() && self.status_code != status::UNTRAINED
    }

    pub fn status_word(&self) -> &'static str {
        status::word(self.status_code)
    }

    pub fn status_description(&self) -> &'static str {
        status::description(self.status_code)
    }

    /// Creates a queued version and the durable job that trains it, in one transaction.
    pub fn create_with_job(
        conn: &mut DbConn,
        model: ModelKey,
        by: Option<UserId>,
    ) -> QueryResult<ModelVersion> {
        crate::db::transaction(conn, |conn| {
            let version_id = random_id(32);
            let payload = serde_json::json!({ "version_id": version_id }).to_string();
            let job = Job::enqueue(conn, TRAIN_JOB, &payload)?;
            diesel::insert_into(model_versions::table)
                .values((
                    model_versions::model_id.eq(model.0),
                    model_versions::version_id.eq(&version_id),
                    model_versions::status_code.eq(status::QUEUED),
                    model_versions::job_id.eq(job.id),
                    model_versions::created_by.eq(by.map(|u| u.0)),
                    model_versions::created_at.eq(now()),
                ))
                .returning(COLUMNS)
                .get_result::<ModelVersion>(conn)
        })
    }

    /// The model's versions, newest first, with the progress of their jobs.
    pub fn list(conn: &mut DbConn, model: ModelKey) -> QueryResult<Vec<(ModelVersion, i32)>> {
        let rows: Vec<(ModelVersion, Option<i32>)> = model_versions::table
            .left_join(jobs::table)
            .filter(model_versions::model_id.eq(model.0))
            .order((model_versions::created_at.desc(), model_versions::id.desc()))
            .limit(200)
            .select((ModelVersion::as_select(), jobs::progress.nullable()))
            .load(conn)?;
        Ok(rows.into_iter().map(|(v, p)| (v, p.unwrap_or(0))).collect())
    }

    /// A version of the model by its public id.
    pub fn find(
        conn: &mut DbConn,
        model: ModelKey,
        version_id: &str,
    ) -> QueryResult<Option<ModelVersion>> {
        model_versions::table
            .filter(model_versions::model_id.eq(model.0))
            .filter(model_versions::version_id.eq(version_id))
            .select(ModelVersion::as_select())
            .first(conn)
            .optional()
    }

    /// A version by its public id, whatever its model (for the worker).
    pub fn find_by_public_id(
        conn: &mut DbConn,
        version_id: &str,
    ) -> QueryResult<Option<ModelVersion>> {
        model_versions::table
            .filter(model_versions::version_id.eq(version_id))
            .select(ModelVersion::as_select())
            .first(conn)
            .optional()
    }

    /// The newest trained version of the model.
    pub fn latest_trained(conn: &mut DbConn, model: ModelKey) -> QueryResult<Option<ModelVersion>> {
        model_versions::table
            .filter(model_versions::model_id.eq(model.0))
            .filter(model_versions::status_code.eq(status::TRAINED))
            .order((model_versions::created_at.desc(), model_versions::id.desc()))
            .select(ModelVersion::as_select())
            .first(conn)
            .optional()
    }

    /// The newest version of the model, whatever its status.
    pub fn latest(conn: &mut DbConn, model: ModelKey) -> QueryResult<Option<ModelVersion>> {
        model_versions::table
            .filter(model_versions::model_id.eq(model.0))
            .order((model_versions::created_at.desc(), model_versions::id.desc()))
            .select(ModelVersion::as_select())
            .first(conn)
            .optional()
    }

    /// The trained artifact of a version.
    pub fn artifact(conn: &mut DbConn, id: VersionKey) -> QueryResult<Option<Vec<u8>>> {
        model_versions::table
            .find(id.0)
            .select(model_versions::artifact)
            .first::<Option<Vec<u8>>>(conn)
            .optional()
            .map(Option::flatten)
    }

    /// Marks the version as training (a new attempt starts).
    pub fn mark_training(conn: &mut DbConn, id: VersionKey) -> QueryResult<usize> {
        diesel::update(model_versions::table.find(id.0))
            .set((
                model_versions::status_code.eq(status::TRAINING),
                model_versions::failure_reason.eq(None::<String>),
                model_versions::started_at.eq(Some(now())),
            ))
            .execute(conn)
    }

    /// Records a successful run.
    pub fn mark_trained(
        conn: &mut DbConn,
        id: VersionKey,
        t: &TrainedVersion,
    ) -> QueryResult<usize> {
        diesel::update(model_versions::table.find(id.0))
            .set((
                model_versions::status_code.eq(status::TRAINED),
                model_versions::failure_reason.eq(None::<String>),
                model_versions::total_input_count.eq(t.total_input_count),
                model_versions::train_count.eq(t.train_count),
                model_versions::test_count.eq(t.test_count),
                model_versions::active_concept_count.eq(t.active_concept_count),
                model_versions::metrics.eq(Some(&t.metrics)),
                model_versions::artifact.eq(Some(&t.artifact)),
                model_versions::completed_at.eq(Some(now())),
            ))
            .execute(conn)
    }

    /// Records a failed run with its code and reason (and the input count seen).
    pub fn mark_failed(
        conn: &mut DbConn,
        id: VersionKey,
        code: i32,
        reason: &str,
        total_input_count: i64,
    ) -> QueryResult<usize> {
        diesel::update(model_versions::table.find(id.0))
            .set((
                model_versions::status_code.eq(code),
                model_versions::failure_reason.eq(Some(reason)),
                model_versions::total_input_count.eq(total_input_count),
                model_versions::completed_at.eq(Some(now())),
            ))
            .execute(conn)
    }

    /// Fails the versions of jobs that were given up.
    pub fn fail_for_jobs(
        conn: &mut DbConn,
        job_ids: &[JobId],
        code: i32,
        reason: &str,
    ) -> QueryResult<usize> {
        let ids: Vec<i64> = job_ids.iter().map(|j| j.0).collect();
        if ids.is_empty() {
            return Ok(0);
        }
        diesel::update(
            model_versions::table
                .filter(model_versions::job_id.eq_any(ids))
                .filter(model_versions::status_code.eq_any([status::QUEUED, status::TRAINING])),
        )
        .set((
            model_versions::status_code.eq(code),
            model_versions::failure_reason.eq(Some(reason)),
            model_versions::completed_at.eq(Some(now())),
        ))
        .execute(conn)
    }

    /// Deletes a version.
    pub fn delete(conn: &mut DbConn, id: VersionKey) -> QueryResult<usize> {
        diesel::delete(model_versions::table.find(id.0)).execute(conn)
    }
}
