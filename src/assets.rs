//! The static files (CSS, JS, the pinned htmx), compiled into the binary so the
//! server runs from any folder. Served with long-lived caching; the file names
//! carry their version.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::AppError;

const FILES: &[(&str, &str, &str)] = &[
    (
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/htmx-2.0.11.min.js"),
    ),
    (
        "atrium.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/atrium.js"),
    ),
    (
        "atrium.css",
        "text/css; charset=utf-8",
        include_str!("../static/atrium.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../static/favicon.svg"),
    ),
];

/// `GET /static/{file}`
pub async fn serve(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let (_, mime, body) = FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(*body))
}
