//! Personal access tokens over the API: `GET/POST /v2/users/{U}/keys`,
//! `GET/DELETE /v2/users/{U}/keys/{id}`, for the key's own user only. A new
//! key's secret is in the creation response (as its `id`, the platform's
//! convention) and nowhere else; listings show the public `key_id`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::status::{ok, ApiError};
use crate::api::{find_owner, parse_body, shorten, timestamp};
use crate::auth::policy::{can_grant_scope, can_self};
use crate::models::token::{validate_description, validate_expiry, validate_scopes, ApiKey};
use crate::state::AppState;

/// The only key type Atrium issues.
pub const KEY_TYPE: &str = "personal_access_token";
/// Most keys one request creates.
const MAX_BATCH: usize = 10;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct KeyIn {
    description: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PostKeysBody {
    keys: Option<Vec<KeyIn>>,
}

/// The JSON of a key; `secret` only right after creation.
fn key_json(key: &ApiKey, secret: Option<&str>) -> Value {
    let mut v = json!({
        "id": secret.unwrap_or(&key.key_id),
        "key_id": key.key_id,
        "type": KEY_TYPE,
        "description": key.description,
        "scopes": key.scope_list(),
        "created_at": timestamp(&key.created_at),
    });
    if let Some(t) = &key.expires_at {
        v["expires_at"] = json!(timestamp(t));
    }
    if let Some(t) = &key.last_used_at {
        v["last_used_at"] = json!(timestamp(t));
    }
    v
}

/// Checks that the path names the key's own user and that the key has `scope`.
async fn authorize(
    state: &AppState,
    user: &ApiUser,
    segment: &str,
    scope: &'static str,
) -> Result<(), ApiError> {
    let owner = find_owner(state, user.resolve(segment)).await?;
    can_self(&user.actor, owner.id, scope)?;
    Ok(())
}

/// Parses an RFC 3339 time into stored UTC.
fn parse_time(raw: &str) -> Result<NaiveDateTime, String> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.naive_utc())
        .map_err(|_| {
            format!(
                "\"{}\" is not an RFC 3339 time such as 2030-01-31T00:00:00Z.",
                shorten(raw, 40)
            )
        })
}

/// Validates one key of a `PostKeys` body.
fn validate_key(
    user: &ApiUser,
    input: &KeyIn,
    i: usize,
) -> Result<(String, Vec<String>, Option<NaiveDateTime>), ApiError> {
    let p = |field: &str, m: String| ApiError::invalid(format!("keys[{i}].{field}: {m}"));
    match input.kind.as_deref().map(str::trim) {
        None | Some("") | Some(KEY_TYPE) => {}
        Some(other) => {
            return Err(p(
                "type",
                format!(
                    "\"{}\" keys are not supported; use {KEY_TYPE}.",
                    shorten(other, 40)
                ),
            ))
        }
    }
    let description = validate_description(input.description.as_deref().unwrap_or(""))
        .map_err(|m| p("description", m))?;
    let scopes =
        validate_scopes(input.scopes.as_deref().unwrap_or(&[])).map_err(|m| p("scopes", m))?;
    for s in &scopes {
        can_grant_scope(&user.actor, s)?;
    }
    let expires_at = match input.expires_at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            parse_time(raw)
                .and_then(validate_expiry)
                .map_err(|m| p("expires_at", m))?,
        ),
    };
    Ok((description, scopes, expires_at))
}

/// `GET /v2/users/{U}/keys`: the user's keys, newest first (no secrets).
pub async fn list(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    authorize(&state, &user, &path, "keys:read").await?;
    let uid = user.id;
    let keys = crate::db::run(&state.pool, move |conn| {
        Ok(ApiKey::list_for_user(conn, uid)?)
    })
    .await?;
    let keys: Vec<Value> = keys.iter().map(|k| key_json(k, None)).collect();
    Ok(ok(json!({ "keys": keys })))
}

/// `GET /v2/users/{U}/keys/{key_id}`
pub async fn get(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (u, key_id) = path.into_inner();
    authorize(&state, &user, &u, "keys:read").await?;
    let uid = user.id;
    let keys = crate::db::run(&state.pool, move |conn| {
        Ok(ApiKey::list_for_user(conn, uid)?)
    })
    .await?;
    match keys.iter().find(|k| k.key_id == key_id) {
        Some(k) => Ok(ok(json!({ "key": key_json(k, None) }))),
        None => Err(ApiError::not_found(format!(
            "You have no key with the id \"{}\".",
            shorten(&key_id, 40)
        ))),
    }
}

/// `POST /v2/users/{U}/keys`: `{"keys": [{"description", "scopes": [...], "expires_at"}]}`.
/// All the keys are created or none; a key cannot carry a scope the caller's lacks.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    authorize(&state, &user, &path, "keys:write").await?;
    let body: PostKeysBody = parse_body(&body)?;
    let inputs = body.keys.unwrap_or_default();
    if inputs.is_empty() {
        return Err(ApiError::invalid("keys: give at least one key to create."));
    }
    if inputs.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "keys: create at most {MAX_BATCH} keys per request."
        )));
    }
    let validated = inputs
        .iter()
        .enumerate()
        .map(|(i, k)| validate_key(&user, k, i))
        .collect::<Result<Vec<_>, _>>()?;
    let uid = user.id;
    let actor = crate::api::audit_actor(&req, &user);
    let created = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<_, diesel::result::Error, _>(
            conn,
            |conn| {
                validated
                    .iter()
                    .map(|(d, s, e)| {
                        crate::models::token::create_audited(conn, &actor, uid, d, s, *e)
                    })
                    .collect::<Result<Vec<_>, _>>()
            },
        )?)
    })
    .await?;
    tracing::info!(
        user_id = uid.0,
        count = created.len(),
        "keys created through the API"
    );
    let keys: Vec<Value> = created
        .iter()
        .map(|c| key_json(&c.key, Some(&c.secret)))
        .collect();
    Ok(ok(json!({ "keys": keys })))
}

/// `DELETE /v2/users/{U}/keys/{id}`: revokes a key, named by its `key_id` (or by the
/// `id` its creation returned).
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (u, key) = path.into_inner();
    authorize(&state, &user, &u, "keys:write").await?;
    let uid = user.id;
    let actor = crate::api::audit_actor(&req, &user);
    let shown = shorten(&key, 40);
    let revoked = crate::db::run(&state.pool, move |conn| {
        if crate::models::token::revoke_audited(conn, &actor, uid, &key)? {
            return Ok(true);
        }
        match ApiKey::find_by_secret(conn, &key)? {
            Some(k) if k.user_id == uid.0 => Ok(crate::models::token::revoke_audited(
                conn, &actor, uid, &k.key_id,
            )?),
            _ => Ok(false),
        }
    })
    .await?;
    if !revoked {
        return Err(ApiError::not_found(format!(
            "You have no key with the id \"{shown}\"."
        )));
    }
    tracing::info!(user_id = uid.0, "key revoked through the API");
    Ok(ok(json!({})))
}
