//! Invitations over the API, the invitee's side: `GET /v2/users/{U}/organization_invitations`
//! (the open invitations bound to the key's own account) and
//! `POST /v2/users/{U}/organization_invitation_accept/{id}` / `..._decline/{id}`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::invitations::invitation_json;
use crate::api::members::role_json;
use crate::api::status::{code, ok, ApiError};
use crate::api::{audit_actor, find_owner, shorten};
use crate::auth::policy::can_self;
use crate::models::invitation::{self, AnswerError, Via};
use crate::state::AppState;

/// Checks that the path names the key's own user and that the key has `scope`.
async fn authorize_self(
    state: &AppState,
    user: &ApiUser,
    segment: &str,
    scope: &'static str,
) -> Result<(), ApiError> {
    let owner = find_owner(state, user.resolve(segment)).await?;
    can_self(&user.actor, owner.id, scope)?;
    Ok(())
}

/// `GET /v2/users/{U}/organization_invitations`: the open invitations bound to
/// the key's own account (sent to its address), with the ids to accept or decline.
pub async fn received(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    authorize_self(&state, &user, &path, "orgs:read").await?;
    let uid = user.id;
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(invitation::open_for_user(conn, uid)?)
    })
    .await?;
    let invitations: Vec<Value> = found.iter().map(|i| invitation_json(i, false)).collect();
    Ok(ok(json!({ "invitations": invitations })))
}

/// The answer to a refused accept or decline.
fn answer_error(id: &str, e: AnswerError) -> ApiError {
    let conflict = |m: String| ApiError::new(code::CONN_INVALID_REQUEST, StatusCode::CONFLICT, m);
    match e {
        // Invitations bound to another account look exactly like missing ones.
        AnswerError::NotFound | AnswerError::WrongUser(_) => ApiError::not_found(format!(
            "You have no invitation with the id \"{}\".",
            shorten(id, 40)
        )),
        AnswerError::Expired => ApiError::new(
            code::CONN_INVALID_REQUEST,
            StatusCode::GONE,
            "This invitation expired. Ask an admin of the organization to resend it.",
        ),
        AnswerError::Answered(status) => conflict(format!(
            "This invitation is no longer pending (it is {}).",
            status.api_name()
        )),
        AnswerError::InAnotherOrg(name) => conflict(format!(
            "You already belong to {}. A user can belong to one organization at a time: \
             leave it first (DELETE /v2/organizations/{{id}}/leave), then accept.",
            name.unwrap_or_else(|| "another organization".to_owned())
        )),
        AnswerError::AlreadyMember => {
            conflict("You already are a member of this organization.".to_owned())
        }
        AnswerError::Db(e) => e.into(),
    }
}

/// Accepts or declines the invitation `id` for the key's own user.
async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
    accept: bool,
) -> Result<HttpResponse, ApiError> {
    let (u, id) = path.into_inner();
    authorize_self(&state, &user, &u, "orgs:write").await?;
    let actor = audit_actor(&req, &user);
    let (uid, public_id) = (user.id, id.clone());
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(if accept {
            invitation::accept(conn, Via::Bound(&public_id), uid, &actor).map(Some)
        } else {
            invitation::decline(conn, Via::Bound(&public_id), uid, &actor).map(|_| None)
        })
    })
    .await?;
    match result {
        Ok(Some(acc)) => {
            tracing::info!(
                user_id = uid.0,
                org_id = acc.org_id.0,
                "invitation accepted through the API"
            );
            Ok(ok(json!({
                "organization": { "id": acc.org_handle, "name": acc.org_name },
                "role": role_json(acc.role),
            })))
        }
        Ok(None) => {
            tracing::info!(user_id = uid.0, "invitation declined through the API");
            Ok(ok(json!({})))
        }
        Err(e) => Err(answer_error(&id, e)),
    }
}

/// `POST /v2/users/{U}/organization_invitation_accept/{id}`: joins the organization
/// with the invited role. Only for the account the invitation is bound to.
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    answer(req, state, user, path, true).await
}

/// `POST /v2/users/{U}/organization_invitation_decline/{id}`
pub async fn decline(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    answer(req, state, user, path, false).await
}
