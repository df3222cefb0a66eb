//! The one error type of the browser side. Each variant has an explicit HTTP
//! status; it renders as an error page (htmx requests show its message in a toast).
//! The `/v2` API converts these into its `status` envelope instead (see `api::status`).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

/// Everything a browser handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The resource does not exist, or the actor may not know it exists.
    #[error("Page not found")]
    NotFound,
    /// The request needs a signed-in user; browsers are sent to the sign-in page.
    #[error("Please sign in to continue")]
    Unauthorized { next: Option<String> },
    /// The actor may see the resource but not do this to it (or a CSRF check failed).
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed in a way no form can show next to a field.
    #[error("{0}")]
    BadRequest(String),
    /// The request conflicts with the current state (duplicate id, last admin, ...).
    #[error("{0}")]
    Conflict(String),
    /// Throttled (repeated failed sign-ins, rate limits).
    #[error("{0}")]
    TooManyRequests(String),
    /// The user must go elsewhere first (two-factor enrolment an org requires).
    #[error("Continue at {0}")]
    SeeOther(String),
    /// Something broke on our side; the detail is logged, never shown.
    #[error("Something went wrong on our side. Please try again.")]
    Internal(String),
}

impl AppError {
    /// An internal error with a detail for the log.
    pub fn internal(detail: impl Into<String>) -> AppError {
        AppError::Internal(detail.into())
    }

    /// A sign-in redirect that brings the user back to `next` afterwards.
    pub fn sign_in(next: impl Into<String>) -> AppError {
        AppError::Unauthorized {
            next: Some(next.into()),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> AppError {
        AppError::Internal(format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized { .. } | AppError::SeeOther(_) => StatusCode::SEE_OTHER,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
        if let AppError::Unauthorized { next } = self {
            let location = match next {
                Some(n) => format!("/login?next={}", crate::web::urlencode(n)),
                None => "/login".to_owned(),
            };
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location.clone()))
                .insert_header(("HX-Redirect", location))
                .finish();
        }
        if let AppError::SeeOther(location) = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location.clone()))
                .insert_header(("HX-Redirect", location.clone()))
                .finish();
        }
        let status = self.status_code();
        let title = match self {
            AppError::NotFound => "Not found",
            AppError::Forbidden(_) => "Not allowed",
            AppError::BadRequest(_) => "Bad request",
            AppError::Conflict(_) => "Conflict",
            AppError::TooManyRequests(_) => "Too many attempts",
            _ => "Server error",
        };
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message: self.to_string(),
        };
        match page.render() {
            Ok(body) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(body),
            Err(_) => HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(self.to_string()),
        }
    }
}
