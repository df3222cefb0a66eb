//! An organization's members over the API (admins only; everyone else gets
//! 11101, as if the organization did not exist): `GET /v2/organizations/{U}/members`
//! (paginated, searchable, the whole list of up to 1,000 in one constant-cost
//! query), `PATCH` (`organization_members[]{id, role_id}`: role changes, all or
//! none) and `DELETE .../members/{member_id}`. The models write the audit trail;
//! the last admin can be neither demoted nor removed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::orgs::load_org;
use crate::api::status::{code, ok, ok_typed, ApiError};
use crate::api::{audit_actor, parse_body, shorten, timestamp, Params};
use crate::auth::policy::{Action, Role};
use crate::models::org::{Member, MemberChangeError, Membership, Org, RoleChange};
use crate::state::AppState;

/// Members per page when the request does not say.
pub const DEFAULT_PER_PAGE: i64 = 128;
/// Most members per page.
pub const MAX_PER_PAGE: i64 = 1000;
/// Most role changes one `PATCH` carries.
pub const MAX_BATCH: usize = 100;
/// Longest search text.
const MAX_SEARCH_LEN: usize = 100;

/// A role as the API shows it: `{"id": "org_user", "name": "Organization User ..."}`.
pub fn role_json(role: Role) -> Value {
    json!({ "id": role.as_str(), "name": role.label() })
}

/// The role ids, for messages.
pub fn role_ids() -> String {
    Role::ALL.map(Role::as_str).join(", ")
}

/// Reads a role id (`None` when it names no role).
pub fn parse_role(raw: &str) -> Option<Role> {
    Role::parse(&raw.trim().to_ascii_lowercase())
}

/// A member as the API shows it (borrowed from the row, written straight out).
#[derive(Serialize)]
struct MemberOut<'a> {
    user: MemberUserOut<'a>,
    role: RoleOut,
    created_at: String,
}

#[derive(Serialize)]
struct MemberUserOut<'a> {
    id: &'a str,
    full_name: &'a str,
    primary_email: &'a str,
}

/// `{"id": "org_user", "name": "Organization User ..."}` as a struct.
#[derive(Serialize)]
struct RoleOut {
    id: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct MembersOut<'a> {
    organization_members: Vec<MemberOut<'a>>,
}

fn member_out(m: &Member) -> MemberOut<'_> {
    MemberOut {
        user: MemberUserOut {
            id: &m.handle,
            full_name: &m.name,
            primary_email: &m.email,
        },
        role: RoleOut {
            id: m.role.as_str(),
            name: m.role.label(),
        },
        created_at: timestamp(&m.joined_at),
    }
}

/// `GET /v2/organizations/{U}/members?page&per_page&search`: ordered by id (handle);
/// `search` matches id, name or e-mail, case-insensitively.
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
    let search = params.get("search").unwrap_or("").to_owned();
    if search.chars().count() > MAX_SEARCH_LEN {
        return Err(ApiError::invalid(format!(
            "search is at most {MAX_SEARCH_LEN} characters."
        )));
    }
    let org_id = org.id;
    let members = crate::db::run(&state.pool, move |conn| {
        Ok(crate::models::member_list::members_page(
            conn,
            org_id,
            &search,
            (page - 1) * per_page,
            per_page,
        )?)
    })
    .await?;
    Ok(ok_typed(&MembersOut {
        organization_members: members.iter().map(member_out).collect(),
    }))
}

/// A member in a `PATCH` body: `{"id": "<user id>", "role_id": "org_user"}`
/// (`{"role": {"id": ...}}` is read too).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MemberIn {
    id: Option<String>,
    role_id: Option<String>,
    role: Option<RoleIn>,
}

/// `{"id": "org_user"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoleIn {
    pub id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PatchMembersBody {
    organization_members: Option<Vec<MemberIn>>,
    action: Option<String>,
}

/// Validates a `PATCH` body into (index in the request, member id, new role).
fn validate_changes(
    user: &ApiUser,
    body: PatchMembersBody,
) -> Result<Vec<(usize, String, Role)>, ApiError> {
    match body
        .action
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("overwrite") | Some("merge") => {}
        Some("remove") => {
            return Err(ApiError::invalid(
                "action remove is not supported: remove a member with \
                 DELETE /v2/organizations/{id}/members/{member_id}.",
            ))
        }
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "action must be overwrite or merge, not \"{}\".",
                shorten(other, 40)
            )))
        }
    }
    let inputs = body.organization_members.unwrap_or_default();
    if inputs.is_empty() {
        return Err(ApiError::invalid(
            "organization_members: give the members to change, as {\"id\", \"role_id\"}.",
        ));
    }
    if inputs.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "organization_members: change at most {MAX_BATCH} members per request."
        )));
    }
    let mut changes: Vec<(usize, String, Role)> = Vec::with_capacity(inputs.len());
    for (i, m) in inputs.into_iter().enumerate() {
        let p = |field: &str, msg: String| {
            ApiError::invalid(format!("organization_members[{i}].{field}: {msg}"))
        };
        let id = m.id.as_deref().map(str::trim).unwrap_or("");
        if id.is_empty() {
            return Err(p("id", "give the member's user id.".to_owned()));
        }
        let id = user.resolve(id).to_owned();
        let raw_role = m
            .role_id
            .or_else(|| m.role.and_then(|r| r.id))
            .unwrap_or_default();
        if raw_role.trim().is_empty() {
            return Err(p(
                "role_id",
                format!("give the new role: one of {}.", role_ids()),
            ));
        }
        let role = parse_role(&raw_role).ok_or_else(|| {
            p(
                "role_id",
                format!(
                    "\"{}\" is not a role: use one of {}.",
                    shorten(&raw_role, 40),
                    role_ids()
                ),
            )
        })?;
        if changes.iter().any(|(_, h, _)| *h == id) {
            return Err(p(
                "id",
                format!("\"{}\" is listed twice.", shorten(&id, 60)),
            ));
        }
        changes.push((i, id, role));
    }
    // Promotions first, so that one request can hand the admin role over.
    changes.sort_by_key(|(i, _, role)| (*role != Role::Admin, *i));
    Ok(changes)
}

/// A refused change of a batch, with its place in the request.
enum BatchError {
    At(usize, String, MemberChangeError),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for BatchError {
    fn from(e: diesel::result::Error) -> Self {
        BatchError::Db(e)
    }
}

/// The answer to a refused member change.
fn change_error(at: Option<usize>, handle: &str, org: &Org, e: MemberChangeError) -> ApiError {
    let prefix = at
        .map(|i| format!("organization_members[{i}]: "))
        .unwrap_or_default();
    let conflict = |m: String| {
        ApiError::new(
            code::CONN_INVALID_REQUEST,
            StatusCode::CONFLICT,
            format!("{prefix}{m}"),
        )
    };
    match e {
        MemberChangeError::NotMember => ApiError::not_found(format!(
            "{prefix}\"{}\" is not a member of {}.",
            shorten(handle, 60),
            org.handle
        )),
        MemberChangeError::LastAdmin => conflict(format!(
            "{handle} is the only admin of {}, and an organization always keeps an admin. \
             Make another member admin first (in the same request, or before).",
            org.handle
        )),
        MemberChangeError::Myself => conflict(format!(
            "You cannot remove yourself: leave with DELETE /v2/organizations/{}/leave.",
            org.handle
        )),
        MemberChangeError::Db(e) => e.into(),
    }
}

/// `PATCH /v2/organizations/{U}/members`: `{"organization_members": [{"id", "role_id"}]}`.
/// Every change is made, or none (one transaction); each is recorded in the audit trail.
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ManageMembers).await?;
    let body: PatchMembersBody = parse_body(&body)?;
    let changes = validate_changes(&user, body)?;
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<_, BatchError, _>(conn, |conn| {
            let mut done: Vec<(usize, RoleChange)> = Vec::with_capacity(changes.len());
            for (i, handle, role) in &changes {
                match Membership::change_role(conn, org_id, handle, *role, &actor) {
                    Ok(c) => done.push((*i, c)),
                    Err(MemberChangeError::Db(e)) => return Err(BatchError::Db(e)),
                    Err(e) => return Err(BatchError::At(*i, handle.clone(), e)),
                }
            }
            done.sort_by_key(|(i, _)| *i);
            Ok(done)
        }))
    })
    .await?;
    match result {
        Ok(done) => {
            tracing::info!(
                org_id = org.id.0,
                count = done.len(),
                "member roles changed through the API"
            );
            let members: Vec<Value> = done
                .iter()
                .map(|(_, c)| {
                    json!({
                        "user": { "id": c.handle },
                        "role": role_json(c.to),
                        "previous_role": role_json(c.from),
                    })
                })
                .collect();
            Ok(ok(json!({ "organization_members": members })))
        }
        Err(BatchError::At(i, handle, e)) => Err(change_error(Some(i), &handle, &org, e)),
        Err(BatchError::Db(e)) => Err(e.into()),
    }
}

/// `DELETE /v2/organizations/{U}/members/{member_id}`: the member's sessions end at
/// once; their personal account and apps stay, and apps they made in the
/// organization stay in it.
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (o, member) = path.into_inner();
    let org = load_org(&state, &user, &o, Action::ManageMembers).await?;
    let member = user.resolve(&member).to_owned();
    let actor = audit_actor(&req, &user);
    let (org_id, target) = (org.id, member.clone());
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(Membership::remove(conn, org_id, &target, &actor))
    })
    .await?;
    match result {
        Ok(uid) => {
            tracing::info!(
                org_id = org.id.0,
                user_id = uid.0,
                "member removed through the API"
            );
            Ok(ok(json!({})))
        }
        Err(e) => Err(change_error(None, &member, &org, e)),
    }
}
