//! Personal access tokens (PATs). The secret is shown once at creation; only its
//! SHA-256 is stored, so a leaked database does not leak usable tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::api_keys;
use crate::db::DbConn;
use crate::models::{now, random_id, UserId};

/// A stored token (never its secret).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: i64,
    pub key_id: String,
    pub user_id: i64,
    pub description: String,
    pub scopes: String,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A freshly created token and its secret (to show once).
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

/// Hashes a token secret for storage and lookup.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

/// Longest token description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 200;

/// Checks a token's description; the message is shown next to the field.
pub fn validate_description(raw: &str) -> Result<String, String> {
    let d = raw.trim();
    if d.is_empty() {
        return Err("Describe what the token is for, so you can recognise it later.".to_owned());
    }
    if d.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(format!(
            "Descriptions are at most {MAX_DESCRIPTION_LEN} characters."
        ));
    }
    if d.chars().any(char::is_control) {
        return Err("Descriptions cannot contain control characters.".to_owned());
    }
    Ok(d.to_owned())
}

/// Checks requested scopes: at least one, each a known scope. Returns them without
/// duplicates, in the order of [`crate::auth::policy::SCOPES`].
pub fn validate_scopes(requested: &[String]) -> Result<Vec<String>, String> {
    use crate::auth::policy::{is_known_scope, SCOPES};
    if let Some(bad) = requested.iter().find(|s| !is_known_scope(s.trim())) {
        let shown: String = bad.chars().take(40).collect();
        let known: Vec<&str> = SCOPES.iter().map(|(s, _)| *s).collect();
        return Err(format!(
            "Unknown scope \"{shown}\". Known scopes: {}.",
            known.join(", ")
        ));
    }
    let scopes: Vec<String> = SCOPES
        .iter()
        .filter(|(s, _)| requested.iter().any(|r| r.trim() == *s))
        .map(|(s, _)| (*s).to_owned())
        .collect();
    if scopes.is_empty() {
        return Err("Choose at least one scope.".to_owned());
    }
    Ok(scopes)
}

/// Checks an expiry time: it must lie in the future.
pub fn validate_expiry(at: NaiveDateTime) -> Result<NaiveDateTime, String> {
    if at <= now() {
        return Err("The expiry must be in the future.".to_owned());
    }
    Ok(at)
}

impl ApiKey {
    /// The scopes the token carries.
    pub fn scope_list(&self) -> Vec<String> {
        self.scopes
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// True when the token has expired.
    pub fn is_expired(&self) -> bool {
        self.expires_at.is_some_and(|t| t <= now())
    }

    /// Creates a token for the user with the given scopes and optional expiry.
    pub fn create(
        conn: &mut DbConn,
        user: UserId,
        description: &str,
        scopes: &[String],
        expires_at: Option<NaiveDateTime>,
    ) -> QueryResult<CreatedKey> {
        // 40 random characters from a 36-letter alphabet: ~206 bits.
        let secret = random_id(40);
        let key = diesel::insert_into(api_keys::table)
            .values((
                api_keys::key_id.eq(random_id(16)),
                api_keys::user_id.eq(user.0),
                api_keys::description.eq(description),
                api_keys::secret_hash.eq(hash_secret(&secret)),
                api_keys::scopes.eq(scopes.join(",")),
                api_keys::expires_at.eq(expires_at),
                api_keys::created_at.eq(now()),
            ))
            .returning((
                api_keys::id,
                api_keys::key_id,
                api_keys::user_id,
                api_keys::description,
                api_keys::scopes,
                api_keys::expires_at,
                api_keys::last_used_at,
                api_keys::created_at,
            ))
            .get_result::<ApiKey>(conn)?;
        Ok(CreatedKey { key, secret })
    }

    /// Finds the token a secret belongs to (expired ones included; callers check).
    pub fn find_by_secret(conn: &mut DbConn, secret: &str) -> QueryResult<Option<ApiKey>> {
        api_keys::table
            .filter(api_keys::secret_hash.eq(hash_secret(secret)))
            .select(ApiKey::as_select())
            .first(conn)
            .optional()
    }

    /// The user's tokens, newest first.
    pub fn list_for_user(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<ApiKey>> {
        api_keys::table
            .filter(api_keys::user_id.eq(user.0))
            .order((api_keys::created_at.desc(), api_keys::id.desc()))
            .select(ApiKey::as_select())
            .load(conn)
    }

    /// Revokes (deletes) one of the user's tokens; false when there was none.
    pub fn revoke(conn: &mut DbConn, user: UserId, key_id: &str) -> QueryResult<bool> {
        diesel::delete(
            api_keys::table
                .filter(api_keys::user_id.eq(user.0))
                .filter(api_keys::key_id.eq(key_id)),
        )
        .execute(conn)
        .map(|n| n > 0)
    }

    /// Records that the token was used (at most about once a minute, to spare writes).
    pub fn touch(conn: &mut DbConn, key: &ApiKey) -> QueryResult<()> {
        let t = now();
        if key
            .last_used_at
            .is_some_and(|last| t - last < chrono::Duration::seconds(60))
        {
            return Ok(());
        }
        diesel::update(api_keys::table.find(key.id))
            .set(api_keys::last_used_at.eq(Some(t)))
            .execute(conn)
            .map(|_| ())
    }
}

/// Records a token's creation or revocation in its owner's organization's audit
/// log (users outside any organization have no log).
pub fn record_event(
    conn: &mut DbConn,
    actor: &crate::models::audit::AuditActor,
    user: UserId,
    kind: crate::models::audit::EventKind,
    key: &ApiKey,
) -> QueryResult<()> {
    use crate::models::audit::{self, AuditTarget};
    let Some(m) = crate::models::org::Membership::for_user(conn, user)? else {
        return Ok(());
    };
    audit::record(
        conn,
        Some(m.org_id),
        actor,
        kind,
        &AuditTarget::token(&key.key_id, &key.description),
        serde_json::json!({
            "scopes": key.scopes.split(',').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
            "expires_at": key.expires_at.map(|t| t.and_utc().to_rfc3339()),
        }),
    )
}

/// Creates a token and records it, in one transaction.
pub fn create_audited(
    conn: &mut DbConn,
    actor: &crate::models::audit::AuditActor,
    user: UserId,
    description: &str,
    scopes: &[String],
    expires_at: Option<NaiveDateTime>,
) -> QueryResult<CreatedKey> {
    crate::db::transaction(conn, |conn| {
        let created = ApiKey::create(conn, user, description, scopes, expires_at)?;
        record_event(
            conn,
            actor,
            user,
            crate::models::audit::EventKind::TokenCreate,
            &created.key,
        )?;
        Ok(created)
    })
}

/// Revokes one of the user's tokens by `key_id` and records it; false when the
/// user has no such token.
pub fn revoke_audited(
    conn: &mut DbConn,
    actor: &crate::models::audit::AuditActor,
    user: UserId,
    key_id: &str,
) -> QueryResult<bool> {
    crate::db::transaction(conn, |conn| {
        let key = api_keys::table
            .filter(api_keys::user_id.eq(user.0))
            .filter(api_keys::key_id.eq(key_id))
            .select(ApiKey::as_select())
            .first(conn)
            .optional()?;
        let Some(key) = key else {
            return Ok(false);
        };
        ApiKey::revoke(conn, user, key_id)?;
        record_event(
            conn,
            actor,
            user,
            crate::models::audit::EventKind::TokenRevoke,
            &key,
        )?;
        Ok(true)
    })
}
