//! The `/v2` JSON API, in the hosted platform's REST style so that its own
//! clients (the `clarifai-grpc` JSON channel) work against Atrium: PAT
//! authentication ([`auth`]), the `status` envelope on every response
//! ([`status`]), and the resources: apps, organizations, keys. The routes of the
//! scope are listed in [`configure`]; request parsing helpers live here so that
//! every handler reads bodies and query strings the same way.

pub mod apps;
pub mod audit;
pub mod auth;
pub mod concepts;
pub mod content;
pub mod content_json;
pub mod identity_providers;
pub mod input_search;
pub mod inputs;
pub mod invitations;
mod invitations_received;
mod key_load;
pub mod keys;
pub mod members;
pub mod model_meta;
pub mod models;
pub mod orgs;
pub mod roles;
pub mod security;
pub mod status;
pub mod teams;
pub mod versions;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{from_fn, Next};
use actix_web::web::{self, delete, get, patch, post};
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::de::DeserializeOwned;

use crate::models::account::Owner;
use crate::models::audit::AuditActor;
use crate::state::AppState;
use status::{code_for_http, envelope, ApiError};

/// Largest request body the API reads.
pub const MAX_BODY: usize = 1024 * 1024;

/// Registers the `/v2` scope. Call it before the browser routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/v2")
            .wrap(from_fn(json_errors))
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_BODY)
                    .content_type_required(false)
                    .error_handler(|e, _| {
                        ApiError::bad_format(format!("The request body is not valid JSON: {e}"))
                            .into()
                    }),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::bad_format(format!("The query string could not be read: {e}")).into()
            }))
            .app_data(
                web::PathConfig::default().error_handler(|_, _| {
                    ApiError::not_found("The resource does not exist.").into()
                }),
            )
            .configure(content::outputs_routes)
            .service(
                web::resource("/users/{user}/apps")
                    .route(get().to(apps::list))
                    .route(post().to(apps::create)),
            )
            .service(
                web::resource("/users/{user}/apps/{app}")
                    .route(get().to(apps::get))
                    .route(patch().to(apps::patch))
                    .route(delete().to(apps::delete)),
            )
            .service(
                web::resource("/users/{user}/apps/{app}/myscopes").route(get().to(roles::myscopes)),
            )
            .service(web::resource("/roles").route(get().to(roles::list)))
            .configure(team_routes)
            .service(web::resource("/organizations").route(post().to(orgs::create)))
            .service(
                web::resource("/organizations/{org}")
                    .route(get().to(orgs::get))
                    .route(patch().to(orgs::patch))
                    .route(delete().to(orgs::delete)),
            )
            .service(web::resource("/organizations/{org}/leave").route(delete().to(orgs::leave)))
            .service(
                web::resource("/organizations/{org}/members")
                    .route(get().to(members::list))
                    .route(patch().to(members::patch)),
            )
            .service(
                web::resource("/organizations/{org}/members/{member}")
                    .route(delete().to(members::remove)),
            )
            .service(
                web::resource("/organizations/{org}/invitations")
                    .route(get().to(invitations::list))
                    .route(post().to(invitations::create))
                    .route(patch().to(invitations::patch)),
            )
            .service(
                web::resource("/organizations/{org}/identity_providers")
                    .route(get().to(identity_providers::list))
                    .route(post().to(identity_providers::create))
                    .route(patch().to(identity_providers::patch))
                    .route(delete().to(identity_providers::delete)),
            )
            .service(
                web::resource("/organizations/{org}/invitations/{id}")
                    .route(get().to(invitations::get)),
            )
            .service(
                web::resource("/users/{user}/organization_invitations")
                    .route(get().to(invitations::received)),
            )
            .service(
                web::resource("/users/{user}/organization_invitation_accept/{id}")
                    .route(post().to(invitations::accept)),
            )
            .service(
                web::resource("/users/{user}/organization_invitation_decline/{id}")
                    .route(post().to(invitations::decline)),
            )
            .service(
                web::resource("/users/{user}/organizations").route(get().to(orgs::list_for_user)),
            )
            .service(
                web::resource("/users/{user}/validate_password")
                    .route(post().to(security::validate_password)),
            )
            .service(
                web::resource("/users/{user}/password_policies")
                    .route(get().to(security::get_policies))
                    .route(post().to(security::set_policies))
                    .route(patch().to(security::set_policies)),
            )
            .service(
                web::resource("/users/{user}/audit_log/searches").route(post().to(audit::search)),
            )
            .service(
                web::resource("/users/{user}/keys")
                    .route(get().to(keys::list))
                    .route(post().to(keys::create)),
            )
            .service(
                web::resource("/users/{user}/keys/{key}")
                    .route(get().to(keys::get))
                    .route(delete().to(keys::delete)),
            )
            // App content: concepts, inputs, models, versions, outputs, stars.
            .configure(content::routes)
            .default_service(web::to(unknown_endpoint)),
    );
}

/// Teams, their users and their apps (`api::teams`).
fn team_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/organizations/{org}/teams")
            .route(get().to(teams::list))
            .route(post().to(teams::create))
            .route(patch().to(teams::patch))
            .route(delete().to(teams::delete)),
    )
    .service(web::resource("/organizations/{org}/teams/{team}").route(get().to(teams::get)))
    .service(
        web::resource("/organizations/{org}/teams/{team}/users")
            .route(get().to(teams::list_users))
            .route(post().to(teams::add_users))
            .route(delete().to(teams::remove_users)),
    )
    .service(
        web::resource("/organizations/{org}/teams/{team}/apps")
            .route(get().to(teams::list_apps))
            .route(post().to(teams::grant_apps))
            .route(delete().to(teams::revoke_apps)),
    );
}

/// Any path under `/v2` that is not an endpoint: a JSON 11101, never an HTML page.
async fn unknown_endpoint(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found(format!(
        "There is no API endpoint {} {}.",
        req.method(),
        shorten(req.path(), 200)
    )))
}

/// Turns every error response of the scope that is not already the JSON envelope
/// (a method the resource does not route, a body over the limit, ...) into it.
async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // Handler and extractor errors arrive here as responses; only a failing
    // middleware inside the scope could return `Err`, and none does.
    let res = next.call(req).await?;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return Ok(res.map_into_left_body());
    }
    let message = res.response().error().map(|e| e.to_string());
    let (http_req, _) = res.into_parts();
    let out = envelope_response(&http_req, status, message);
    Ok(ServiceResponse::new(http_req, out).map_into_right_body())
}

fn envelope_response(
    req: &HttpRequest,
    status: actix_web::http::StatusCode,
    message: Option<String>,
) -> HttpResponse {
    let details = match status.as_u16() {
        404 => format!("There is no API endpoint {}.", shorten(req.path(), 200)),
        405 => format!(
            "{} does not accept {}.",
            shorten(req.path(), 200),
            req.method()
        ),
        413 => format!(
            "The request body is too large (at most {} bytes).",
            content::body_limit(req.path())
        ),
        500..=599 => {
            if let Some(m) = &message {
                tracing::error!(error = %m, "internal error in the API");
            }
            "Something went wrong on our side. Please try again.".to_owned()
        }
        _ => message.unwrap_or_else(|| status.to_string()),
    };
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(envelope(code_for_http(status), &details))
}

/// At most `n` characters of `s` (for echoing user input in messages).
pub fn shorten(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// A stored UTC time as RFC 3339 with a `Z`.
pub fn timestamp(t: &NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Parses a JSON request body. An empty body is the empty message (every field
/// at its default), as the platform's JSON mapping has it; unknown fields are ignored.
pub fn parse_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_format(format!("The request body is not valid JSON: {e}")))
}

/// A GET request's query string, kept as pairs: nested fields arrive flattened
/// with dots (`user_app_id.user_id`), and booleans as `true`/`True`/`false`/`False`.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Reads the request's query string.
    pub fn from_request(req: &HttpRequest) -> Result<Params, ApiError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .map(Params)
            .map_err(|e| ApiError::bad_format(format!("The query string could not be read: {e}")))
    }

    /// The last value given for `key`, trimmed (`None` when absent or empty).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every (key, value) pair, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The keys given, in order (repeated keys repeat).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// A boolean parameter (absent = false).
    pub fn bool(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(false),
            Some(v) => parse_bool(v).ok_or_else(|| {
                ApiError::invalid(format!(
                    "{key} must be true or false, not \"{}\".",
                    shorten(v, 40)
                ))
            }),
        }
    }

    /// A non-negative integer parameter; absent or 0 means `default`.
    pub fn count(&self, key: &str, default: i64, max: i64) -> Result<i64, ApiError> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.parse::<i64>() {
            Ok(0) => Ok(default),
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            Ok(n) if n < 0 => Err(ApiError::invalid(format!(
                "{key} must be a positive number, not {n}."
            ))),
            Ok(_) => Err(ApiError::invalid(format!("{key} is at most {max}."))),
            Err(_) => Err(ApiError::invalid(format!(
                "{key} must be a whole number, not \"{}\".",
                shorten(v, 40)
            ))),
        }
    }
}

/// `true`/`True`/`1` and `false`/`False`/`0`, as clients send them.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Who acts, for the audit trail: the key's user and the request's source
/// address (see [`crate::web::client_ip`]).
pub fn audit_actor(req: &HttpRequest, user: &auth::ApiUser) -> AuditActor {
    AuditActor {
        user_id: Some(user.id),
        label: user.handle.clone(),
        ip: crate::web::client_ip(req),
    }
}

/// Looks up the user or organization a path names (`me` already resolved).
pub async fn find_owner(state: &AppState, handle: &str) -> Result<Owner, ApiError> {
    let h = handle.to_owned();
    let owner = crate::db::run(&state.pool, move |conn| {
        Ok(Owner::find_by_handle(conn, &h)?)
    })
    .await?;
    owner.ok_or_else(|| {
        ApiError::not_found(format!(
            "No user or organization has the id \"{}\".",
            shorten(handle, 60)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_clients_send_them() {
        for t in ["true", "True", "TRUE", "1"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["false", "False", "0"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = chrono::NaiveDate::from_ymd_opt(2024, 1, 2)
            .and_then(|d| d.and_hms_micro_opt(3, 4, 5, 6))
            .expect("date");
        assert_eq!(timestamp(&t), "2024-01-02T03:04:05.000006Z");
    }

    #[test]
    fn empty_bodies_are_empty_messages() {
        #[derive(serde::Deserialize, Default)]
        struct M {
            #[serde(default)]
            a: Option<String>,
        }
        assert!(parse_body::<M>(b"  ").expect("empty").a.is_none());
        assert_eq!(
            parse_body::<M>(b"{\"a\":\"x\",\"zz\":1}")
                .expect("ok")
                .a
                .as_deref(),
            Some("x")
        );
        assert_eq!(parse_body::<M>(b"{").err().map(|e| e.code), Some(11100));
    }
}
