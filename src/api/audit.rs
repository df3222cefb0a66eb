//! `POST /v2/users/{U}/audit_log/searches`: an organization's audit trail for its
//! admins (everyone else gets 11101, as if the organization did not exist):
//! `query{timestamp_from, timestamp_to, user_ids, operations, targets, success}`
//! and `pagination{page, per_page}` → `entries[]`, newest first.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::orgs::load_org;
use crate::api::status::{ok, ApiError};
use crate::api::{parse_body, shorten, timestamp};
use crate::auth::policy::Action;
use crate::models::audit::{AuditEvent, EventKind};
use crate::models::audit_search::{self, AuditQuery, MAX_PER_PAGE};
use crate::state::AppState;

/// Entries per page when the request does not say.
const DEFAULT_PER_PAGE: i64 = 128;
/// Most values one list filter takes.
const MAX_LIST: usize = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QueryIn {
    timestamp_from: Option<String>,
    timestamp_to: Option<String>,
    user_ids: Vec<String>,
    operations: Vec<String>,
    targets: Vec<String>,
    success: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PaginationIn {
    page: Option<i64>,
    per_page: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchBody {
    query: QueryIn,
    pagination: PaginationIn,
    /// Also accepted at the top level, as list endpoints take them.
    page: Option<i64>,
    per_page: Option<i64>,
}

fn parse_time(field: &str, raw: &Option<String>) -> Result<Option<NaiveDateTime>, ApiError> {
    let Some(raw) = raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.naive_utc()))
        .map_err(|_| {
            ApiError::invalid(format!(
                "query.{field} must be an RFC 3339 time such as 2026-01-31T00:00:00Z, not \"{}\".",
                shorten(raw, 40)
            ))
        })
}

fn bounded(field: &str, list: Vec<String>) -> Result<Vec<String>, ApiError> {
    if list.len() > MAX_LIST {
        return Err(ApiError::invalid(format!(
            "query.{field} takes at most {MAX_LIST} values."
        )));
    }
    Ok(list
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

fn count(field: &str, v: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match v {
        None | Some(0) => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(format!(
            "{field} must be between 1 and {max}."
        ))),
    }
}

/// One entry as the API shows it.
fn entry_json(e: &AuditEvent) -> Value {
    json!({
        "id": e.id.to_string(),
        "timestamp": timestamp(&e.created_at),
        "operation": e.event_type,
        "success": e.success,
        "user": { "id": e.actor_label },
        "source_ip": e.source_ip,
        "target": { "kind": e.target_kind, "id": e.target_id, "name": e.target_label },
        "details": e.details_json(),
    })
}

/// `POST /v2/users/{U}/audit_log/searches` (U = the organization; `orgs:read`).
pub async fn search(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, user.resolve(&path), Action::ViewSecurity).await?;
    let body: SearchBody = parse_body(&body)?;
    let q = body.query;
    let from = parse_time("timestamp_from", &q.timestamp_from)?;
    let to = parse_time("timestamp_to", &q.timestamp_to)?;
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(ApiError::invalid(
                "query.timestamp_to is before query.timestamp_from.",
            ));
        }
    }
    let operations = bounded("operations", q.operations)?;
    if let Some(bad) = operations.iter().find(|o| EventKind::parse(o).is_none()) {
        return Err(ApiError::invalid(format!(
            "query.operations: \"{}\" is not an audit operation; use one of {}.",
            shorten(bad, 60),
            EventKind::ALL.map(EventKind::as_str).join(", ")
        )));
    }
    let members: Vec<String> = bounded("user_ids", q.user_ids)?
        .into_iter()
        .map(|u| u.to_lowercase())
        .collect();
    let query = AuditQuery {
        members,
        kinds: operations,
        targets: bounded("targets", q.targets)?,
        success: q.success,
        from,
        to,
    };
    let page = count(
        "pagination.page",
        body.pagination.page.or(body.page),
        1,
        1_000_000,
    )?;
    let per_page = count(
        "pagination.per_page",
        body.pagination.per_page.or(body.per_page),
        DEFAULT_PER_PAGE,
        MAX_PER_PAGE,
    )?;
    let org_id = org.id;
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(audit_search::search(conn, org_id, &query, page, per_page)?)
    })
    .await?;
    let entries: Vec<Value> = found.events.iter().map(entry_json).collect();
    Ok(ok(
        json!({ "entries": entries, "has_more": found.has_more }),
    ))
}
