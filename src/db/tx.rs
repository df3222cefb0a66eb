//! The one way to open a transaction: on SQLite it begins `IMMEDIATE`.
//!
//! diesel's `Connection::transaction` begins SQLite transactions `DEFERRED`: the
//! write lock is taken at the first write, not at `BEGIN`. A transaction that
//! reads first and then writes fails at once with `SQLITE_BUSY` ("database is
//! locked", without waiting for `busy_timeout`) when another connection has
//! committed a write since the read: SQLite cannot upgrade a read snapshot that
//! is no longer the latest. Under concurrent writers (a training job finishing
//! while someone edits the model) that surfaced as a 500. `BEGIN IMMEDIATE`
//! takes the write lock first, waiting for it through the busy timeout, so the
//! reads inside the transaction are always of the latest state.
//!
//! Nested calls (a transaction inside one already open) are savepoints, as with
//! diesel's own method; PostgreSQL keeps diesel's `BEGIN` (row locks wait there).

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::Error;
use diesel::Connection;

use super::DbConn;

type Manager = <DbConn as Connection>::TransactionManager;

/// Runs `f` inside a transaction: committed when it returns `Ok`, rolled back
/// when it returns `Err` (the error is returned as is).
pub fn transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<Error>,
{
    begin(conn)?;
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(user_error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// `BEGIN IMMEDIATE` for an outermost SQLite transaction; otherwise what diesel
/// does (a savepoint when nested, `BEGIN` on PostgreSQL).
fn begin(conn: &mut DbConn) -> Result<(), Error> {
    if let DbConn::Sqlite(inner) = conn {
        let depth =
            AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth()?;
        if depth.is_none() {
            return AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE");
        }
    }
    Manager::begin_transaction(conn)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use diesel::connection::SimpleConnection;
    use diesel::r2d2::ManageConnection;
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;

    use super::*;
    use crate::db::Manager;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn open(path: &std::path::Path) -> DbConn {
        Manager::new(path.to_str().unwrap(), Default::default())
            .connect()
            .unwrap()
    }

    fn counter(conn: &mut DbConn) -> i64 {
        diesel::sql_query("SELECT n FROM counter")
            .get_result::<Count>(conn)
            .unwrap()
            .n
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("atrium-tx-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tx.db");
        open(&path)
            .batch_execute(
                "CREATE TABLE counter (n BIGINT NOT NULL); INSERT INTO counter VALUES (0);",
            )
            .unwrap();
        path
    }

    /// A read-modify-write transaction on SQLite, with another writer committing
    /// between its read and its write: with a deferred `BEGIN` the write fails
    /// with "database is locked"; here the other writer waits, and no update is lost.
    #[test]
    fn a_read_then_write_transaction_survives_a_concurrent_writer() {
        let path = scratch("rmw");
        let (read_done, other_may_write) = mpsc::channel();
        let other_path = path.clone();
        let other = std::thread::spawn(move || {
            let mut conn = open(&other_path);
            other_may_write.recv().unwrap();
            diesel::sql_query("UPDATE counter SET n = n + 10")
                .execute(&mut conn)
                .unwrap();
        });
        let mut conn = open(&path);
        let seen = transaction(&mut conn, |conn| {
            let n = counter(conn);
            read_done.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(150));
            diesel::sql_query(format!("UPDATE counter SET n = {}", n + 1)).execute(conn)?;
            Ok::<_, Error>(n)
        })
        .unwrap();
        other.join().unwrap();
        assert_eq!(seen, 0);
        assert_eq!(counter(&mut conn), 11, "both writes are kept, in order");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// An `Err` rolls back everything, nested transactions included; a nested
    /// transaction's `Err` rolls back only its savepoint.
    #[test]
    fn errors_roll_back_and_nested_transactions_are_savepoints() {
        let path = scratch("nest");
        let mut conn = open(&path);
        let add = |conn: &mut DbConn, k: i64| {
            diesel::sql_query(format!("UPDATE counter SET n = n + {k}")).execute(conn)
        };
        let outer: Result<(), Error> = transaction(&mut conn, |conn| {
            add(conn, 1)?;
            let inner: Result<(), Error> = transaction(conn, |conn| {
                add(conn, 100)?;
                Err(Error::RollbackTransaction)
            });
            assert!(inner.is_err());
            transaction(conn, |conn| add(conn, 20).map(|_| ()))
        });
        outer.unwrap();
        assert_eq!(counter(&mut conn), 21);
        let failed: Result<(), Error> = transaction(&mut conn, |conn| {
            add(conn, 5)?;
            Err(Error::NotFound)
        });
        assert!(matches!(failed, Err(Error::NotFound)));
        assert_eq!(
            counter(&mut conn),
            21,
            "the failed transaction left nothing"
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
