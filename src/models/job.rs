//! The durable job queue: background work stored in the database, claimed
//! atomically (`UPDATE ... WHERE id = (SELECT ...) AND status = 'queued'`, the same
//! statement on SQLite and PostgreSQL), leased for a while and renewed while it
//! runs. A job whose lease ran out (its instance died) goes back to the queue,
//! until it has used up its attempts. Finishing checks the lease too, so a job's
//! result is recorded once even if two instances ever ran it.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::jobs;
use crate::db::DbConn;
use crate::models::{now, JobId};

/// A job row.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: NaiveDateTime,
    pub locked_by: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub progress: i32,
    pub error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
}

/// Attempts a job gets before it is given up.
pub const MAX_ATTEMPTS: i32 = 3;

impl Job {
    pub fn key(&self) -> JobId {
        JobId(self.id)
    }

    /// Stores a new queued job.
    pub fn enqueue(conn: &mut DbConn, kind: &str, payload: &str) -> QueryResult<Job> {
        let t = now();
        diesel::insert_into(jobs::table)
            .values((
                jobs::kind.eq(kind),
                jobs::payload.eq(payload),
                jobs::status.eq(JobStatus::Queued.as_str()),
                jobs::attempts.eq(0),
                jobs::max_attempts.eq(MAX_ATTEMPTS),
                jobs::run_after.eq(t),
                jobs::progress.eq(0),
                jobs::created_at.eq(t),
                jobs::updated_at.eq(t),
            ))
            .returning(jobs::all_columns)
            .get_result::<Job>(conn)
    }

    /// Finds a job.
    pub fn find(conn: &mut DbConn, id: JobId) -> QueryResult<Option<Job>> {
        jobs::table
            .find(id.0)
            .select(Job::as_select())
            .first(conn)
            .optional()
    }

    /// Claims the oldest due job for `worker` with a lease of `lease`: an UPDATE
    /// that only succeeds while the job is still queued (checked by the row it
    /// returns), so that two workers (or two instances) never both get it. `None`
    /// when nothing is due.
    pub fn claim(conn: &mut DbConn, worker: &str, lease: Duration) -> QueryResult<Option<Job>> {
        // Another worker may take the candidate between the SELECT and the UPDATE:
        // the UPDATE then changes no row and the next candidate is tried.
        for _ in 0..5 {
            let t = now();
            let candidate: Option<i64> = jobs::table
                .filter(jobs::status.eq(JobStatus::Queued.as_str()))
                .filter(jobs::run_after.le(t))
                .order((jobs::run_after.asc(), jobs::id.asc()))
                .select(jobs::id)
                .first(conn)
                .optional()?;
            let Some(id) = candidate else {
                return Ok(None);
            };
            let claimed = diesel::update(
                jobs::table
                    .find(id)
                    .filter(jobs::status.eq(JobStatus::Queued.as_str())),
            )
            .set((
                jobs::status.eq(JobStatus::Running.as_str()),
                jobs::locked_by.eq(worker),
                jobs::locked_until.eq(t + lease),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::updated_at.eq(t),
            ))
            .returning(jobs::all_columns)
            .get_result::<Job>(conn)
            .optional()?;
            if claimed.is_some() {
                return Ok(claimed);
            }
        }
        Ok(None)
    }

    /// Records progress (0–100) and renews the lease; `false` when the job is no
    /// longer this worker's (its lease ran out and it went back to the queue).
    pub fn heartbeat(
        conn: &mut DbConn,
        id: JobId,
        worker: &str,
        progress: i32,
        lease: Duration,
    ) -> QueryResult<bool> {
        let t = now();
        diesel::update(
            jobs::table
                .find(id.0)
                .filter(jobs::status.eq(JobStatus::Running.as_str()))
                .filter(jobs::locked_by.eq(worker)),
        )
        .set((
            jobs::progress.eq(progress.clamp(0, 100)),
            jobs::locked_until.eq(t + lease),
            jobs::updated_at.eq(t),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Marks the job done if it is still this worker's (run it in the transaction
    /// that records the job's result); `false` means someone else owns it now and
    /// the result must not be recorded.
    pub fn finish(conn: &mut DbConn, id: JobId, worker: &str) -> QueryResult<bool> {
        diesel::update(
            jobs::table
                .find(id.0)
                .filter(jobs::status.eq(JobStatus::Running.as_str()))
                .filter(jobs::locked_by.eq(worker)),
        )
        .set((
            jobs::status.eq(JobStatus::Done.as_str()),
            jobs::progress.eq(100),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Gives the job back after a failure: queued again after `retry_in` while it has
    /// attempts left, failed for good otherwise. Returns the new status.
    pub fn release_failed(
        conn: &mut DbConn,
        job: &Job,
        worker: &str,
        error: &str,
        retry_in: Duration,
    ) -> QueryResult<Option<JobStatus>> {
        let t = now();
        let status = if job.attempts < job.max_attempts {
            JobStatus::Queued
        } else {
            JobStatus::Failed
        };
        let n = diesel::update(
            jobs::table
                .find(job.id)
                .filter(jobs::status.eq(JobStatus::Running.as_str()))
                .filter(jobs::locked_by.eq(worker)),
        )
        .set((
            jobs::status.eq(status.as_str()),
            jobs::error.eq(error),
            jobs::run_after.eq(t + retry_in),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(t),
        ))
        .execute(conn)?;
        Ok((n == 1).then_some(status))
    }

    /// Puts back in the queue every running job whose lease has run out (its
    /// instance stopped or died); those that used up their attempts fail instead.
    /// Returns the ids of the jobs that failed for good.
    pub fn recover_expired(conn: &mut DbConn) -> QueryResult<Vec<JobId>> {
        let t = now();
        crate::db::transaction(conn, |conn| {
            let expired = jobs::table
                .filter(jobs::status.eq(JobStatus::Running.as_str()))
                .filter(jobs::locked_until.lt(t));
            let failed: Vec<i64> =
                diesel::update(expired.filter(jobs::attempts.ge(jobs::max_attempts)))
                    .set((
                        jobs::status.eq(JobStatus::Failed.as_str()),
                        jobs::error.eq("The job was interrupted too many times."),
                        jobs::locked_by.eq(None::<String>),
                        jobs::locked_until.eq(None::<NaiveDateTime>),
                        jobs::updated_at.eq(t),
                    ))
                    .returning(jobs::id)
                    .get_results(conn)?;
            diesel::update(expired)
                .set((
                    jobs::status.eq(JobStatus::Queued.as_str()),
                    jobs::locked_by.eq(None::<String>),
                    jobs::locked_until.eq(None::<NaiveDateTime>),
                    jobs::updated_at.eq(t),
                ))
                .execute(conn)?;
            Ok(failed.into_iter().map(JobId).collect())
        })
    }
}
