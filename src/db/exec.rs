//! The database threads: one queue that every HTTP worker hands its database
//! work to, and as many threads as the pool has connections.
//!
//! `web::block` gives each HTTP worker its own blocking pool: with two workers,
//! a request could wait behind its own worker's busy threads while the other
//! worker's threads slept, and each hand-off woke a sleeping thread (on a virtual
//! machine, a halted CPU). Under the prediction benchmark the two cores were
//! idle 20 % of the time with 16 requests in flight. One shared queue keeps
//! every database thread busy while there is work, in arrival order: the idle
//! time went, and the benchmark served about 8 % more predictions per second
//! (docs/PERFORMANCE.md, the 2026-11-29 04:50 section).

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

/// The threads and their queue; they stop when the executor is dropped (after
/// finishing what was queued).
pub struct Executor {
    shared: Arc<Shared>,
}

/// Why a job gave no answer.
#[derive(Debug)]
pub enum ExecError {
    /// The job panicked (its thread carries on with the next one).
    Panicked,
    /// The executor was shutting down.
    Closed,
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::Panicked => f.write_str("the database task panicked"),
            ExecError::Closed => f.write_str("the database threads have stopped"),
        }
    }
}

impl Executor {
    /// Starts `threads` threads (at least one).
    pub fn new(threads: usize) -> std::io::Result<Executor> {
        let shared = Arc::new(Shared::default());
        for i in 0..threads.max(1) {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("atrium-db-{i}"))
                .spawn(move || work(&shared))?;
        }
        Ok(Executor { shared })
    }

    /// Runs `f` on a database thread; the answer comes back to the awaiting task.
    pub async fn run<F, T>(&self, f: F) -> Result<T, ExecError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // A panic drops `tx`, which the awaiting side sees as `Panicked`.
            if let Ok(value) = std::panic::catch_unwind(AssertUnwindSafe(f)) {
                let _ = tx.send(value);
            }
        });
        {
            let mut queue = self.lock();
            if queue.closed {
                return Err(ExecError::Closed);
            }
            queue.jobs.push_back(job);
        }
        self.shared.ready.notify_one();
        rx.await.map_err(|_| ExecError::Panicked)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

/// A thread's loop: the oldest job first; exits once closed and drained.
fn work(shared: &Shared) {
    loop {
        let job = {
            let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break job;
                }
                if queue.closed {
                    return;
                }
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        job();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn jobs_run_and_answer() {
        let exec = Executor::new(2).unwrap();
        let name = exec
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("atrium-db-"));
        let exec = Arc::new(exec);
        let tasks: Vec<_> = (0..50_u64)
            .map(|i| {
                let exec = Arc::clone(&exec);
                actix_web::rt::spawn(async move { exec.run(move || i * 2).await.unwrap() })
            })
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        assert_eq!(sum, (0..50).map(|i| i * 2).sum::<u64>());
    }

    #[actix_web::test]
    async fn a_panicking_job_is_an_error_and_the_threads_carry_on() {
        let exec = Executor::new(1).unwrap();
        let failed = exec.run(|| -> u8 { panic!("boom") }).await;
        assert!(matches!(failed, Err(ExecError::Panicked)));
        assert_eq!(exec.run(|| 7).await.unwrap(), 7);
    }

    #[test]
    fn threads_stop_when_the_executor_is_dropped() {
        let exec = Executor::new(3).unwrap();
        let weak = Arc::downgrade(&exec.shared);
        drop(exec);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while weak.strong_count() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "threads still running"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}
