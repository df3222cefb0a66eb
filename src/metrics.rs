//! Counters exported on `/metrics` in the Prometheus text format.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::state::AppState;

/// Process-wide counters of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// SQL statements started by the pool's connections.
    pub db_queries: Arc<AtomicU64>,
    pub requests: AtomicU64,
    pub responses_4xx: AtomicU64,
    pub responses_5xx: AtomicU64,
}

impl Metrics {
    /// Statements run so far.
    pub fn queries(&self) -> u64 {
        self.db_queries.load(Ordering::Relaxed)
    }
}

/// Middleware counting requests and error responses.
pub async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| Arc::clone(&s.metrics));
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        m.requests.fetch_add(1, Ordering::Relaxed);
        let status = res.status().as_u16();
        if (400..500).contains(&status) {
            m.responses_4xx.fetch_add(1, Ordering::Relaxed);
        } else if status >= 500 {
            m.responses_5xx.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(res)
}

/// `GET /metrics`.
pub async fn render(state: web::Data<AppState>) -> HttpResponse {
    let m = &state.metrics;
    let pool = state.pool.state();
    let body = format!(
        "# HELP atrium_http_requests_total HTTP requests served.\n\
         # TYPE atrium_http_requests_total counter\n\
         atrium_http_requests_total {}\n\
         # HELP atrium_http_responses_4xx_total Responses with a 4xx status.\n\
         # TYPE atrium_http_responses_4xx_total counter\n\
         atrium_http_responses_4xx_total {}\n\
         # HELP atrium_http_responses_5xx_total Responses with a 5xx status.\n\
         # TYPE atrium_http_responses_5xx_total counter\n\
         atrium_http_responses_5xx_total {}\n\
         # HELP atrium_db_queries_total SQL statements executed.\n\
         # TYPE atrium_db_queries_total counter\n\
         atrium_db_queries_total {}\n\
         # HELP atrium_db_pool_connections Open database connections.\n\
         # TYPE atrium_db_pool_connections gauge\n\
         atrium_db_pool_connections {}\n\
         # HELP atrium_db_pool_idle Idle database connections.\n\
         # TYPE atrium_db_pool_idle gauge\n\
         atrium_db_pool_idle {}\n",
        m.requests.load(Ordering::Relaxed),
        m.responses_4xx.load(Ordering::Relaxed),
        m.responses_5xx.load(Ordering::Relaxed),
        m.queries(),
        pool.connections,
        pool.idle_connections,
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}
