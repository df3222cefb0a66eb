//! The background workers: threads started with the server that claim durable
//! jobs from the database and run them (training, for now). Each keeps its own
//! database connection, re-queues jobs whose instance died, wakes up at once when
//! this instance queues a job and polls for the others' every second. A worker
//! ends when the server's state is gone (the server stopped).

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::content::training::{self, Progress};
use crate::db::DbConn;
use crate::error::AppError;
use crate::models::job::{Job, JobStatus};
use crate::models::version::{status, ModelVersion, TRAIN_JOB};
use crate::models::JobId;
use crate::state::AppState;

/// How long a claimed job stays ours without a heartbeat.
pub const LEASE_SECONDS: i64 = 120;
/// Longest sleep between two looks at the queue.
const POLL: Duration = Duration::from_secs(1);
/// How often expired leases are looked for.
const RECOVER_EVERY: Duration = Duration::from_secs(30);
/// How often the first worker looks whether the search index needs merging.
const TIDY_EVERY: Duration = Duration::from_secs(15);

/// Wakes the workers when a job is queued.
#[derive(Default)]
pub struct JobSignal {
    pending: Mutex<bool>,
    cv: Condvar,
}

impl JobSignal {
    /// Tells the workers there is work.
    pub fn notify(&self) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_all();
    }

    fn wait(&self, timeout: Duration) {
        let guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let (mut guard, _) = self
            .cv
            .wait_timeout_while(guard, timeout, |pending| !*pending)
            .unwrap_or_else(|e| e.into_inner());
        *guard = false;
    }
}

fn lease() -> chrono::Duration {
    chrono::Duration::seconds(LEASE_SECONDS)
}

/// Starts `state.config.job_workers` worker threads.
pub fn spawn(state: &Arc<AppState>) {
    let instance = crate::models::random_id(10);
    for n in 0..state.config.job_workers {
        let weak = Arc::downgrade(state);
        let signal = Arc::clone(&state.jobs);
        let name = format!("{instance}-{n}");
        let spawned = std::thread::Builder::new()
            .name(format!("atrium-jobs-{n}"))
            .spawn(move || run(weak, signal, name, n == 0));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a job worker");
        }
    }
}

/// Re-queues jobs whose lease ran out; fails the versions of those given up.
pub fn recover(conn: &mut DbConn) -> Result<(), AppError> {
    let failed = Job::recover_expired(conn)?;
    if !failed.is_empty() {
        ModelVersion::fail_for_jobs(
            conn,
            &failed,
            status::TIMED_OUT,
            "Training was interrupted too many times (the server stopped while it ran).",
        )?;
    }
    Ok(())
}

struct Heartbeat<'a> {
    job: JobId,
    worker: &'a str,
}

impl Progress for Heartbeat<'_> {
    fn report(&mut self, conn: &mut DbConn, percent: i32) -> Result<bool, AppError> {
        Ok(Job::heartbeat(
            conn,
            self.job,
            self.worker,
            percent,
            lease(),
        )?)
    }
}

/// One worker's loop; the first (`tidies`) also keeps the search index merged.
fn run(weak: Weak<AppState>, signal: Arc<JobSignal>, worker: String, tidies: bool) {
    let mut conn: Option<DbConn> = None;
    let mut last_recover: Option<Instant> = None;
    let mut last_tidy: Option<Instant> = None;
    loop {
        let Some(state) = weak.upgrade() else {
            return;
        };
        if conn.is_none() {
            match crate::db::open_one(&state.config.database_url) {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    tracing::error!(error = %e, "job worker cannot reach the database");
                    drop(state);
                    std::thread::sleep(POLL * 5);
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        if last_recover.is_none_or(|t| t.elapsed() >= RECOVER_EVERY) {
            last_recover = Some(Instant::now());
            if let Err(e) = recover(c) {
                tracing::error!(error = %e, "cannot recover expired jobs");
            }
        }
        if tidies && last_tidy.is_none_or(|t| t.elapsed() >= TIDY_EVERY) {
            last_tidy = Some(Instant::now());
            match crate::models::app_list::tidy_search_index(c) {
                Ok(Some(segments)) => tracing::debug!(segments, "search index merged"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot merge the search index"),
            }
        }
        match Job::claim(c, &worker, lease()) {
            Ok(Some(job)) => {
                if let Err(e) = execute(&state, c, &job, &worker) {
                    tracing::error!(job = job.id, error = %e, "job failed; it will be retried");
                    // The connection may be what broke: open a fresh one next time.
                    let released = Job::release_failed(
                        c,
                        &job,
                        &worker,
                        &e.to_string(),
                        chrono::Duration::seconds(10 * i64::from(job.attempts)),
                    );
                    match released {
                        Ok(Some(JobStatus::Failed)) => {
                            let _ = ModelVersion::fail_for_jobs(
                                c,
                                &[job.key()],
                                status::UNKNOWN_ERROR,
                                "Training failed repeatedly on the server's side.",
                            );
                        }
                        Ok(_) => {}
                        Err(_) => conn = None,
                    }
                }
            }
            Ok(None) => {
                drop(state);
                signal.wait(POLL);
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot claim jobs");
                conn = None;
                drop(state);
                std::thread::sleep(POLL);
            }
        }
    }
}

fn execute(state: &AppState, conn: &mut DbConn, job: &Job, worker: &str) -> Result<(), AppError> {
    match job.kind.as_str() {
        TRAIN_JOB => {
            let workdir = state.config.data_dir.join("tmp");
            let mut hb = Heartbeat {
                job: job.key(),
                worker,
            };
            training::run_job(conn, job, worker, &workdir, &mut hb)
        }
        other => {
            tracing::error!(kind = other, job = job.id, "unknown job kind");
            Job::finish(conn, job.key(), worker)?;
            Ok(())
        }
    }
}
