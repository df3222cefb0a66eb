//! Organizations over the API: `POST /v2/organizations` (the key's user creates
//! one and becomes its admin) and `GET /v2/users/{U}/organizations` (the user's
//! own memberships, with their role).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::status::{ok, ApiError};
use crate::api::{find_owner, parse_body, shorten, timestamp};
use crate::auth::policy::can_self;
use crate::models::account::validate_handle;
use crate::models::org::{CreateOrgError, Membership, Org};
use crate::models::user::{validate_email, User};
use crate::state::AppState;
use crate::web::orgs::validate_org_name;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OrgIn {
    id: Option<String>,
    name: Option<String>,
    billing_email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PostOrgsBody {
    organizations: Option<Vec<OrgIn>>,
}

fn org_json(org: &Org) -> Value {
    json!({
        "id": org.handle,
        "name": org.name,
        "billing_email": org.billing_email,
        "created_at": timestamp(&org.created_at),
        "modified_at": timestamp(&org.updated_at),
    })
}

/// `POST /v2/organizations`: `{"organizations": [{"id", "name", "billing_email"}]}`.
/// A user belongs to one organization at a time, so one is created per request.
/// Without a billing e-mail the user's own address is used.
pub async fn create(
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    can_self(&user.actor, user.account(), "orgs:write")?;
    let body: PostOrgsBody = parse_body(&body)?;
    let mut orgs = body.organizations.unwrap_or_default();
    let input = match orgs.len() {
        0 => {
            return Err(ApiError::invalid(
                "organizations: give the organization to create.",
            ))
        }
        1 => orgs.remove(0),
        _ => {
            return Err(ApiError::invalid(
                "organizations: create one organization per request (a user belongs to one organization at a time).",
            ))
        }
    };
    let p = |field: &str, m: String| ApiError::invalid(format!("organizations[0].{field}: {m}"));
    let handle = validate_handle(input.id.as_deref().unwrap_or(""), "an organization ID")
        .map_err(|m| p("id", m))?;
    let name = validate_org_name(input.name.as_deref().unwrap_or("")).map_err(|m| p("name", m))?;
    let email = input
        .billing_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| validate_email(e).map_err(|m| p("billing_email", m)))
        .transpose()?;
    let uid = user.id;
    let result = crate::db::run(&state.pool, move |conn| {
        let email = match email {
            Some(e) => e,
            None => User::find(conn, uid)?.row.email,
        };
        Ok(Org::create(conn, uid, &handle, &name, &email))
    })
    .await?;
    match result {
        Ok(org) => {
            tracing::info!(user_id = uid.0, org_id = org.id.0, "organization created through the API");
            Ok(ok(json!({ "organizations": [org_json(&org)] })))
        }
        Err(CreateOrgError::HandleTaken) => Err(ApiError::duplicate(format!(
            "organizations[0].id: \"{}\" is taken by a user or an organization.",
            shorten(input.id.as_deref().unwrap_or("").trim(), 60)
        ))),
        Err(CreateOrgError::AlreadyMember) => Err(ApiError::new(
            crate::api::status::code::CONN_INVALID_REQUEST,
            actix_web::http::StatusCode::CONFLICT,
            "You already belong to an organization. A user can belong to one organization at a time: leave it first.",
        )),
        Err(CreateOrgError::Db(e)) => Err(e.into()),
    }
}

/// `GET /v2/users/{U}/organizations`: `organizations[]{organization{id, name}, role{id, name}}`.
/// Only the user themselves may list their memberships.
pub async fn list_for_user(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = find_owner(&state, user.resolve(&path)).await?;
    can_self(&user.actor, owner.id, "orgs:read")?;
    let uid = user.id;
    let membership = crate::db::run(&state.pool, move |conn| {
        Ok(Membership::for_user(conn, uid)?)
    })
    .await?;
    let organizations: Vec<Value> = membership
        .iter()
        .map(|m| {
            json!({
                "organization": { "id": m.org_handle, "name": m.org_name },
                "role": { "id": m.role.as_str(), "name": m.role.label() },
            })
        })
        .collect();
    Ok(ok(json!({ "organizations": organizations })))
}
