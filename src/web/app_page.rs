//! The app page with its collapsible sidebar: **Overview** (details, quick edit)
//! and **App Settings** (edit everything, including the ID, and delete).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::account::{validate_handle, Owner};
use crate::models::app::{App, AppWriteError, Visibility};
use crate::state::AppState;
use crate::web::apps::{load_app, validate_app_fields};
use crate::web::{flash, invalid, page, redirect, FieldErrors, Nav};

/// Which sidebar entry is active.
pub struct Sidebar {
    pub owner: String,
    pub app: String,
    pub active: &'static str,
    pub can_settings: bool,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct AppForm {
    pub id: String,
    pub name: String,
    pub description: String,
    pub visibility: String,
}

impl AppForm {
    fn from_app(app: &App) -> AppForm {
        AppForm {
            id: app.handle.clone(),
            name: app.name.clone(),
            description: app.description.clone(),
            visibility: app.visibility.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "app/overview.html")]
struct OverviewPage {
    nav: Nav,
    sidebar: Sidebar,
    owner: Owner,
    app: App,
    can_edit: bool,
    pinned: bool,
    created: String,
    updated: String,
    form: AppForm,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "app/settings.html")]
struct SettingsPage {
    nav: Nav,
    sidebar: Sidebar,
    owner: Owner,
    app: App,
    form: AppForm,
    errors: FieldErrors,
    can_delete: bool,
    delete_error: Option<String>,
    /// The compliance labels field (as typed when refused).
    labels: String,
}

/// The app sidebar with `active` highlighted.
pub fn sidebar(viewer: &Viewer, owner: &Owner, app: &App, active: &'static str) -> Sidebar {
    Sidebar {
        owner: owner.handle.clone(),
        app: app.handle.clone(),
        active,
        can_settings: can(&viewer.actor, Action::UpdateApp, Target::App(app)).is_ok(),
    }
}

async fn overview_page(
    state: &AppState,
    viewer: &Viewer,
    owner: Owner,
    app: App,
    form: Option<AppForm>,
    errors: FieldErrors,
) -> Result<OverviewPage, AppError> {
    let pinned = match viewer.user.as_ref() {
        Some(u) => {
            let (uid, aid) = (u.id, app.app_id());
            crate::db::run(&state.pool, move |conn| Ok(App::is_pinned(conn, uid, aid)?)).await?
        }
        None => false,
    };
    Ok(OverviewPage {
        nav: Nav::new(viewer),
        sidebar: sidebar(viewer, &owner, &app, "overview"),
        can_edit: can(&viewer.actor, Action::UpdateApp, Target::App(&app)).is_ok(),
        created: crate::web::fmt_time(&app.created_at),
        updated: crate::web::fmt_time(&app.updated_at),
        form: form.unwrap_or_else(|| AppForm::from_app(&app)),
        pinned,
        owner,
        app,
        errors,
    })
}

/// `GET /{owner}/{app}`: the Overview.
pub async fn overview(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::ReadPrivateApp).await?;
    page(&overview_page(&state, &viewer, owner, app, None, FieldErrors::new()).await?)
}

/// Validates an edit; `with_id` when the form carries the app ID (App Settings).
fn validate_edit(
    form: &AppForm,
    app: &App,
    with_id: bool,
    errors: &mut FieldErrors,
) -> Option<(String, crate::models::app::AppFields)> {
    let handle = if with_id {
        errors.check("id", validate_handle(&form.id, "an app ID"))
    } else {
        Some(app.handle.clone())
    };
    let visibility = match Visibility::parse(&form.visibility) {
        Some(v) => Some(v),
        None => {
            errors.add("visibility", "Choose private or public.");
            None
        }
    };
    let name = if form.name.trim().is_empty() {
        app.handle.as_str()
    } else {
        form.name.as_str()
    };
    let fields = validate_app_fields(
        errors,
        name,
        &form.description,
        visibility.unwrap_or(Visibility::Private),
    );
    match (handle, fields, visibility) {
        (Some(h), Some(f), Some(_)) => Some((h, f)),
        _ => None,
    }
}

/// `POST /{owner}/{app}`: saves the Overview's edit form.
pub async fn update_overview(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<AppForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    viewer.require(&format!("/{o}/{a}"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::UpdateApp).await?;
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let Some((handle, fields)) = validate_edit(&form, &app, false, &mut errors) else {
        return invalid(&overview_page(&state, &viewer, owner, app, Some(form), errors).await?);
    };
    let id = app.app_id();
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(App::update(conn, id, &handle, &fields))
    })
    .await?;
    match result {
        Ok(app) => {
            flash(&viewer.session, "App saved.");
            Ok(redirect(&req, &format!("/{}/{}", owner.handle, app.handle)))
        }
        Err(AppWriteError::IdTaken) => Err(AppError::Conflict("The app ID is taken.".to_owned())),
        Err(AppWriteError::Db(e)) => Err(e.into()),
    }
}

/// `GET /{owner}/{app}/settings`
pub async fn settings(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/settings"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::UpdateApp).await?;
    page(&SettingsPage {
        nav: Nav::new(&viewer),
        sidebar: sidebar(&viewer, &owner, &app, "settings"),
        can_delete: can(&viewer.actor, Action::DeleteApp, Target::App(&app)).is_ok(),
        form: AppForm::from_app(&app),
        labels: crate::models::labels::display(&app.labels),
        owner,
        app,
        errors: FieldErrors::new(),
        delete_error: None,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LabelsForm {
    pub labels: String,
}

/// `POST /{owner}/{app}/settings/labels`: the app's compliance labels (who may
/// edit the app may set them; teams restricted to labels reach only apps
/// carrying them). Audited for organization apps.
pub async fn update_labels(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<LabelsForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/settings"))?.clone();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::UpdateApp).await?;
    let labels = match crate::models::labels::parse(&form.labels) {
        Ok(l) => l,
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.add("labels", message);
            return invalid(&SettingsPage {
                nav: Nav::new(&viewer),
                sidebar: sidebar(&viewer, &owner, &app, "settings"),
                can_delete: can(&viewer.actor, Action::DeleteApp, Target::App(&app)).is_ok(),
                form: AppForm::from_app(&app),
                labels: form.into_inner().labels,
                owner,
                app,
                errors,
                delete_error: None,
            });
        }
    };
    let actor = crate::web::members::audit_actor(&req, &user);
    let org = owner.is_org().then_some(crate::models::OrgId(owner.id.0));
    let app_id = app.id;
    let target = crate::models::audit::AuditTarget {
        kind: "app",
        id: app.id.to_string(),
        label: format!("{}/{}", owner.handle, app.handle),
    };
    let before: Vec<String> = crate::models::labels::split(&app.labels)
        .map(str::to_owned)
        .collect();
    crate::db::run(&state.pool, move |conn| {
        Ok(App::set_labels(conn, app_id, &labels, |conn| {
            crate::models::audit::record(
                conn,
                org,
                &actor,
                crate::models::audit::EventKind::AppLabelsUpdate,
                &target,
                serde_json::json!({ "from": before, "to": labels }),
            )
        })?)
    })
    .await?;
    flash(&viewer.session, "Compliance labels saved.");
    Ok(redirect(
        &req,
        &format!("/{}/{}/settings", owner.handle, app.handle),
    ))
}

/// `POST /{owner}/{app}/settings`: edits every field, the ID included.
pub async fn update_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<AppForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/settings"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::UpdateApp).await?;
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let validated = validate_edit(&form, &app, true, &mut errors);
    let result = match validated {
        Some((handle, fields)) => {
            let id = app.app_id();
            Some(
                crate::db::run(&state.pool, move |conn| {
                    Ok(App::update(conn, id, &handle, &fields))
                })
                .await?,
            )
        }
        None => None,
    };
    match result {
        Some(Ok(saved)) => {
            flash(&viewer.session, "App settings saved.");
            return Ok(redirect(
                &req,
                &format!("/{}/{}/settings", owner.handle, saved.handle),
            ));
        }
        Some(Err(AppWriteError::IdTaken)) => {
            errors.add(
                "id",
                format!("{} already has an app with this ID.", owner.handle),
            );
        }
        Some(Err(AppWriteError::Db(e))) => return Err(e.into()),
        None => {}
    }
    invalid(&SettingsPage {
        nav: Nav::new(&viewer),
        sidebar: sidebar(&viewer, &owner, &app, "settings"),
        can_delete: can(&viewer.actor, Action::DeleteApp, Target::App(&app)).is_ok(),
        form,
        labels: crate::models::labels::display(&app.labels),
        owner,
        app,
        errors,
        delete_error: None,
    })
}
