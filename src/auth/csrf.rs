//! CSRF protection for every state-changing browser request: a random token per
//! session, sent back in the `csrf_token` form field or the `X-CSRF-Token` header
//! (htmx sends it from `<body hx-headers>`), compared in constant time by one
//! middleware. The `/v2` API takes no cookies, so it is exempt.

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use subtle::ConstantTimeEq;

use crate::auth::session::CSRF;
use crate::error::AppError;

/// Name of the hidden form field.
pub const FIELD: &str = "csrf_token";
/// Name of the request header.
pub const HEADER: &str = "x-csrf-token";

/// A new random token.
pub fn new_token() -> String {
    crate::models::random_id(43)
}

/// The session's token, created when the session has none yet.
pub fn ensure_token(session: &Session) -> Result<String, AppError> {
    if let Ok(Some(t)) = session.get::<String>(CSRF) {
        return Ok(t);
    }
    let t = new_token();
    session
        .insert(CSRF, &t)
        .map_err(|e| AppError::internal(format!("session: {e}")))?;
    Ok(t)
}

fn exempt(path: &str) -> bool {
    path.starts_with("/v2/") || path == "/v2" || path.starts_with("/static/") || is_saml_acs(path)
}

/// `/sso/{org}/acs`: the identity provider's page posts here cross-site, without
/// our token; the signed response answering a stored request is the check.
fn is_saml_acs(path: &str) -> bool {
    path.strip_prefix("/sso/")
        .and_then(|rest| rest.strip_suffix("/acs"))
        .is_some_and(|org| !org.is_empty() && !org.contains('/'))
}

fn safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn matches(expected: &str, provided: &str) -> bool {
    !expected.is_empty() && expected.as_bytes().ct_eq(provided.as_bytes()).into()
}

/// The middleware: refuses an unsafe request without the session's token (403).
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if safe(req.method()) || exempt(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let expected = req
        .get_session()
        .get::<String>(CSRF)
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut provided = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if provided.is_none() {
        provided = query_token(req.query_string());
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if provided.is_none() && is_form {
        let bytes = req.extract::<Bytes>().await?;
        provided = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
        req.set_payload(bytes.into());
    }
    if provided.is_some_and(|p| matches(&expected, &p)) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    tracing::warn!(path = %req.path(), "refused a request without a valid CSRF token");
    let err = AppError::Forbidden(
        "This form expired or did not come from this site. Reload the page and try again."
            .to_owned(),
    );
    let (http_req, _) = req.into_parts();
    let res = actix_web::ResponseError::error_response(&err);
    Ok(ServiceResponse::new(http_req, res).map_into_right_body())
}

fn query_token(query: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        let t = new_token();
        assert_eq!(t.len(), 43);
        assert!(matches(&t, &t));
        assert!(!matches(&t, &t[..42]));
        assert!(!matches("", ""));
        assert_eq!(query_token("a=1&csrf_token=xyz").as_deref(), Some("xyz"));
        assert!(exempt("/sso/acme/acs"));
        assert!(!exempt("/sso/acme/x/acs") && !exempt("/sso//acs") && !exempt("/sso"));
    }
}
