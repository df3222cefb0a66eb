//! Rows, inserts, changesets and the queries that belong to them, one file per
//! table group. Models never turn a database error into `None`.

pub mod account;
pub mod app;
pub mod app_list;
pub mod audit;
pub mod audit_search;
pub mod concept;
pub mod content_edit;
pub mod granted;
pub mod identity_provider;
pub mod input;
pub mod invitation;
pub mod job;
pub mod labels;
pub mod member_list;
pub mod ml_model;
pub mod model_audit;
pub mod model_lookup;
pub mod org;
pub mod password_policy;
pub mod password_reset;
pub mod sso;
pub mod team;
pub mod throttle;
pub mod token;
pub mod two_factor;
pub mod user;
pub mod user_session;
pub mod version;

use chrono::{NaiveDateTime, Utc};

/// The current time as stored in the database (UTC, microsecond precision on both backends).
pub fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    t.with_nanosecond_truncated()
}

trait TruncateNanos {
    fn with_nanosecond_truncated(self) -> Self;
}

impl TruncateNanos for NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike;
        let micros = self.nanosecond() / 1_000 * 1_000;
        self.with_nanosecond(micros).unwrap_or(self)
    }
}

/// A random URL-safe identifier of `len` characters (lower-case letters and digits).
pub fn random_id(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Typed ids, so that one kind of id cannot be passed where another is expected.
macro_rules! id_type {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);
    )*};
}

id_type!(
    /// Primary key of a user (also its `accounts` row).
    UserId,
    /// Primary key of an organization (also its `accounts` row).
    OrgId,
    /// Primary key of an app.
    AppId,
    /// Primary key of an `accounts` row: a user or an organization.
    AccountId,
    /// Primary key of a concept (its public id is `concept_id`).
    ConceptKey,
    /// Primary key of an input (its public id is `input_id`).
    InputKey,
    /// Primary key of a model (its public id is `model_id`).
    ModelKey,
    /// Primary key of a model version (its public id is `version_id`).
    VersionKey,
    /// Primary key of a background job.
    JobId,
);
