//! Invitations over the API. The organization's side (admins only; 11101 for
//! everyone else): `POST/GET/PATCH /v2/organizations/{U}/invitations` (create,
//! list, cancel) and `GET .../invitations/{id}`. The invitee's side, for the
//! account an invitation is bound to: `GET /v2/users/{U}/organization_invitations`
//! and `POST /v2/users/{U}/organization_invitation_accept/{id}` / `..._decline/{id}`.
//!
//! Creating is all or nothing in one transaction; the e-mails go out after the
//! commit through the same [`crate::web::members::deliver`] as the Members
//! screen, and a failed delivery is reported on the invitation, never as an
//! error. Every change is recorded in the audit trail by the model. The invitee's
//! side is in `invitations_received`.

pub use crate::api::invitations_received::{accept, decline, received};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::members::{parse_role, role_ids, role_json, RoleIn};
use crate::api::orgs::load_org;
use crate::api::status::{code, ok, ApiError};
use crate::api::{audit_actor, parse_body, shorten, timestamp, Params};
use crate::auth::policy::{Action, Role};
use crate::models::invitation::{
    self, AdminChangeError, Created, Invitation, InviteError, NewInvitations, MAX_BATCH,
};
use crate::models::org::Org;
use crate::models::user::{validate_email, User};
use crate::state::AppState;
use crate::web::members::{deliver, inviter_label_of};

/// Invitations per page when the request does not say.
const DEFAULT_PER_PAGE: i64 = 128;
/// Most invitations per page.
const MAX_PER_PAGE: i64 = 1000;

/// The JSON of an invitation. `admin` adds what only the organization's admins
/// see: the delivery state of the e-mail and when it was answered.
pub(super) fn invitation_json(inv: &Invitation, admin: bool) -> Value {
    let mut v = json!({
        "id": inv.public_id,
        "invitee_email": inv.email,
        "role": role_json(inv.role),
        "status": inv.status.api_name(),
        "organization": { "id": inv.org_handle, "name": inv.org_name },
        "inviter": inv.inviter_handle.as_ref().map(|h| json!({ "id": h })),
        "created_at": timestamp(&inv.created_at),
        "expires_at": timestamp(&inv.expires_at),
        "modified_at": timestamp(&inv.updated_at),
    });
    if admin {
        v["delivery"] = json!({
            "state": inv.delivery.as_str(),
            "error": inv.delivery_error,
        });
        if let Some(t) = &inv.sent_at {
            v["sent_at"] = json!(timestamp(t));
        }
        if let Some(t) = &inv.responded_at {
            v["responded_at"] = json!(timestamp(t));
        }
    }
    v
}

/// An invitation in a request body. `POST` reads `invitee_email` and `role{id}`
/// (or `role_id`); `PATCH` reads `id` and `status`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InvitationIn {
    id: Option<String>,
    invitee_email: Option<String>,
    role: Option<RoleIn>,
    role_id: Option<String>,
    status: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InvitationsBody {
    invitations: Option<Vec<InvitationIn>>,
    action: Option<String>,
}

/// Validates a `POST` body into (address, role) pairs, in request order.
fn validate_new(inputs: Vec<InvitationIn>) -> Result<Vec<(String, Role)>, ApiError> {
    if inputs.is_empty() {
        return Err(ApiError::invalid(
            "invitations: give at least one invitation, as {\"invitee_email\", \"role\": {\"id\"}}.",
        ));
    }
    if inputs.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "invitations: send at most {MAX_BATCH} invitations per request."
        )));
    }
    let mut out: Vec<(String, Role)> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        let p =
            |field: &str, m: String| ApiError::invalid(format!("invitations[{i}].{field}: {m}"));
        let raw = input.invitee_email.unwrap_or_default();
        if raw.trim().is_empty() {
            return Err(p(
                "invitee_email",
                "give the invitee's email address.".to_owned(),
            ));
        }
        let email = validate_email(&raw).map_err(|m| p("invitee_email", m))?;
        let raw_role = input
            .role
            .and_then(|r| r.id)
            .or(input.role_id)
            .unwrap_or_default();
        if raw_role.trim().is_empty() {
            return Err(p(
                "role.id",
                format!("give the invitee's role: one of {}.", role_ids()),
            ));
        }
        let role = parse_role(&raw_role).ok_or_else(|| {
            p(
                "role.id",
                format!(
                    "\"{}\" is not a role: use one of {}.",
                    shorten(&raw_role, 40),
                    role_ids()
                ),
            )
        })?;
        if out.iter().any(|(e, _)| *e == email) {
            return Err(p("invitee_email", format!("{email} is listed twice.")));
        }
        out.push((email, role));
    }
    Ok(out)
}

/// Why a batch of invitations was not created (nothing was written).
enum CreateError {
    RateLimited { remaining: i64 },
    Refused(Vec<(String, String)>),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for CreateError {
    fn from(e: diesel::result::Error) -> Self {
        CreateError::Db(e)
    }
}

/// `POST /v2/organizations/{U}/invitations`: `{"invitations": [{"invitee_email",
/// "role": {"id"}}]}`. All are created or none; then the e-mails go out, and each
/// invitation in the answer says how its delivery went (`delivery.state`).
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ManageMembers).await?;
    let body: InvitationsBody = parse_body(&body)?;
    let wanted = validate_new(body.invitations.unwrap_or_default())?;
    // One model call per role (it invites several addresses with one role).
    let mut groups: Vec<(Role, Vec<String>)> = Vec::new();
    for (email, role) in &wanted {
        match groups.iter_mut().find(|(r, _)| r == role) {
            Some((_, emails)) => emails.push(email.clone()),
            None => groups.push((*role, vec![email.clone()])),
        }
    }
    let actor = audit_actor(&req, &user);
    let (org_id, uid) = (org.id, user.id);
    let (ttl, limit) = (
        state.config.invitation_ttl_days,
        state.config.invite_rate_limit,
    );
    let result = crate::db::run(&state.pool, move |conn| {
        let inviter = User::find(conn, uid)?;
        let created = crate::db::transaction::<_, CreateError, _>(conn, |conn| {
            let (mut created, mut refused) = (Vec::new(), Vec::new());
            for (role, emails) in &groups {
                let new = NewInvitations {
                    org: org_id,
                    emails,
                    role: *role,
                    invited_by: uid,
                    ttl_days: ttl,
                    hourly_limit: limit,
                };
                match invitation::create_many(conn, &new, &actor) {
                    Ok(c) => created.extend(c),
                    Err(InviteError::Refused(r)) => refused.extend(r),
                    Err(InviteError::RateLimited { remaining }) => {
                        return Err(CreateError::RateLimited {
                            remaining: remaining + created.len() as i64,
                        })
                    }
                    Err(InviteError::Db(e)) => return Err(CreateError::Db(e)),
                }
            }
            if refused.is_empty() {
                Ok(created)
            } else {
                Err(CreateError::Refused(refused))
            }
        });
        Ok((
            inviter_label_of(&inviter.row.name, &inviter.handle),
            created,
        ))
    })
    .await?;
    let (inviter, created) = result;
    let mut created: Vec<Created> = match created {
        Ok(c) => c,
        Err(CreateError::Refused(list)) => {
            let reasons: Vec<String> = list
                .iter()
                .map(|(email, why)| {
                    let i = wanted.iter().position(|(e, _)| e == email).unwrap_or(0);
                    format!("invitations[{i}].invitee_email: {email} {why}")
                })
                .collect();
            return Err(ApiError::new(
                code::CONN_INVALID_REQUEST,
                StatusCode::CONFLICT,
                format!("Nothing was sent. {}", reasons.join(" ")),
            ));
        }
        Err(CreateError::RateLimited { remaining }) => {
            return Err(ApiError::new(
                code::CONN_THROTTLED,
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "This organization can send {limit} invitation emails per hour, and {remaining} remain for now. \
                     Nothing was sent: try again later, or invite fewer addresses."
                ),
            ))
        }
        Err(CreateError::Db(e)) => return Err(e.into()),
    };
    created.sort_by_key(|c| wanted.iter().position(|(e, _)| *e == c.invitation.email));
    tracing::info!(
        org_id = org.id.0,
        count = created.len(),
        "invitations created through the API"
    );
    let invitations: Vec<Invitation> = created.iter().map(|c| c.invitation.clone()).collect();
    let outcomes = deliver(&state, &inviter, created).await;
    let answer: Vec<Value> = invitations
        .iter()
        .zip(&outcomes)
        .map(|(inv, (_, outcome))| {
            let mut v = invitation_json(inv, true);
            v["delivery"] = match outcome {
                Ok(()) => json!({ "state": "sent", "error": null }),
                Err(e) => json!({ "state": "failed", "error": e }),
            };
            v
        })
        .collect();
    Ok(ok(json!({ "invitations": answer })))
}

/// `GET /v2/organizations/{U}/invitations?page&per_page`: every invitation of the
/// organization, newest first, whatever its status.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::from_request(&req)?;
    let org = load_org(&state, &user, &path, Action::ViewMembers).await?;
    let page = params.count("page", 1, 1_000_000)?;
    let per_page = params.count("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let org_id = org.id;
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(invitation::all_for_org(
            conn,
            org_id,
            (page - 1) * per_page,
            per_page,
        )?)
    })
    .await?;
    let invitations: Vec<Value> = found.iter().map(|i| invitation_json(i, true)).collect();
    Ok(ok(json!({ "invitations": invitations })))
}

fn no_invitation(org: &Org, id: &str) -> ApiError {
    ApiError::not_found(format!(
        "{} has no invitation with the id \"{}\".",
        org.handle,
        shorten(id, 40)
    ))
}

/// `GET /v2/organizations/{U}/invitations/{id}`
pub async fn get(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (o, id) = path.into_inner();
    let org = load_org(&state, &user, &o, Action::ViewMembers).await?;
    let (org_id, public_id) = (org.id, id.clone());
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(invitation::find_in_org(conn, org_id, &public_id)?)
    })
    .await?;
    match found {
        Some(inv) => Ok(ok(json!({ "invitation": invitation_json(&inv, true) }))),
        None => Err(no_invitation(&org, &id)),
    }
}

/// Reads a `PATCH` entry's `status`: absent, `CANCELLED` or 3 (the enum's number).
fn check_cancel_status(i: usize, status: &Option<Value>) -> Result<(), ApiError> {
    let refuse = |shown: String| {
        ApiError::invalid(format!(
            "invitations[{i}].status: only CANCELLED can be set (invitees accept or decline themselves), not {shown}."
        ))
    };
    match status {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("cancelled") => Ok(()),
        Some(Value::Number(n)) if n.as_i64() == Some(3) => Ok(()),
        Some(Value::String(s)) => Err(refuse(format!("\"{}\"", shorten(s, 40)))),
        Some(other) => Err(refuse(shorten(&other.to_string(), 40))),
    }
}

/// Why a batch of cancellations did nothing.
enum CancelError {
    At(usize, String, AdminChangeError),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for CancelError {
    fn from(e: diesel::result::Error) -> Self {
        CancelError::Db(e)
    }
}

/// `PATCH /v2/organizations/{U}/invitations`: `{"invitations": [{"id", "status":
/// "CANCELLED"}]}` rescinds pending invitations (their links stop working). All
/// or none.
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ManageMembers).await?;
    let body: InvitationsBody = parse_body(&body)?;
    match body
        .action
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("overwrite") | Some("merge") => {}
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "action must be overwrite or merge, not \"{}\".",
                shorten(other, 40)
            )))
        }
    }
    let inputs = body.invitations.unwrap_or_default();
    if inputs.is_empty() {
        return Err(ApiError::invalid(
            "invitations: give the invitations to cancel, as {\"id\", \"status\": \"CANCELLED\"}.",
        ));
    }
    if inputs.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "invitations: cancel at most {MAX_BATCH} invitations per request."
        )));
    }
    let mut ids: Vec<String> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let id = input.id.as_deref().map(str::trim).unwrap_or("");
        if id.is_empty() {
            return Err(ApiError::invalid(format!(
                "invitations[{i}].id: give the invitation's id."
            )));
        }
        check_cancel_status(i, &input.status)?;
        if ids.iter().any(|x| x == id) {
            return Err(ApiError::invalid(format!(
                "invitations[{i}].id: \"{}\" is listed twice.",
                shorten(id, 40)
            )));
        }
        ids.push(id.to_owned());
    }
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<_, CancelError, _>(conn, |conn| {
            let mut done = Vec::with_capacity(ids.len());
            for (i, id) in ids.iter().enumerate() {
                match invitation::cancel(conn, org_id, id, &actor) {
                    Ok(inv) => done.push(inv),
                    Err(AdminChangeError::Db(e)) => return Err(CancelError::Db(e)),
                    Err(e) => return Err(CancelError::At(i, id.clone(), e)),
                }
            }
            Ok(done)
        }))
    })
    .await?;
    match result {
        Ok(done) => {
            tracing::info!(
                org_id = org.id.0,
                count = done.len(),
                "invitations cancelled through the API"
            );
            let invitations: Vec<Value> = done.iter().map(|i| invitation_json(i, true)).collect();
            Ok(ok(json!({ "invitations": invitations })))
        }
        Err(CancelError::At(i, id, e)) => Err(match e {
            AdminChangeError::NotFound => ApiError::not_found(format!(
                "invitations[{i}].id: {} has no invitation with the id \"{}\". Nothing was cancelled.",
                org.handle,
                shorten(&id, 40)
            )),
            AdminChangeError::NotPending(status) => ApiError::new(
                code::CONN_INVALID_REQUEST,
                StatusCode::CONFLICT,
                format!(
                    "invitations[{i}]: this invitation is no longer pending (it is {}). Nothing was cancelled.",
                    status.api_name()
                ),
            ),
            // A cancel never counts against the allowance.
            AdminChangeError::RateLimited => ApiError::internal("cancel reported a rate limit"),
            AdminChangeError::Db(e) => e.into(),
        }),
        Err(CancelError::Db(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cancelled_can_be_set() {
        assert!(check_cancel_status(0, &None).is_ok());
        assert!(check_cancel_status(0, &Some(json!("CANCELLED"))).is_ok());
        assert!(check_cancel_status(0, &Some(json!(3))).is_ok());
        let e = check_cancel_status(2, &Some(json!("ACCEPTED"))).unwrap_err();
        assert!(e.details.starts_with("invitations[2].status"));
        assert!(check_cancel_status(0, &Some(json!(true))).is_err());
    }

    #[test]
    fn new_invitations_are_checked_one_by_one() {
        let one = |email: &str, role: &str| InvitationIn {
            invitee_email: Some(email.to_owned()),
            role: Some(RoleIn {
                id: Some(role.to_owned()),
            }),
            ..InvitationIn::default()
        };
        let ok =
            validate_new(vec![one("A@x.co", "org_user"), one("b@x.co", "ADMIN")]).expect("valid");
        assert_eq!(
            ok,
            vec![
                ("a@x.co".to_owned(), Role::OrgUser),
                ("b@x.co".to_owned(), Role::Admin)
            ]
        );
        let e = validate_new(vec![one("a@x.co", "org_user"), one("nope", "org_user")]).unwrap_err();
        assert!(
            e.details.starts_with("invitations[1].invitee_email"),
            "{}",
            e.details
        );
        let e = validate_new(vec![one("a@x.co", "owner")]).unwrap_err();
        assert!(
            e.details.starts_with("invitations[0].role.id"),
            "{}",
            e.details
        );
        let e = validate_new(vec![one("a@x.co", "org_user"), one("A@x.co", "admin")]).unwrap_err();
        assert!(e.details.contains("listed twice"), "{}", e.details);
        assert!(validate_new(vec![]).is_err());
    }
}
