//! The one integration test binary. Every test starts its own server on a
//! loopback port with a fresh database: a temporary SQLite file, or — when
//! `ATRIUM_TEST_DATABASE_URL` names a PostgreSQL server — a schema of its own.

mod support;

mod accounts;
mod apps;
mod cli;
mod content_policy;
mod inputs;
mod models;
mod orgs;
mod policy_table;
mod sessions;
mod training;
