//! Reading the audit trail back: one organization's events filtered by member,
//! event type, target, outcome and time, newest first, a page at a time (the
//! Audit log screen, its CSV export and `POST /v2/users/{U}/audit_log/searches`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{accounts, audit_events};
use crate::db::DbConn;
use crate::models::audit::AuditEvent;
use crate::models::OrgId;

/// Longest page the API lets a client ask for.
pub const MAX_PER_PAGE: i64 = 1000;

/// What to look for. Empty lists and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Member handles: events they did, or that were done to them.
    pub members: Vec<String>,
    /// Stored event type names (`member.remove`, ...).
    pub kinds: Vec<String>,
    /// Target ids or labels (an invitation's id or e-mail, a token id, ...).
    pub targets: Vec<String>,
    /// Only successful (or only refused) attempts.
    pub success: Option<bool>,
    /// Inclusive lower bound.
    pub from: Option<NaiveDateTime>,
    /// Exclusive upper bound.
    pub to: Option<NaiveDateTime>,
}

/// One page of results; `has_more` when a next page exists.
#[derive(Debug)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub has_more: bool,
}

/// The events of `org` that match `q`, page `page` (from 1) of `per_page`.
pub fn search(
    conn: &mut DbConn,
    org: OrgId,
    q: &AuditQuery,
    page: i64,
    per_page: i64,
) -> QueryResult<AuditPage> {
    // Callers bound `per_page` (the API to MAX_PER_PAGE, the CSV export to its own).
    let per_page = per_page.max(1);
    let offset = (page.max(1) - 1).saturating_mul(per_page);
    // Handles that still name an account: match by id (stable); every handle is
    // also matched by the label kept on the event (deleted users).
    let ids: Vec<i64> = if q.members.is_empty() {
        Vec::new()
    } else {
        accounts::table
            .filter(accounts::handle.eq_any(&q.members))
            .select(accounts::id)
            .load(conn)?
    };
    let id_texts: Vec<String> = ids.iter().map(i64::to_string).collect();
    let mut query = audit_events::table
        .filter(audit_events::org_id.eq(org.0))
        .into_boxed();
    if !q.members.is_empty() {
        query = query.filter(
            audit_events::actor_user_id
                .eq_any(ids.clone())
                .or(audit_events::target_kind
                    .eq("user")
                    .and(audit_events::target_id.eq_any(id_texts)))
                .or(audit_events::actor_label.eq_any(q.members.clone()))
                .or(audit_events::target_kind
                    .eq("user")
                    .and(audit_events::target_label.eq_any(q.members.clone()))),
        );
    }
    if !q.kinds.is_empty() {
        query = query.filter(audit_events::event_type.eq_any(q.kinds.clone()));
    }
    if !q.targets.is_empty() {
        query = query.filter(
            audit_events::target_id
                .eq_any(q.targets.clone())
                .or(audit_events::target_label.eq_any(q.targets.clone())),
        );
    }
    if let Some(ok) = q.success {
        query = query.filter(audit_events::success.eq(ok));
    }
    if let Some(from) = q.from {
        query = query.filter(audit_events::created_at.ge(from));
    }
    if let Some(to) = q.to {
        query = query.filter(audit_events::created_at.lt(to));
    }
    let mut events = query
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(per_page + 1)
        .offset(offset)
        .select(AuditEvent::as_select())
        .load(conn)?;
    let has_more = events.len() as i64 > per_page;
    events.truncate(per_page as usize);
    Ok(AuditPage { events, has_more })
}

/// A CSV cell that a spreadsheet will not run as a formula: a leading `=`, `+`,
/// `-`, `@`, tab or carriage return gets a `'` in front (OWASP's advice). Quoting
/// of commas, quotes and newlines is the CSV writer's job.
pub fn csv_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// The header and rows of the CSV export.
pub fn to_csv(events: &[AuditEvent]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    w.write_record([
        "time",
        "event",
        "success",
        "actor",
        "target_kind",
        "target_id",
        "target",
        "source_ip",
        "details",
    ])?;
    for e in events {
        let time = e
            .created_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let cells = [
            time,
            e.event_type.clone(),
            e.success.to_string(),
            e.actor_label.clone(),
            e.target_kind.clone(),
            e.target_id.clone(),
            e.target_label.clone(),
            e.source_ip.clone(),
            e.details.clone(),
        ];
        w.write_record(cells.iter().map(|c| csv_safe(c)))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::csv_safe;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("+1"), "'+1");
        assert_eq!(csv_safe("-2"), "'-2");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("alice"), "alice");
        assert_eq!(csv_safe(""), "");
    }
}
