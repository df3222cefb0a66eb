//! Account → **Teams** of an organization (admins and Organization Contributors;
//! 404 for everyone else): the list with search, the **Create Team** dialog
//! (Team ID, Team Name, default team role) and delete. A team's own page —
//! rename, members, granted apps, label restriction — is [`page`].

pub mod page;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Target, TeamRole};
use crate::auth::session::{SignedIn, Viewer};
use crate::error::AppError;
use crate::models::org::Org;
use crate::models::team::{validate_team_id, validate_team_name, Team, TeamError, TeamSummary};
use crate::models::AccountId;
use crate::state::AppState;
use crate::web::members::audit_actor;
use crate::web::{denied, flash, is_htmx, page as ok_page, redirect, render, FieldErrors, Nav};

/// Teams per page.
pub const PER_PAGE: i64 = 50;

/// A team role as the select boxes show it.
pub struct TeamRoleOption {
    pub id: &'static str,
    pub label: &'static str,
    pub help: &'static str,
}

pub fn team_role_options() -> Vec<TeamRoleOption> {
    TeamRole::ALL
        .into_iter()
        .map(|r| TeamRoleOption {
            id: r.as_str(),
            label: r.label(),
            help: r.help(),
        })
        .collect()
}

/// Loads the org named in the path after checking `action` (404 when the
/// viewer may not see teams).
pub(crate) async fn load_org(
    state: &AppState,
    viewer: &Viewer,
    handle: &str,
    action: Action,
) -> Result<(SignedIn, Org), AppError> {
    let user = viewer.require(&format!("/{handle}/account/teams"))?.clone();
    let h = handle.to_owned();
    let org = crate::db::run(&state.pool, move |conn| Ok(Org::find_by_handle(conn, &h)?))
        .await?
        .ok_or(AppError::NotFound)?;
    can(&viewer.actor, action, Target::Org(AccountId(org.id.0))).map_err(denied)?;
    Ok((user, org))
}

/// Loads the org and its team `team_id` (404 when either is missing or hidden).
pub(crate) async fn load_team(
    state: &AppState,
    viewer: &Viewer,
    handle: &str,
    team_id: &str,
    action: Action,
) -> Result<(SignedIn, Org, Team), AppError> {
    let (user, org) = load_org(state, viewer, handle, action).await?;
    let (org_id, t) = (org.id, team_id.to_owned());
    let team = crate::db::run(&state.pool, move |conn| Ok(Team::find(conn, org_id, &t)?))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((user, org, team))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TeamsQuery {
    pub q: String,
    pub page: String,
}

#[derive(Template)]
#[template(path = "teams/index.html")]
struct TeamsPage {
    nav: Nav,
    org: Org,
    show_members: bool,
    show_security: bool,
    show_teams: bool,
    can_manage: bool,
    q: String,
    teams: Vec<TeamSummary>,
    page: i64,
    has_next: bool,
}

#[derive(Template)]
#[template(path = "teams/index.html", block = "results")]
struct TeamsResults {
    nav: Nav,
    org: Org,
    can_manage: bool,
    q: String,
    teams: Vec<TeamSummary>,
    page: i64,
    has_next: bool,
}

/// `GET /{org}/account/teams?q&page`: the list (htmx: just the results).
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    query: web::Query<TeamsQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, org) = load_org(&state, &viewer, &path, Action::ViewTeams).await?;
    let q: String = query.q.trim().chars().take(100).collect();
    let page: i64 = query
        .page
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=100_000).contains(n))
        .unwrap_or(1);
    let (org_id, search) = (org.id, q.clone());
    let mut teams = crate::db::run(&state.pool, move |conn| {
        Ok(Team::list(
            conn,
            org_id,
            &search,
            (page - 1) * PER_PAGE,
            PER_PAGE + 1,
        )?)
    })
    .await?;
    let has_next = teams.len() as i64 > PER_PAGE;
    teams.truncate(PER_PAGE as usize);
    let target = Target::Org(AccountId(org.id.0));
    let can_manage = can(&viewer.actor, Action::ManageTeams, target).is_ok();
    if is_htmx(&req)
        && req
            .headers()
            .get("hx-target")
            .is_some_and(|t| t == "team-results")
    {
        return ok_page(&TeamsResults {
            nav: Nav::new(&viewer),
            org,
            can_manage,
            q,
            teams,
            page,
            has_next,
        });
    }
    ok_page(&TeamsPage {
        nav: Nav::new(&viewer),
        show_members: can(&viewer.actor, Action::ViewMembers, target).is_ok(),
        show_security: can(&viewer.actor, Action::ViewSecurity, target).is_ok(),
        show_teams: true,
        can_manage,
        org,
        q,
        teams,
        page,
        has_next,
    })
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct CreateForm {
    pub id: String,
    pub name: String,
    pub default_role: String,
}

#[derive(Template)]
#[template(path = "teams/new.html")]
struct NewPage {
    nav: Nav,
    org: Org,
    form: CreateForm,
    errors: FieldErrors,
    roles: Vec<TeamRoleOption>,
}

#[derive(Template)]
#[template(path = "teams/new.html", block = "dialog")]
struct NewDialog {
    nav: Nav,
    org: Org,
    form: CreateForm,
    errors: FieldErrors,
    roles: Vec<TeamRoleOption>,
}

fn new_form(
    req: &HttpRequest,
    viewer: &Viewer,
    org: Org,
    form: CreateForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let nav = Nav::new(viewer);
    let roles = team_role_options();
    if is_htmx(req) {
        render(
            status,
            &NewDialog {
                nav,
                org,
                form,
                errors,
                roles,
            },
        )
    } else {
        render(
            status,
            &NewPage {
                nav,
                org,
                form,
                errors,
                roles,
            },
        )
    }
}

/// `GET /{org}/account/teams/new`: the Create Team dialog.
pub async fn create_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (_, org) = load_org(&state, &viewer, &path, Action::ManageTeams).await?;
    let form = CreateForm {
        default_role: TeamRole::LabelerWorker.as_str().to_owned(),
        ..CreateForm::default()
    };
    new_form(&req, &viewer, org, form, FieldErrors::new())
}

/// `POST /{org}/account/teams`: creates the team and opens its page.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let (user, org) = load_org(&state, &viewer, &path, Action::ManageTeams).await?;
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let id = errors.check("id", validate_team_id(&form.id));
    let name = id
        .as_deref()
        .and_then(|id| errors.check("name", validate_team_name(&form.name, id)));
    let role = TeamRole::parse(&form.default_role);
    if role.is_none() {
        errors.add("default_role", "Choose a default team role.");
    }
    let (Some(id), Some(name), Some(role)) = (id, name, role) else {
        return new_form(&req, &viewer, org, form, errors);
    };
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let created = crate::db::run(&state.pool, move |conn| {
        Ok(Team::create(conn, org_id, &id, &name, role, &actor))
    })
    .await?;
    match created {
        Ok(team) => {
            flash(&viewer.session, format!("Team {} created.", team.name));
            Ok(redirect(
                &req,
                &format!("/{}/account/teams/{}", org.handle, team.team_id),
            ))
        }
        Err(TeamError::IdTaken) => {
            errors.add("id", "Another team of this organization has this ID.");
            new_form(&req, &viewer, org, form, errors)
        }
        Err(e) => Err(team_error(e)),
    }
}

/// `POST /{org}/account/teams/{team}/delete`: deletes the team, its memberships
/// and grants (the apps stay).
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (handle, team_id) = path.into_inner();
    let (user, org, team) =
        load_team(&state, &viewer, &handle, &team_id, Action::ManageTeams).await?;
    let actor = audit_actor(&req, &user);
    let name = team.name.clone();
    crate::db::run(&state.pool, move |conn| {
        Ok(Team::delete(conn, &team, &actor)?)
    })
    .await?;
    flash(&viewer.session, format!("Team {name} deleted."));
    Ok(redirect(&req, &format!("/{}/account/teams", org.handle)))
}

/// A team change the screens cannot show next to a field.
pub(crate) fn team_error(e: TeamError) -> AppError {
    match e {
        TeamError::IdTaken => {
            AppError::BadRequest("Another team of this organization has this ID.".to_owned())
        }
        TeamError::NotMember(name) => AppError::BadRequest(format!(
            "{name} is not a member of this organization: only its members can join a team."
        )),
        TeamError::NotOrgApp(app) => AppError::BadRequest(format!(
            "The organization has no app \"{app}\": only its own apps can be granted."
        )),
        TeamError::NotInTeam(name) => {
            AppError::BadRequest(format!("{name} is not part of this team."))
        }
        TeamError::Db(e) => e.into(),
    }
}
