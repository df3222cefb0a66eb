//! Atrium: a self-hosted portal where people and their organizations build and
//! manage machine-learning apps together. `main.rs` is the CLI; this crate builds
//! the server so that tests can start it too.

pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod config;
pub mod content;
pub mod db;
pub mod error;
pub mod mail;
pub mod metrics;
pub mod ml;
pub mod models;
pub mod routes;
pub mod saml;
pub mod state;
pub mod web;
pub mod worker;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::{CookieSessionStore, RedisSessionStore, SessionStore};
use actix_session::SessionMiddleware;
use actix_web::body::MessageBody;
use actix_web::cookie::{time, Key, SameSite};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Compress, Next};
use actix_web::web::Data;
use actix_web::{App, HttpServer};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::state::AppState;

/// Opens the database (running migrations) and builds the shared state.
pub fn build_state(config: Config) -> Result<Data<AppState>, String> {
    let metrics = Arc::new(Metrics::default());
    let pool = db::connect(
        &config.database_url,
        config.db_pool_size,
        Arc::clone(&metrics.db_queries),
    )?;
    let mailer = mail::Mailer::from_config(&config)?;
    tracing::info!(transport = %mailer.describe(), "mail");
    Ok(Data::new(AppState {
        config,
        pool,
        metrics,
        mailer,
        models: ml::cache::ModelCache::new(ml::cache::DEFAULT_CAPACITY),
        teams: Default::default(),
        jobs: Arc::default(),
    }))
}

/// Logs each request by its route pattern (never the raw path or query, which may
/// carry secrets such as invitation tokens), with a request id.
async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let request_id = models::random_id(12);
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    Ok(res)
}

fn session_middleware<S: SessionStore>(store: S, config: &Config) -> SessionMiddleware<S> {
    SessionMiddleware::builder(store, Key::from(&config.session_key))
        .cookie_name("atrium_session".to_owned())
        .cookie_secure(config.secure_cookies)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(time::Duration::days(14)))
        .build()
}

/// Blocking threads per worker, for the CPU work that is not the database's
/// (decoding and thumbnailing uploaded images): the worker's share of the cores.
fn blocking_threads(workers: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / workers.max(1)).max(1)
}

fn run_with<S, F>(
    state: Data<AppState>,
    listener: TcpListener,
    store: F,
    workers: usize,
) -> std::io::Result<Server>
where
    S: SessionStore + 'static,
    F: Fn() -> S + Clone + Send + 'static,
{
    let config = state.config.clone();
    let blocking = blocking_threads(workers);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(from_fn(auth::csrf::guard))
            .wrap(session_middleware(store(), &config))
            .wrap(from_fn(metrics::count))
            .wrap(Compress::default())
            .wrap(from_fn(log_requests))
            .configure(routes::configure)
    })
    .workers(workers)
    // Database work runs on the pool's own threads (db::run), one per connection;
    // each worker's blocking pool only decodes uploads, a core's worth at most.
    .worker_max_blocking_threads(blocking)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Starts serving on `listener` with the session store the configuration names
/// (Redis when `ATRIUM_REDIS_URL` is set, the encrypted cookie otherwise), and the
/// background job workers (they stop once the server has stopped).
pub async fn start(
    state: Data<AppState>,
    listener: TcpListener,
    workers: usize,
) -> Result<Server, String> {
    worker::spawn(&state.clone().into_inner());
    match state.config.redis_url.clone() {
        Some(url) => {
            // The store keeps retrying an unreachable server; give up with a clear error.
            let store = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                RedisSessionStore::new(url.clone()),
            )
            .await
            .map_err(|_| {
                format!(
                    "cannot reach Redis at {}: no answer within 10 s",
                    db::redact_url(&url)
                )
            })?
            .map_err(|e| format!("cannot reach Redis at {}: {e}", db::redact_url(&url)))?;
            run_with(state, listener, move || store.clone(), workers).map_err(|e| e.to_string())
        }
        None => run_with(state, listener, CookieSessionStore::default, workers)
            .map_err(|e| e.to_string()),
    }
}
