//! An organization's teams over the API (admins and Organization Contributors;
//! everyone else gets 11101, as if the organization did not exist):
//! `/v2/organizations/{U}/teams` (POST, GET, PATCH, DELETE with `ids`),
//! `.../teams/{T}` (GET), `.../teams/{T}/users` (POST, GET, DELETE with
//! `user_ids`) and `.../teams/{T}/apps` (POST `apps[]{app_id, role_id}`, GET,
//! DELETE with `app_ids`). Every write is all or nothing and audited by the models.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::apps::app_json;
use crate::api::auth::ApiUser;
use crate::api::orgs::load_org;
use crate::api::status::{ok, ApiError};
use crate::api::{audit_actor, parse_body, shorten, timestamp, Params};
use crate::auth::policy::{Action, TeamRole};
use crate::models::labels;
use crate::models::org::Org;
use crate::models::team::{validate_team_id, validate_team_name, Team, TeamError};
use crate::state::AppState;

/// Most teams, users or apps one request changes.
pub const MAX_BATCH: usize = 100;

fn team_json(t: &Team) -> Value {
    json!({
        "id": t.team_id,
        "name": t.name,
        "default_role_id": t.default_role,
        "restricted_labels": t.restriction(),
        "created_at": timestamp(&t.created_at),
        "modified_at": timestamp(&t.updated_at),
    })
}

fn team_role_ids() -> String {
    TeamRole::ALL.map(TeamRole::as_str).join(", ")
}

fn parse_team_role(raw: &str) -> Result<TeamRole, ApiError> {
    TeamRole::parse(&raw.trim().to_ascii_lowercase()).ok_or_else(|| {
        ApiError::invalid(format!(
            "\"{}\" is not a team role; use one of {}.",
            shorten(raw, 40),
            team_role_ids()
        ))
    })
}

fn team_error(e: TeamError) -> ApiError {
    match e {
        TeamError::IdTaken => ApiError::duplicate("Another team of this organization has this id."),
        TeamError::NotMember(name) => ApiError::invalid(format!(
            "\"{}\" is not a member of this organization: only its members can join a team.",
            shorten(&name, 60)
        )),
        TeamError::NotOrgApp(app) => ApiError::invalid(format!(
            "The organization has no app \"{}\": only its own apps can be granted.",
            shorten(&app, 60)
        )),
        TeamError::NotInTeam(name) => ApiError::not_found(format!(
            "\"{}\" is not part of this team.",
            shorten(&name, 60)
        )),
        TeamError::Db(e) => e.into(),
    }
}

/// Runs `f` in one transaction; a [`TeamError`] rolls everything back.
async fn all_or_nothing<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConn) -> Result<T, TeamError> + Send + 'static,
{
    crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction(conn, |conn| {
            f(conn).map_err(TxError::Team)
        }))
    })
    .await?
    .map_err(|e| match e {
        TxError::Team(e) => team_error(e),
    })
}

/// A transaction's error: diesel needs `From<diesel::result::Error>`.
enum TxError {
    Team(TeamError),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Team(TeamError::Db(e))
    }
}

/// The org (after the policy check) and its team `team_id` (11101 when missing).
async fn load_team(
    state: &AppState,
    user: &ApiUser,
    org: &str,
    team_id: &str,
    action: Action,
) -> Result<(Org, Team), ApiError> {
    let org = load_org(state, user, org, action).await?;
    let (org_id, t) = (org.id, team_id.to_owned());
    let team = crate::db::run(&state.pool, move |conn| Ok(Team::find(conn, org_id, &t)?))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "The organization has no team \"{}\".",
                shorten(team_id, 60)
            ))
        })?;
    Ok((org, team))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TeamIn {
    id: Option<String>,
    name: Option<String>,
    default_role_id: Option<String>,
    restricted_labels: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TeamsBody {
    teams: Option<Vec<TeamIn>>,
    ids: Option<Vec<String>>,
}

fn batch<T>(items: Option<Vec<T>>, what: &str) -> Result<Vec<T>, ApiError> {
    let items = items.unwrap_or_default();
    if items.is_empty() {
        return Err(ApiError::invalid(format!("Give at least one of {what}.")));
    }
    if items.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "At most {MAX_BATCH} {what} per request."
        )));
    }
    Ok(items)
}

fn parse_labels(raw: &[String]) -> Result<Vec<String>, ApiError> {
    labels::parse(&raw.join(",")).map_err(ApiError::invalid)
}

/// `GET /v2/organizations/{U}/teams?page&per_page`: by id.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::from_request(&req)?;
    let org = load_org(&state, &user, &path, Action::ViewTeams).await?;
    let page = params.count("page", 1, 1_000_000)?;
    let per_page = params.count("per_page", 128, 1000)?;
    let search = params
        .get("search")
        .unwrap_or("")
        .chars()
        .take(100)
        .collect::<String>();
    let org_id = org.id;
    let teams = crate::db::run(&state.pool, move |conn| {
        Ok(Team::list(
            conn,
            org_id,
            &search,
            (page - 1) * per_page,
            per_page,
        )?)
    })
    .await?;
    let teams: Vec<Value> = teams.iter().map(|t| team_json(&t.team)).collect();
    Ok(ok(json!({ "teams": teams })))
}

/// `GET /v2/organizations/{U}/teams/{T}`
pub async fn get(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (o, t) = path.into_inner();
    let (_, team) = load_team(&state, &user, &o, &t, Action::ViewTeams).await?;
    Ok(ok(json!({ "team": team_json(&team) })))
}

/// `POST /v2/organizations/{U}/teams`: `teams[]{id, name, default_role_id,
/// restricted_labels}` (the default role defaults to Labeler Worker).
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ManageTeams).await?;
    let body: TeamsBody = parse_body(&body)?;
    let mut wanted = Vec::new();
    for t in batch(body.teams, "teams")? {
        let id = validate_team_id(t.id.as_deref().unwrap_or("")).map_err(ApiError::invalid)?;
        let name =
            validate_team_name(t.name.as_deref().unwrap_or(""), &id).map_err(ApiError::invalid)?;
        let role = match t
            .default_role_id
            .as_deref()
            .filter(|r| !r.trim().is_empty())
        {
            Some(r) => parse_team_role(r)?,
            None => TeamRole::LabelerWorker,
        };
        let labels = parse_labels(&t.restricted_labels.unwrap_or_default())?;
        wanted.push((id, name, role, labels));
    }
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let created = all_or_nothing(&state, move |conn| {
        let mut out = Vec::new();
        for (id, name, role, labels) in wanted {
            let mut team = Team::create(conn, org_id, &id, &name, role, &actor)?;
            if !labels.is_empty() {
                team = Team::set_restriction(conn, &team, &labels, &actor)?;
            }
            out.push(team);
        }
        Ok(out)
    })
    .await?;
    let teams: Vec<Value> = created.iter().map(team_json).collect();
    Ok(ok(json!({ "teams": teams })))
}

/// `PATCH /v2/organizations/{U}/teams`: `teams[]{id, name?, default_role_id?,
/// restricted_labels?}`; fields left out keep their value.
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ManageTeams).await?;
    let body: TeamsBody = parse_body(&body)?;
    let mut wanted = Vec::new();
    for t in batch(body.teams, "teams")? {
        let id = t.id.clone().unwrap_or_default();
        let role = match t
            .default_role_id
            .as_deref()
            .filter(|r| !r.trim().is_empty())
        {
            Some(r) => Some(parse_team_role(r)?),
            None => None,
        };
        let labels = match &t.restricted_labels {
            Some(l) => Some(parse_labels(l)?),
            None => None,
        };
        if let Some(name) = t.name.as_deref() {
            validate_team_name(name, &id).map_err(ApiError::invalid)?;
        }
        wanted.push((id, t.name, role, labels));
    }
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let updated = all_or_nothing(&state, move |conn| {
        let mut out = Vec::new();
        for (id, name, role, labels) in wanted {
            let mut team =
                Team::find(conn, org_id, &id)?.ok_or_else(|| TeamError::NotInTeam(id.clone()))?;
            if name.is_some() || role.is_some() {
                let name = match name {
                    Some(n) => validate_team_name(&n, &team.team_id).unwrap_or(n),
                    None => team.name.clone(),
                };
                let role = role.unwrap_or(team.default_role());
                team = Team::update(conn, &team, &name, role, &actor)?;
            }
            if let Some(labels) = labels {
                team = Team::set_restriction(conn, &team, &labels, &actor)?;
            }
            out.push(team);
        }
        Ok(out)
    })
    .await?;
    let teams: Vec<Value> = updated.iter().map(team_json).collect();
    Ok(ok(json!({ "teams": teams })))
}

/// `DELETE /v2/organizations/{U}/teams` with `ids`.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ManageTeams).await?;
    let body: TeamsBody = parse_body(&body)?;
    let ids = batch(body.ids, "ids")?;
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    all_or_nothing(&state, move |conn| {
        for id in ids {
            let team =
                Team::find(conn, org_id, &id)?.ok_or_else(|| TeamError::NotInTeam(id.clone()))?;
            Team::delete(conn, &team, &actor)?;
        }
        Ok(())
    })
    .await?;
    Ok(ok(json!({})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UsersBody {
    user_ids: Option<Vec<String>>,
}

/// `GET /v2/organizations/{U}/teams/{T}/users`
pub async fn list_users(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (o, t) = path.into_inner();
    let (_, team) = load_team(&state, &user, &o, &t, Action::ViewTeams).await?;
    let members = crate::db::run(&state.pool, move |conn| Ok(team.members(conn)?)).await?;
    let users: Vec<Value> = members
        .iter()
        .map(|m| {
            json!({
                "id": m.handle,
                "full_name": m.name,
                "primary_email": m.email,
                "organization_role": { "id": m.role.as_str(), "name": m.role.label() },
                "added_at": m.added_at.as_ref().map(timestamp),
            })
        })
        .collect();
    Ok(ok(json!({ "team_users": users })))
}

/// `POST /v2/organizations/{U}/teams/{T}/users` with `user_ids` (handles or
/// e-mail addresses of the organization's members; anyone else refuses all).
pub async fn add_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (o, t) = path.into_inner();
    let (_, team) = load_team(&state, &user, &o, &t, Action::ManageTeams).await?;
    let body: UsersBody = parse_body(&body)?;
    let ids = batch(body.user_ids, "user_ids")?;
    let actor = audit_actor(&req, &user);
    crate::db::run(&state.pool, move |conn| {
        Ok(team.add_members(conn, &ids, &actor))
    })
    .await?
    .map_err(team_error)?;
    list_users(state, user, web::Path::from((o, t))).await
}

/// `DELETE /v2/organizations/{U}/teams/{T}/users` with `user_ids`.
pub async fn remove_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (o, t) = path.into_inner();
    let (_, team) = load_team(&state, &user, &o, &t, Action::ManageTeams).await?;
    let body: UsersBody = parse_body(&body)?;
    let ids = batch(body.user_ids, "user_ids")?;
    let actor = audit_actor(&req, &user);
    all_or_nothing(&state, move |conn| {
        for id in ids {
            team.remove_member(conn, &id, &actor)?;
        }
        Ok(())
    })
    .await?;
    Ok(ok(json!({})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AppGrantIn {
    app_id: Option<String>,
    role_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AppsBody {
    apps: Option<Vec<AppGrantIn>>,
    app_ids: Option<Vec<String>>,
}

/// `GET /v2/organizations/{U}/teams/{T}/apps`: `apps[]{app, role_id}` (the role
/// in effect; `role_is_default` when it follows the team's default).
pub async fn list_apps(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (o, t) = path.into_inner();
    let (org, team) = load_team(&state, &user, &o, &t, Action::ViewTeams).await?;
    let grants = crate::db::run(&state.pool, move |conn| Ok(team.grants(conn)?)).await?;
    let apps: Vec<Value> = grants
        .iter()
        .map(|g| {
            json!({
                "app": app_json(&org.handle, &g.app),
                "role_id": g.effective.as_str(),
                "role_is_default": g.role.is_none(),
            })
        })
        .collect();
    Ok(ok(json!({ "apps": apps })))
}

/// `POST /v2/organizations/{U}/teams/{T}/apps` with `apps[]{app_id, role_id}`
/// (no `role_id`: the team's default); granting again changes the role.
pub async fn grant_apps(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (o, t) = path.into_inner();
    let (_, team) = load_team(&state, &user, &o, &t, Action::ManageTeams).await?;
    let body: AppsBody = parse_body(&body)?;
    let mut wanted = Vec::new();
    for g in batch(body.apps, "apps")? {
        let app = g
            .app_id
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| ApiError::invalid("Every entry of apps needs an app_id."))?;
        let role = match g.role_id.as_deref().filter(|r| !r.trim().is_empty()) {
            Some(r) => Some(parse_team_role(r)?),
            None => None,
        };
        wanted.push((app, role));
    }
    let actor = audit_actor(&req, &user);
    all_or_nothing(&state, move |conn| {
        for (app, role) in wanted {
            team.grant(conn, &app, role, &actor)?;
        }
        Ok(())
    })
    .await?;
    list_apps(state, user, web::Path::from((o, t))).await
}

/// `DELETE /v2/organizations/{U}/teams/{T}/apps` with `app_ids`.
pub async fn revoke_apps(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (o, t) = path.into_inner();
    let (_, team) = load_team(&state, &user, &o, &t, Action::ManageTeams).await?;
    let body: AppsBody = parse_body(&body)?;
    let ids = batch(body.app_ids, "app_ids")?;
    let actor = audit_actor(&req, &user);
    all_or_nothing(&state, move |conn| {
        for app in ids {
            team.revoke(conn, &app, &actor)?;
        }
        Ok(())
    })
    .await?;
    Ok(ok(json!({})))
}
