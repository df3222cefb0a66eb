//! The `status` envelope every `/v2` response carries, success or error
//! (`{"status": {"code", "description", "details", "req_id"}}`), the status codes
//! the hosted platform's clients know, and [`ApiError`], the one error type of
//! the API handlers. The JSON channel of the platform's client ignores the HTTP
//! status and reads this body, so an error is never anything but this JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

use crate::auth::policy::Denied;
use crate::error::AppError;

/// Status codes (the subset `API-NOTES.md` lists, plus the few the API uses).
pub mod code {
    /// The request succeeded.
    pub const SUCCESS: u32 = 10000;
    /// A failure no other code describes.
    pub const FAILURE: u32 = 10020;
    /// Too many requests.
    pub const CONN_THROTTLED: u32 = 11005;
    /// The key lacks a scope, or the caller's role does not allow the action.
    pub const CONN_INSUFFICIENT_SCOPES: u32 = 11007;
    /// No usable key was sent, or it expired.
    pub const CONN_KEY_INVALID: u32 = 11008;
    /// No key has this secret (never existed, or revoked).
    pub const CONN_KEY_NOT_FOUND: u32 = 11009;
    /// The body or query string could not be read.
    pub const CONN_BAD_REQUEST_FORMAT: u32 = 11100;
    /// The resource does not exist, or the caller may not know it does.
    pub const CONN_DOES_NOT_EXIST: u32 = 11101;
    /// A value was refused; the details name the field.
    pub const CONN_INVALID_REQUEST: u32 = 11102;
    /// The endpoint does not take this HTTP method.
    pub const CONN_METHOD_NOT_ALLOWED: u32 = 11103;
    /// The model has no trained version to predict with.
    pub const MODEL_UNTRAINED: u32 = 21102;
    /// The model does not exist, or the caller may not know it does.
    pub const MODEL_DOES_NOT_EXIST: u32 = 21200;
    /// An input was stored.
    pub const INPUT_SUCCESS: u32 = 30000;
    /// The input does not exist.
    pub const INPUT_DOES_NOT_EXIST: u32 = 30102;
    /// An id is taken.
    pub const DATABASE_DUPLICATE_KEY: u32 = 40010;
    /// The password breaks the password policy (the violations say which rules).
    pub const PASSWORD_VALIDATION_FAILED: u32 = 61001;
    /// Something broke on the server.
    pub const INTERNAL_SERVER_ISSUE: u32 = 98004;
}

/// The short description that goes with a code.
pub fn description(code: u32) -> &'static str {
    match code {
        code::SUCCESS => "Ok",
        code::CONN_THROTTLED => "Too many requests",
        code::CONN_INSUFFICIENT_SCOPES => "Insufficient scopes",
        code::CONN_KEY_INVALID => "Invalid API key",
        code::CONN_KEY_NOT_FOUND => "API key not found",
        code::CONN_BAD_REQUEST_FORMAT => "Bad request format",
        code::CONN_DOES_NOT_EXIST => "Resource does not exist",
        code::CONN_INVALID_REQUEST => "Invalid request",
        code::CONN_METHOD_NOT_ALLOWED => "Method not allowed",
        code::MODEL_UNTRAINED => "Model has not been trained",
        code::MODEL_DOES_NOT_EXIST => "Model does not exist",
        code::INPUT_SUCCESS => "Input successfully processed",
        code::INPUT_DOES_NOT_EXIST => "Input does not exist",
        code::DATABASE_DUPLICATE_KEY => "Duplicate key",
        code::PASSWORD_VALIDATION_FAILED => "Password validation failed",
        code::INTERNAL_SERVER_ISSUE => "Internal server issue",
        c @ 21100..=21199 => crate::models::version::status::description(c as i32),
        _ => "Failure",
    }
}

/// A fresh request id for the envelope.
fn req_id() -> String {
    crate::models::random_id(16)
}

/// The `status` object itself.
pub fn status_value(code: u32, details: &str) -> Value {
    json!({
        "code": code,
        "description": description(code),
        "details": details,
        "req_id": req_id(),
    })
}

/// A whole error body: `{"status": {...}}`.
pub fn envelope(code: u32, details: &str) -> Value {
    json!({ "status": status_value(code, details) })
}

/// 200 with `{"status": SUCCESS, ...payload}`; `payload` is an object of resource keys.
pub fn ok(payload: Value) -> HttpResponse {
    let mut body = match payload {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => {
            let mut m = Map::new();
            m.insert("data".to_owned(), other);
            m
        }
    };
    body.insert("status".to_owned(), status_value(code::SUCCESS, ""));
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-store"))
        .json(Value::Object(body))
}

/// The success envelope around a typed payload: `{"status": {...}, ...payload}`.
#[derive(serde::Serialize)]
struct Typed<'a, T: serde::Serialize> {
    status: StatusOut,
    #[serde(flatten)]
    payload: &'a T,
}

/// The `status` object as a struct (no map building on the hot path).
#[derive(serde::Serialize)]
struct StatusOut {
    code: u32,
    description: &'static str,
    details: &'static str,
    req_id: String,
}

/// 200 with `{"status": SUCCESS, ...payload}` for a payload that serializes to an
/// object: the large listings use it so a response of a thousand rows is written
/// straight from borrowed rows instead of through a `serde_json::Value` tree.
pub fn ok_typed<T: serde::Serialize>(payload: &T) -> HttpResponse {
    let body = Typed {
        status: StatusOut {
            code: code::SUCCESS,
            description: description(code::SUCCESS),
            details: "",
            req_id: req_id(),
        },
        payload,
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/json")
            .insert_header(("Cache-Control", "no-store"))
            .body(bytes),
        Err(e) => ApiError::internal(format!("serializing a response: {e}")).error_response(),
    }
}

/// Everything an API handler can fail with: a status code, its HTTP status, and
/// details for the caller (never a secret, never an internal error's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u32,
    pub http: StatusCode,
    pub details: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            description(self.code),
            self.code,
            self.details
        )
    }
}

impl ApiError {
    /// An error with any code and HTTP status.
    pub fn new(code: u32, http: StatusCode, details: impl Into<String>) -> ApiError {
        ApiError {
            code,
            http,
            details: details.into(),
        }
    }

    /// 11100: the body or query could not be read at all.
    pub fn bad_format(details: impl Into<String>) -> ApiError {
        ApiError::new(
            code::CONN_BAD_REQUEST_FORMAT,
            StatusCode::BAD_REQUEST,
            details,
        )
    }

    /// 11102: well-formed, but a value is refused (the details name the field).
    pub fn invalid(details: impl Into<String>) -> ApiError {
        ApiError::new(code::CONN_INVALID_REQUEST, StatusCode::BAD_REQUEST, details)
    }

    /// 11101: the resource does not exist or the caller may not know it does.
    pub fn not_found(details: impl Into<String>) -> ApiError {
        ApiError::new(code::CONN_DOES_NOT_EXIST, StatusCode::NOT_FOUND, details)
    }

    /// 40010: an id is taken.
    pub fn duplicate(details: impl Into<String>) -> ApiError {
        ApiError::new(code::DATABASE_DUPLICATE_KEY, StatusCode::CONFLICT, details)
    }

    /// 11007: the key lacks a scope, or the caller's role does not allow the action.
    pub fn forbidden(details: impl Into<String>) -> ApiError {
        ApiError::new(
            code::CONN_INSUFFICIENT_SCOPES,
            StatusCode::FORBIDDEN,
            details,
        )
    }

    /// 11008: no usable `Authorization: Key ...`, or an expired key.
    pub fn key_invalid(details: impl Into<String>) -> ApiError {
        ApiError::new(code::CONN_KEY_INVALID, StatusCode::UNAUTHORIZED, details)
    }

    /// 11009: no key has this secret (never existed, or revoked).
    pub fn key_not_found(details: impl Into<String>) -> ApiError {
        ApiError::new(code::CONN_KEY_NOT_FOUND, StatusCode::UNAUTHORIZED, details)
    }

    /// 11103: the path exists but not with this method.
    pub fn method_not_allowed(details: impl Into<String>) -> ApiError {
        ApiError::new(
            code::CONN_METHOD_NOT_ALLOWED,
            StatusCode::METHOD_NOT_ALLOWED,
            details,
        )
    }

    /// 98004: something broke on our side; `detail` is logged, not returned.
    pub fn internal(detail: impl Into<String>) -> ApiError {
        tracing::error!(error = %detail.into(), "internal error in the API");
        ApiError::new(
            code::INTERNAL_SERVER_ISSUE,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Please try again.",
        )
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::NotFound => ApiError::not_found("The resource does not exist."),
            AppError::Unauthorized { .. } => {
                ApiError::key_invalid("Send `Authorization: Key <personal access token>`.")
            }
            AppError::Forbidden(m) => ApiError::forbidden(m),
            AppError::BadRequest(m) => ApiError::invalid(m),
            AppError::Conflict(m) => {
                ApiError::new(code::CONN_INVALID_REQUEST, StatusCode::CONFLICT, m)
            }
            AppError::TooManyRequests(m) => {
                ApiError::new(code::CONN_THROTTLED, StatusCode::TOO_MANY_REQUESTS, m)
            }
            AppError::SeeOther(to) => ApiError::forbidden(format!("Continue at {to} first.")),
            AppError::Internal(detail) => ApiError::internal(detail),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> ApiError {
        match d {
            Denied::NotFound => ApiError::not_found("The resource does not exist."),
            Denied::MissingScope(scope) => ApiError::forbidden(format!(
                "This key lacks the scope {scope}. Create a key with it under Settings → API Keys."
            )),
            Denied::Forbidden(reason) => {
                ApiError::forbidden(format!("Permission denied: {reason}"))
            }
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> ApiError {
        ApiError::from(AppError::from(e))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.http
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.http)
            .content_type("application/json")
            .insert_header(("Cache-Control", "no-store"))
            .json(envelope(self.code, &self.details))
    }
}

/// The code an HTTP error status stands for, for errors raised outside the
/// handlers (payload too large, a method the resource does not route, ...).
pub fn code_for_http(status: StatusCode) -> u32 {
    match status.as_u16() {
        400 | 411 | 413 | 415 => code::CONN_BAD_REQUEST_FORMAT,
        401 => code::CONN_KEY_INVALID,
        403 => code::CONN_INSUFFICIENT_SCOPES,
        404 => code::CONN_DOES_NOT_EXIST,
        405 => code::CONN_METHOD_NOT_ALLOWED,
        409 => code::DATABASE_DUPLICATE_KEY,
        429 => code::CONN_THROTTLED,
        500..=599 => code::INTERNAL_SERVER_ISSUE,
        _ => code::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_carry_code_and_description() {
        let v = envelope(code::CONN_DOES_NOT_EXIST, "gone");
        assert_eq!(v["status"]["code"], 11101);
        assert_eq!(v["status"]["description"], "Resource does not exist");
        assert_eq!(v["status"]["details"], "gone");
        assert_eq!(v["status"]["req_id"].as_str().map(str::len), Some(16));
    }

    #[test]
    fn denials_map_to_codes() {
        assert_eq!(ApiError::from(Denied::NotFound).code, 11101);
        assert_eq!(
            ApiError::from(Denied::MissingScope("apps:write")).code,
            11007
        );
        assert_eq!(
            ApiError::from(Denied::Forbidden("no")).http,
            StatusCode::FORBIDDEN
        );
        assert!(!ApiError::from(AppError::internal("secret detail"))
            .details
            .contains("secret"));
    }
}
