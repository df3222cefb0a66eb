//! One team's page: rename and default role; **Add Members** (a search dialog
//! over the organization's members only) and remove; the **Apps** part (grant an
//! org app with a team role or the team's default, change, revoke); the label
//! restriction, stated in plain words; **Delete Team**.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{load_team, team_error, team_role_options, TeamRoleOption};
use crate::auth::policy::{can, Action, Target, TeamRole};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::org::Org;
use crate::models::team::grants::Grant;
use crate::models::team::members::TeamMember;
use crate::models::team::{validate_team_name, Team, TeamError};
use crate::models::AccountId;
use crate::state::AppState;
use crate::web::members::audit_actor;
use crate::web::{flash, is_htmx, page as ok_page, redirect, render, FieldErrors, Nav};

/// Most candidates the Add Members dialog lists at once.
const CANDIDATES: i64 = 20;

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct TeamForm {
    pub name: String,
    pub default_role: String,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct GrantForm {
    pub app: String,
    pub role: String,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct RestrictionForm {
    pub labels: String,
}

#[derive(Template)]
#[template(path = "teams/show.html")]
struct TeamPage {
    nav: Nav,
    org: Org,
    team: Team,
    can_manage: bool,
    members: Vec<TeamMember>,
    grants: Vec<Grant>,
    roles: Vec<TeamRoleOption>,
    form: TeamForm,
    grant_form: GrantForm,
    labels: String,
    errors: FieldErrors,
}

/// The page, with forms as typed and their errors when a change was refused.
async fn team_page(
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    team: Team,
    forms: (Option<TeamForm>, Option<GrantForm>, Option<String>),
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let t = team.clone();
    let (members, grants) = crate::db::run(&state.pool, move |conn| {
        Ok((t.members(conn)?, t.grants(conn)?))
    })
    .await?;
    let can_manage = can(
        &viewer.actor,
        Action::ManageTeams,
        Target::Org(AccountId(org.id.0)),
    )
    .is_ok();
    let (form, grant_form, labels) = forms;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &TeamPage {
            nav: Nav::new(viewer),
            form: form.unwrap_or_else(|| TeamForm {
                name: team.name.clone(),
                default_role: team.default_role.clone(),
            }),
            grant_form: grant_form.unwrap_or_default(),
            labels: labels.unwrap_or_else(|| team.restriction_text()),
            org,
            team,
            can_manage,
            members,
            grants,
            roles: team_role_options(),
            errors,
        },
    )
}

fn team_url(org: &Org, team: &Team) -> String {
    format!("/{}/account/teams/{}", org.handle, team.team_id)
}

/// `GET /{org}/account/teams/{team}`
pub async fn show(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, t) = path.into_inner();
    let (_, org, team) = load_team(&state, &viewer, &o, &t, Action::ViewTeams).await?;
    team_page(
        &state,
        &viewer,
        org,
        team,
        (None, None, None),
        FieldErrors::new(),
    )
    .await
}

/// `POST /{org}/account/teams/{team}`: renames the team, sets its default role.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<TeamForm>,
) -> Result<HttpResponse, AppError> {
    let (o, t) = path.into_inner();
    let (user, org, team) = load_team(&state, &viewer, &o, &t, Action::ManageTeams).await?;
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let name = errors.check("name", validate_team_name(&form.name, &team.team_id));
    let role = TeamRole::parse(&form.default_role);
    if role.is_none() {
        errors.add("default_role", "Choose a default team role.");
    }
    let (Some(name), Some(role)) = (name, role) else {
        return team_page(&state, &viewer, org, team, (Some(form), None, None), errors).await;
    };
    let actor = audit_actor(&req, &user);
    let saved = crate::db::run(&state.pool, move |conn| {
        Ok(Team::update(conn, &team, &name, role, &actor)?)
    })
    .await?;
    flash(&viewer.session, "Team saved.");
    Ok(redirect(&req, &team_url(&org, &saved)))
}

/// `POST /{org}/account/teams/{team}/restriction`: the labels the team's members
/// are restricted to (empty lifts the restriction).
pub async fn set_restriction(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<RestrictionForm>,
) -> Result<HttpResponse, AppError> {
    let (o, t) = path.into_inner();
    let (user, org, team) = load_team(&state, &viewer, &o, &t, Action::ManageTeams).await?;
    let labels = match crate::models::labels::parse(&form.labels) {
        Ok(l) => l,
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.add("labels", message);
            let typed = form.into_inner().labels;
            return team_page(
                &state,
                &viewer,
                org,
                team,
                (None, None, Some(typed)),
                errors,
            )
            .await;
        }
    };
    let actor = audit_actor(&req, &user);
    let saved = crate::db::run(&state.pool, move |conn| {
        Ok(Team::set_restriction(conn, &team, &labels, &actor)?)
    })
    .await?;
    flash(
        &viewer.session,
        if saved.restriction().is_empty() {
            "Restriction lifted.".to_owned()
        } else {
            format!("Team restricted to {}.", saved.restriction_text())
        },
    );
    Ok(redirect(&req, &team_url(&org, &saved)))
}

/// `POST /{org}/account/teams/{team}/apps`: grants an org app (or changes the
/// role of a granted one); `role` empty = the team's default.
pub async fn grant(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<GrantForm>,
) -> Result<HttpResponse, AppError> {
    let (o, t) = path.into_inner();
    let (user, org, team) = load_team(&state, &viewer, &o, &t, Action::ManageTeams).await?;
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let role = match form.role.trim() {
        "" | "default" => Some(None),
        r => TeamRole::parse(r).map(Some),
    };
    if role.is_none() {
        errors.add("role", "Choose a team role, or the team's default.");
    }
    if form.app.trim().is_empty() {
        errors.add("app", "Enter the ID of one of the organization's apps.");
    }
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return team_page(&state, &viewer, org, team, (None, Some(form), None), errors).await;
    };
    let actor = audit_actor(&req, &user);
    let (tm, app) = (team.clone(), form.app.clone());
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(tm.grant(conn, &app, role, &actor))
    })
    .await?;
    match result {
        Ok(app) => {
            let shown = role.unwrap_or(team.default_role()).label();
            flash(
                &viewer.session,
                format!("{} granted to {} as {shown}.", app.handle, team.name),
            );
            Ok(redirect(&req, &team_url(&org, &team)))
        }
        Err(TeamError::NotOrgApp(app)) => {
            errors.add(
                "app",
                format!(
                    "{} has no app \"{app}\": only the organization's own apps can be granted.",
                    org.handle
                ),
            );
            team_page(&state, &viewer, org, team, (None, Some(form), None), errors).await
        }
        Err(e) => Err(team_error(e)),
    }
}

/// `POST /{org}/account/teams/{team}/apps/{app}/revoke`
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, t, app) = path.into_inner();
    let (user, org, team) = load_team(&state, &viewer, &o, &t, Action::ManageTeams).await?;
    let actor = audit_actor(&req, &user);
    let (tm, a) = (team.clone(), app.clone());
    crate::db::run(&state.pool, move |conn| Ok(tm.revoke(conn, &a, &actor)))
        .await?
        .map_err(team_error)?;
    flash(
        &viewer.session,
        format!("{app} revoked from {}.", team.name),
    );
    Ok(redirect(&req, &team_url(&org, &team)))
}

/// `POST /{org}/account/teams/{team}/members/{member}/remove`
pub async fn remove_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, t, member) = path.into_inner();
    let (user, org, team) = load_team(&state, &viewer, &o, &t, Action::ManageTeams).await?;
    let actor = audit_actor(&req, &user);
    let (tm, m) = (team.clone(), member.clone());
    crate::db::run(&state.pool, move |conn| {
        Ok(tm.remove_member(conn, &m, &actor))
    })
    .await?
    .map_err(team_error)?;
    flash(
        &viewer.session,
        format!("{member} was removed from {}.", team.name),
    );
    Ok(redirect(&req, &team_url(&org, &team)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CandidatesQuery {
    pub q: String,
}

#[derive(Template)]
#[template(path = "teams/add_members.html")]
struct AddMembersPage {
    nav: Nav,
    org: Org,
    team: Team,
    q: String,
    candidates: Vec<TeamMember>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "teams/add_members.html", block = "dialog")]
struct AddMembersDialog {
    nav: Nav,
    org: Org,
    team: Team,
    q: String,
    candidates: Vec<TeamMember>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "teams/add_members.html", block = "candidates")]
struct CandidateList {
    q: String,
    candidates: Vec<TeamMember>,
}

/// `GET /{org}/account/teams/{team}/members/add?q`: the Add Members dialog; with
/// htmx and `q`, only the list of matching members of the organization.
pub async fn add_members_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    query: web::Query<CandidatesQuery>,
) -> Result<HttpResponse, AppError> {
    let (o, t) = path.into_inner();
    let (_, org, team) = load_team(&state, &viewer, &o, &t, Action::ManageTeams).await?;
    let q: String = query.q.trim().chars().take(100).collect();
    let (tm, search) = (team.clone(), q.clone());
    let candidates = crate::db::run(&state.pool, move |conn| {
        Ok(tm.candidates(conn, &search, CANDIDATES)?)
    })
    .await?;
    let target = req.headers().get("hx-target").and_then(|v| v.to_str().ok());
    match (is_htmx(&req), target) {
        (true, Some("member-candidates")) => ok_page(&CandidateList { q, candidates }),
        (true, _) => ok_page(&AddMembersDialog {
            nav: Nav::new(&viewer),
            org,
            team,
            q,
            candidates,
            error: None,
        }),
        _ => ok_page(&AddMembersPage {
            nav: Nav::new(&viewer),
            org,
            team,
            q,
            candidates,
            error: None,
        }),
    }
}

/// `POST /{org}/account/teams/{team}/members/add` (`member` repeated, handles or
/// e-mail addresses): all or nothing; anyone outside the organization is
/// refused with a message saying so.
pub async fn add_members(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (o, t) = path.into_inner();
    let (user, org, team) = load_team(&state, &viewer, &o, &t, Action::ManageTeams).await?;
    let names: Vec<String> = form
        .into_inner()
        .into_iter()
        .filter(|(k, _)| k == "member")
        .flat_map(|(_, v)| {
            v.split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .take(100)
        .collect();
    let refuse = |error: String| {
        let (nav, org, team) = (Nav::new(&viewer), org.clone(), team.clone());
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        if is_htmx(&req) {
            render(
                status,
                &AddMembersDialog {
                    nav,
                    org,
                    team,
                    q: String::new(),
                    candidates: Vec::new(),
                    error: Some(error),
                },
            )
        } else {
            render(
                status,
                &AddMembersPage {
                    nav,
                    org,
                    team,
                    q: String::new(),
                    candidates: Vec::new(),
                    error: Some(error),
                },
            )
        }
    };
    if names.is_empty() {
        return refuse("Choose at least one member of the organization.".to_owned());
    }
    let actor = audit_actor(&req, &user);
    let tm = team.clone();
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(tm.add_members(conn, &names, &actor))
    })
    .await?;
    match result {
        Ok(added) => {
            flash(
                &viewer.session,
                if added.is_empty() {
                    "They were already in the team.".to_owned()
                } else {
                    format!("Added to {}: {}.", team.name, added.join(", "))
                },
            );
            Ok(redirect(&req, &team_url(&org, &team)))
        }
        Err(TeamError::NotMember(name)) => refuse(format!(
            "{name} is not a member of {}: only the organization's members can join its teams. Nobody was added.",
            org.name
        )),
        Err(e) => Err(team_error(e)),
    }
}
