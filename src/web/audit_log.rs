//! Security → **Audit log** of an organization (admins only: `ViewSecurity`, 404
//! for everyone else): every recorded event, filtered by member, event type and
//! date range, 50 a page, and the same selection as a CSV download (cells that a
//! spreadsheet would run as formulas are defused, `models::audit_search::csv_safe`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use crate::auth::policy::{can, Action, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::audit::{AuditEvent, EventKind};
use crate::models::audit_search::{self, AuditQuery};
use crate::models::org::Org;
use crate::models::AccountId;
use crate::state::AppState;
use crate::web::{denied, fmt_time, render, urlencode, FieldErrors, Nav};

/// Events per screen page.
const PER_PAGE: i64 = 50;
/// Most rows one CSV export holds.
const MAX_EXPORT: i64 = 10_000;

/// The filters as typed (kept as text so a bad date is shown back).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Filters {
    pub member: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub from: String,
    pub to: String,
    pub page: Option<i64>,
}

impl Filters {
    /// The query, or the fields that could not be read.
    fn query(&self) -> Result<AuditQuery, FieldErrors> {
        let mut errors = FieldErrors::new();
        let day = |raw: &str| -> Result<Option<NaiveDate>, String> {
            let raw = raw.trim();
            if raw.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| "Enter a date as YYYY-MM-DD.".to_owned())
        };
        let from = errors.check("from", day(&self.from)).flatten();
        let to = errors.check("to", day(&self.to)).flatten();
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                errors.add("to", "The end date is before the start date.");
            }
        }
        let kind = self.kind.trim();
        if !kind.is_empty() && EventKind::parse(kind).is_none() {
            errors.add("type", "Choose an event type from the list.");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let member = self.member.trim().trim_start_matches('@').to_lowercase();
        Ok(AuditQuery {
            members: if member.is_empty() {
                Vec::new()
            } else {
                vec![member]
            },
            kinds: if kind.is_empty() {
                Vec::new()
            } else {
                vec![kind.to_owned()]
            },
            targets: Vec::new(),
            success: None,
            from: from.and_then(|d| d.and_hms_opt(0, 0, 0)),
            // The whole end day is included.
            to: to
                .and_then(|d| d.succ_opt())
                .and_then(|d| d.and_hms_opt(0, 0, 0)),
        })
    }

    /// The query string of these filters (for paging and the export link).
    fn query_string(&self) -> String {
        format!(
            "member={}&type={}&from={}&to={}",
            urlencode(self.member.trim()),
            urlencode(self.kind.trim()),
            urlencode(self.from.trim()),
            urlencode(self.to.trim())
        )
    }
}

/// One row of the table.
pub struct Row {
    pub time: String,
    pub kind: String,
    pub kind_label: String,
    pub success: bool,
    pub actor: String,
    pub target: String,
    pub ip: String,
    pub details: String,
}

impl Row {
    fn from_event(e: &AuditEvent) -> Row {
        let details = match e.details_json() {
            serde_json::Value::Object(m) if !m.is_empty() => m
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        };
        Row {
            time: fmt_time(&e.created_at),
            kind: e.event_type.clone(),
            kind_label: e.type_label().to_owned(),
            success: e.success,
            actor: e.actor_label.clone(),
            target: if e.target_label.is_empty() {
                e.target_id.clone()
            } else {
                e.target_label.clone()
            },
            ip: e.source_ip.clone(),
            details,
        }
    }
}

#[derive(Template)]
#[template(path = "security/audit_log.html")]
struct AuditLogPage {
    nav: Nav,
    org: Org,
    show_members: bool,
    show_security: bool,
    show_teams: bool,
    filters: Filters,
    kinds: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
    rows: Vec<Row>,
    page: i64,
    has_next: bool,
    query: String,
}

/// Loads the org named in the path after checking that the viewer may see its
/// security settings (404 otherwise).
async fn load(state: &AppState, viewer: &Viewer, handle: &str) -> Result<Org, AppError> {
    viewer.require(&format!("/{handle}/account/security/audit-log"))?;
    let h = handle.to_owned();
    let org = crate::db::run(&state.pool, move |conn| Ok(Org::find_by_handle(conn, &h)?))
        .await?
        .ok_or(AppError::NotFound)?;
    can(
        &viewer.actor,
        Action::ViewSecurity,
        Target::Org(AccountId(org.id.0)),
    )
    .map_err(denied)?;
    Ok(org)
}

/// `GET /{org}/account/security/audit-log`
pub async fn index(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, AppError> {
    let org = load(&state, &viewer, &path).await?;
    let filters = filters.into_inner();
    let page = filters.page.unwrap_or(1).clamp(1, 1_000_000);
    let (rows, has_next, errors, status) = match filters.query() {
        Ok(q) => {
            let org_id = org.id;
            let found = crate::db::run(&state.pool, move |conn| {
                Ok(audit_search::search(conn, org_id, &q, page, PER_PAGE)?)
            })
            .await?;
            let rows = found.events.iter().map(Row::from_event).collect();
            (rows, found.has_more, FieldErrors::new(), StatusCode::OK)
        }
        Err(errors) => (Vec::new(), false, errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let target = Target::Org(AccountId(org.id.0));
    let page_view = AuditLogPage {
        nav: Nav::new(&viewer),
        show_members: can(&viewer.actor, Action::ViewMembers, target).is_ok(),
        show_security: true,
        show_teams: can(&viewer.actor, Action::ViewTeams, target).is_ok(),
        query: filters.query_string(),
        kinds: EventKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        filters,
        errors,
        rows,
        page,
        has_next,
        org,
    };
    render(status, &page_view)
}

/// `GET /{org}/account/security/audit-log.csv`: the filtered events, newest first.
pub async fn export(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, AppError> {
    let org = load(&state, &viewer, &path).await?;
    let q = filters.query().map_err(|e| {
        AppError::BadRequest(
            e.first()
                .map(|(_, m)| m.to_owned())
                .unwrap_or_else(|| "The filters could not be read.".to_owned()),
        )
    })?;
    let org_id = org.id;
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(audit_search::search(conn, org_id, &q, 1, MAX_EXPORT)?)
    })
    .await?;
    let body =
        audit_search::to_csv(&found.events).map_err(|e| AppError::internal(format!("csv: {e}")))?;
    let stamp: NaiveDateTime = crate::models::now();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"{}-audit-log-{}.csv\"",
                org.handle,
                stamp.format("%Y%m%d")
            ),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body))
}
