//! Persistence: one diesel `MultiConnection` over SQLite and PostgreSQL, an r2d2
//! pool, the embedded migrations, and the one helper that runs database work off
//! the async workers.

mod exec;
pub mod schema;
pub mod stamp;
mod tx;

pub use tx::transaction;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend the database URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Chooses the backend from the URL scheme (`sqlite:`/a path, or `postgres://`).
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Strips the `sqlite:` / `sqlite://` prefix so diesel receives a file path.
fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// r2d2 manager that picks the backend itself, so that a refused PostgreSQL
/// connection reports the real error rather than diesel's generic
/// "invalid connection url for multiconnection".
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    backend: Backend,
    queries: Arc<AtomicU64>,
}

impl Manager {
    pub fn new(url: &str, queries: Arc<AtomicU64>) -> Manager {
        Manager {
            url: url.to_owned(),
            backend: Backend::from_url(url),
            queries,
        }
    }

    /// Counts every statement a connection of this pool starts (exported on `/metrics`).
    fn instrument<C: Connection>(&self, conn: &mut C) {
        let queries = Arc::clone(&self.queries);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { .. } = event {
                queries.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}

/// Turns on SQLite's query planner stability guarantee (QPSG) for every connection
/// this process opens (registered once, as an SQLite auto-extension, because diesel
/// does not expose the raw handle).
///
/// Without it, SQLite (3.53) marks a statement whose bound `LIMIT ?` or `LIKE ?`
/// value could change its plan, and recompiles it whenever that parameter is bound
/// again — which diesel does on every execution of a cached statement. Every
/// `.first()`, every page query and every search was re-prepared on each use: a
/// quarter of the CPU time of the My Apps page. With the QPSG a statement keeps the
/// plan it was prepared with; our listings are planned by their indexes, not by
/// parameter values, so nothing is lost.
fn sqlite_stable_plans() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `enable_qpsg` has exactly the entry-point signature that
        // `sqlite3_auto_extension` expects, and is a plain function (never freed).
        let rc = unsafe { libsqlite3_sys::sqlite3_auto_extension(Some(enable_qpsg)) };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::warn!(
                code = rc,
                "could not register the SQLite planner setting; statements will be re-prepared"
            );
        }
    });
}

/// The auto-extension: runs inside `sqlite3_open_v2` for each new connection.
unsafe extern "C" fn enable_qpsg(
    db: *mut libsqlite3_sys::sqlite3,
    _err: *mut *mut std::ffi::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::ffi::c_int {
    // SAFETY: SQLite passes the connection being opened; SQLITE_DBCONFIG_ENABLE_QPSG
    // takes an int (1 = on) and an optional int* for the new state (none here).
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        );
    }
    libsqlite3_sys::SQLITE_OK
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Sqlite => {
                sqlite_stable_plans();
                let mut conn = SqliteConnection::establish(sqlite_path(&self.url))
                    .map_err(r2d2::Error::ConnectionError)?;
                self.instrument(&mut conn);
                // busy_timeout first: switching to WAL waits for a lock too (another
                // process may be checkpointing as its last connection closes).
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
            Backend::Postgres => {
                let mut conn =
                    PgConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
                self.instrument(&mut conn);
                Ok(DbConn::Pg(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// The shared pool: its connections, and the threads that use them (one per
/// connection, fed by one queue; see [`exec`]). It derefs to the r2d2 pool.
#[derive(Clone)]
pub struct Pool {
    connections: r2d2::Pool<Manager>,
    threads: Arc<exec::Executor>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;

    fn deref(&self) -> &Self::Target {
        &self.connections
    }
}

/// Opens the pool (creating the SQLite file's folder if needed) and runs pending migrations.
pub fn connect(url: &str, max_size: u32, queries: Arc<AtomicU64>) -> Result<Pool, String> {
    let backend = Backend::from_url(url);
    if backend == Backend::Sqlite {
        let path = std::path::Path::new(sqlite_path(url));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    let manager = Manager::new(url, queries);
    // Establish once directly so the operator sees the real reason a database is unreachable.
    let mut first = manager
        .connect()
        .map_err(|e| format!("cannot connect to the database ({}): {e}", redact_url(url)))?;
    migrate(&mut first)?;
    drop(first);
    let connections = r2d2::Pool::builder()
        .max_size(max_size)
        // Connections are opened as load needs them (one is kept ready) rather than
        // all at start, so idle instances do not hold a server's connection slots.
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        // A PostgreSQL connection can be cut by the server or the network, so it is
        // checked (`SELECT 1`) before each use; a SQLite connection is a file in
        // this process and cannot go stale, so it is not.
        .test_on_check_out(backend == Backend::Postgres)
        .build(manager)
        .map_err(|e| format!("cannot open the database pool: {e}"))?;
    let threads = exec::Executor::new(max_size as usize)
        .map_err(|e| format!("cannot start the database threads: {e}"))?;
    Ok(Pool {
        connections,
        threads: Arc::new(threads),
    })
}

/// One connection outside the pool (for operator commands).
pub fn open_one(url: &str) -> Result<DbConn, String> {
    Manager::new(url, Arc::default())
        .connect()
        .map_err(|e| format!("cannot connect to the database ({}): {e}", redact_url(url)))
}

/// Runs every pending migration of the connection's backend.
pub fn migrate(conn: &mut DbConn) -> Result<Vec<String>, String> {
    let applied = match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect()),
        DbConn::Pg(c) => c
            .run_pending_migrations(PG_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect()),
    };
    applied.map_err(|e| format!("migration failed: {e}"))
}

/// Hides a password in a database URL before it is printed.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Runs `f` with a pooled connection on a database thread: every diesel call
/// (and argon2) goes through here, never on an async worker.
pub async fn run<F, T>(pool: &Pool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    run_then(pool, f, Ok).await
}

/// Like [`run`], then `then` on the same thread once the connection is back in
/// the pool: for work that follows the database's (a prediction) without a
/// second hand-off to another thread and without holding a connection.
pub async fn run_then<F, G, T, U>(pool: &Pool, f: F, then: G) -> Result<U, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    G: FnOnce(T) -> Result<U, AppError> + Send + 'static,
    U: Send + 'static,
{
    let connections = pool.connections.clone();
    pool.threads
        .run(move || {
            let read = {
                let mut conn = connections
                    .get()
                    .map_err(|e| AppError::internal(format!("database pool: {e}")))?;
                f(&mut conn)?
            };
            then(read)
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
}

/// True when the error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(
            Backend::from_url("postgres://root@127.0.0.1/test"),
            Backend::Postgres
        );
        assert_eq!(Backend::from_url("sqlite:data/atrium.db"), Backend::Sqlite);
        assert_eq!(sqlite_path("sqlite:data/atrium.db"), "data/atrium.db");
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), "/tmp/x.db");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://root@h/db"), "postgres://root@h/db");
    }
}
