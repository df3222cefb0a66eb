//! The application state every handler receives: configuration, the database
//! pool, the mailer, the counters behind `/metrics`, the cache of trained models
//! and the signal that wakes the job workers.

use std::sync::Arc;

use crate::config::Config;
use crate::db::Pool;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::ml::cache::ModelCache;
use crate::worker::JobSignal;

/// Shared by every worker (behind `web::Data`).
pub struct AppState {
    pub config: Config,
    pub pool: Pool,
    pub metrics: Arc<Metrics>,
    /// Outgoing mail (SMTP or the outbox folder).
    pub mailer: Mailer,
    /// Trained models kept in memory (bounded, least recently used goes first).
    pub models: ModelCache,
    /// Wakes this instance's job workers when a job is queued.
    pub jobs: Arc<JobSignal>,
    /// Members' team grants and restrictions, by the org's teams version.
    pub teams: Arc<crate::auth::teams::TeamAccessCache>,
}
