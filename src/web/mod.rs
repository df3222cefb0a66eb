//! The server-rendered screens, one file per area; each handler sits next to its
//! template struct. Full pages for plain requests, one block of the same template
//! for htmx requests.

pub mod account;
pub mod app_actions;
pub mod app_page;
pub mod apps;
pub mod audit_log;
pub mod concepts;
pub mod forms;
pub mod inputs;
pub mod invitations;
pub mod members;
pub mod model_page;
pub mod model_versions;
pub mod models;
pub mod orgs;
pub mod passwords;
pub mod profile;
pub mod security;
pub mod sessions;
pub mod sso;
pub mod sso_admin;
pub mod starred;
pub mod teams;
pub mod tokens;
pub mod two_factor;
pub mod two_factor_policy;
pub mod upload;

use std::collections::BTreeMap;

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::session::{SignedIn, Viewer};
use crate::error::AppError;

/// What the layout needs on every page: who is signed in, the CSRF token, a flash message.
pub struct Nav {
    pub user: Option<SignedIn>,
    pub csrf: String,
    pub flash: Option<String>,
}

const FLASH: &str = "flash";

impl Nav {
    /// Builds the layout context and takes the pending flash message.
    pub fn new(viewer: &Viewer) -> Nav {
        // `remove` marks the session changed even when the key is absent, which
        // would re-encrypt and re-send the session cookie on every page view.
        let flash = if viewer.session.contains_key(FLASH) {
            viewer
                .session
                .remove_as::<String>(FLASH)
                .and_then(Result::ok)
        } else {
            None
        };
        Nav {
            user: viewer.user.clone(),
            csrf: viewer.csrf.clone(),
            flash,
        }
    }

    /// Handle of the active profile, if signed in.
    pub fn active_handle(&self) -> &str {
        self.user.as_ref().map(|u| u.active_handle()).unwrap_or("")
    }

    /// True when the switcher is on the organization.
    pub fn acting_as_org(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.acting_as_org)
    }
}

/// Leaves a one-time message for the next page.
pub fn flash(session: &Session, message: impl Into<String>) {
    let _ = session.insert(FLASH, message.into());
}

/// Messages to show next to form fields, by field name.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub fn new() -> FieldErrors {
        FieldErrors::default()
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    /// Runs a validator; on error records its message and returns `None`.
    pub fn check<T>(&mut self, field: &'static str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.add(field, m);
                None
            }
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first message (for API-style summaries).
    pub fn first(&self) -> Option<(&'static str, &str)> {
        self.0.iter().next().map(|(k, v)| (*k, v.as_str()))
    }
}

/// True when htmx sent the request.
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("hx-request")
}

/// Renders a template as an HTML response with the given status.
pub fn render<T: Template>(
    status: actix_web::http::StatusCode,
    t: &T,
) -> Result<HttpResponse, AppError> {
    let body = t.render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::VARY, "HX-Request"))
        .body(body))
}

/// 200 with the rendered template.
pub fn page<T: Template>(t: &T) -> Result<HttpResponse, AppError> {
    render(actix_web::http::StatusCode::OK, t)
}

/// A form re-shown with its errors: 422 so scripts notice, htmx still swaps it.
pub fn invalid<T: Template>(t: &T) -> Result<HttpResponse, AppError> {
    render(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, t)
}

/// After a successful POST: a 303 for browsers, `HX-Redirect` for htmx.
pub fn redirect(req: &HttpRequest, to: &str) -> HttpResponse {
    if is_htmx(req) {
        HttpResponse::Ok()
            .insert_header(("HX-Redirect", to))
            .finish()
    } else {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, to))
            .finish()
    }
}

/// Percent-encodes a string for a query parameter.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A local path to return to after sign-in; anything else (other hosts, `//x`) becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Maps a policy refusal to the browser error.
pub fn denied(d: crate::auth::policy::Denied) -> AppError {
    use crate::auth::policy::Denied;
    match d {
        Denied::NotFound => AppError::NotFound,
        Denied::Forbidden(reason) => AppError::Forbidden(reason.to_owned()),
        Denied::MissingScope(s) => AppError::Forbidden(format!("Missing scope {s}")),
    }
}

/// The client's address, for the sign-in throttle and the audit trail. The TCP
/// peer's address, unless `trust_proxy` is on: then the last address in
/// `X-Forwarded-For`, the one the proxy in front of Atrium appended (entries
/// before it were sent by the client and prove nothing). Client-sent
/// `Forwarded` and `X-Forwarded-For` headers never count otherwise.
pub fn client_ip(req: &HttpRequest) -> String {
    let peer = || {
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned())
    };
    let trust = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|s| s.config.trust_proxy);
    if !trust {
        return peer();
    }
    forwarded_for(req).unwrap_or_else(peer)
}

/// The last entry of the request's `X-Forwarded-For` headers, when it is an IP address.
fn forwarded_for(req: &HttpRequest) -> Option<String> {
    let last = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .last()?;
    parse_ip(last).map(|ip| ip.to_string())
}

/// An IP address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678`.
fn parse_ip(raw: &str) -> Option<std::net::IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse() {
        return Some(ip);
    }
    if let Ok(sock) = raw.parse::<std::net::SocketAddr>() {
        return Some(sock.ip());
    }
    raw.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse().ok())
}

/// Formats a timestamp for the screens.
pub fn fmt_time(t: &chrono::NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    // Written out rather than with a `format` string, which is parsed on every call
    // (a listing formats one time per card).
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/acme/apps?q=1")), "/acme/apps?q=1");
        assert_eq!(safe_next(Some("//evil.com")), "/");
        assert_eq!(safe_next(Some("https://evil.com")), "/");
        assert_eq!(safe_next(Some("/\\evil.com")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(urlencode("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
    }

    #[test]
    fn forwarded_addresses_are_parsed_strictly() {
        assert_eq!(
            parse_ip("203.0.113.9").map(|i| i.to_string()).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            parse_ip("203.0.113.9:4711")
                .map(|i| i.to_string())
                .as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(
            parse_ip("[2001:db8::1]:443")
                .map(|i| i.to_string())
                .as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            parse_ip("2001:db8::1").map(|i| i.to_string()).as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(parse_ip("unknown"), None);
        assert_eq!(parse_ip("1.2.3.4; drop table"), None);
    }

    #[test]
    fn times_are_formatted_to_the_minute() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 3, 7)
            .and_then(|d| d.and_hms_micro_opt(4, 5, 59, 123_456))
            .expect("valid time");
        assert_eq!(fmt_time(&t), "2026-03-07 04:05 UTC");
        assert_eq!(fmt_time(&t), t.format("%Y-%m-%d %H:%M UTC").to_string());
    }
}
