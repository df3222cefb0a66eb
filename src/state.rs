//! The application state every handler receives: configuration, the database
//! pool, the mailer and the counters behind `/metrics`.

use std::sync::Arc;

use crate::config::Config;
use crate::db::Pool;
use crate::mail::Mailer;
use crate::metrics::Metrics;

/// Shared by every worker (behind `web::Data`).
pub struct AppState {
    pub config: Config,
    pub pool: Pool,
    pub metrics: Arc<Metrics>,
    /// Outgoing mail (SMTP or the outbox folder).
    pub mailer: Mailer,
}
