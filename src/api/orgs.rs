//! Organizations over the API: `POST /v2/organizations` (the key's user creates
//! one and becomes its admin), `GET /v2/users/{U}/organizations` (the user's
//! own memberships, with their role), `GET/PATCH/DELETE /v2/organizations/{U}`
//! and `DELETE /v2/organizations/{U}/leave`. Every organization is loaded through
//! [`load_org`], which asks the policy; members and invitations live in
//! [`super::members`] and [`super::invitations`].

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::status::code;
use crate::api::status::{ok, ApiError};
use crate::api::{find_owner, parse_body, shorten, timestamp};
use crate::auth::policy::{can, can_self, Action, Denied, Target};
use crate::models::account::validate_handle;
use crate::models::org::{CreateOrgError, LeaveError, Membership, Org};
use crate::models::user::{validate_email, User};
use crate::models::AccountId;
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

/// The JSON of an organization.
pub fn org_json(org: &Org) -> Value {
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
            code::CONN_INVALID_REQUEST,
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

/// Loads the organization a path names and checks `action` on it. A missing
/// organization and one the key's user may not see answer the same 11101, so
/// private handles do not leak.
pub async fn load_org(
    state: &AppState,
    user: &ApiUser,
    handle: &str,
    action: Action,
) -> Result<Org, ApiError> {
    let unseen = || {
        ApiError::not_found(format!(
            "No organization has the id \"{}\".",
            shorten(handle, 60)
        ))
    };
    let h = handle.to_owned();
    let org = crate::db::run(&state.pool, move |conn| Ok(Org::find_by_handle(conn, &h)?))
        .await?
        .ok_or_else(unseen)?;
    match can(&user.actor, action, Target::Org(AccountId(org.id.0))) {
        Ok(()) => Ok(org),
        Err(Denied::NotFound) => Err(unseen()),
        Err(d) => Err(d.into()),
    }
}

/// `GET /v2/organizations/{U}`: any member may read it.
pub async fn get(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ViewOrg).await?;
    Ok(ok(json!({ "organization": org_json(&org) })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PatchOrgBody {
    organization: Option<OrgIn>,
    action: Option<String>,
}

/// `PATCH /v2/organizations/{U}`: `{"organization": {"name", "billing_email"},
/// "action": "overwrite"|"merge"}` (admins). Fields left out, or empty, keep their
/// value: both are required, so `remove` is refused.
pub async fn patch(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::UpdateOrg).await?;
    let body: PatchOrgBody = parse_body(&body)?;
    match body
        .action
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("overwrite") | Some("merge") => {}
        Some("remove") => {
            return Err(ApiError::invalid(
                "action remove is not supported: an organization always has a name and a billing email. \
                 To delete the organization, send DELETE /v2/organizations/{id}.",
            ))
        }
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "action must be overwrite or merge, not \"{}\".",
                shorten(other, 40)
            )))
        }
    }
    let Some(input) = body.organization else {
        return Err(ApiError::invalid(
            "organization: give the fields to change (name, billing_email).",
        ));
    };
    if let Some(id) = input.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if id != org.handle {
            return Err(ApiError::invalid(format!(
                "organization.id must be the id in the path (\"{}\"): organization ids cannot change.",
                org.handle
            )));
        }
    }
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let name = match given(&input.name) {
        Some(n) => validate_org_name(&n)
            .map_err(|m| ApiError::invalid(format!("organization.name: {m}")))?,
        None => org.name.clone(),
    };
    let email = match given(&input.billing_email) {
        Some(e) => validate_email(&e)
            .map_err(|m| ApiError::invalid(format!("organization.billing_email: {m}")))?,
        None => org.billing_email.clone(),
    };
    let id = org.id;
    let saved = crate::db::run(&state.pool, move |conn| {
        Org::update(conn, id, &name, &email)?;
        Ok(Org::find(conn, id)?)
    })
    .await?;
    tracing::info!(
        user_id = user.id.0,
        org_id = id.0,
        "organization edited through the API"
    );
    Ok(ok(json!({ "organization": org_json(&saved) })))
}

/// `DELETE /v2/organizations/{U}`: deletes the organization with its apps,
/// memberships and invitations (admins).
pub async fn delete(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::DeleteOrg).await?;
    let id = org.id;
    crate::db::run(&state.pool, move |conn| Ok(Org::delete(conn, id)?)).await?;
    tracing::info!(
        user_id = user.id.0,
        org_id = id.0,
        "organization deleted through the API"
    );
    Ok(ok(json!({})))
}

/// `DELETE /v2/organizations/{U}/leave`: the key's user leaves. The last admin
/// cannot: another member must be made admin first.
pub async fn leave(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::LeaveOrg).await?;
    let actor = super::audit_actor(&req, &user);
    let (org_id, uid) = (org.id, user.id);
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(Membership::leave_recorded(conn, org_id, uid, None, &actor))
    })
    .await?;
    match result {
        Ok(()) => {
            tracing::info!(
                user_id = uid.0,
                org_id = org_id.0,
                "left organization through the API"
            );
            Ok(ok(json!({})))
        }
        Err(LeaveError::LastAdmin | LeaveError::BadSuccessor) => Err(ApiError::new(
            code::CONN_INVALID_REQUEST,
            actix_web::http::StatusCode::CONFLICT,
            format!(
                "You are the only admin of {}, and an organization always keeps an admin. \
                 Make another member admin first (PATCH /v2/organizations/{}/members), \
                 or delete the organization.",
                org.name, org.handle
            ),
        )),
        Err(LeaveError::NotMember) => Err(ApiError::not_found(format!(
            "No organization has the id \"{}\".",
            shorten(&org.handle, 60)
        ))),
        Err(LeaveError::Db(e)) => Err(e.into()),
    }
}
