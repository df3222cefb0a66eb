//! An app's card actions that ask first: **duplicate** (asks for the new ID) and
//! **delete** (confirmed by typing the app ID), as dialogs for htmx and as pages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::Action;
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::account::validate_handle;
use crate::models::app::{validate_name, App, AppWriteError};
use crate::state::AppState;
use crate::web::apps::load_app;
use crate::web::{flash, invalid, is_htmx, page, redirect, render, FieldErrors, Nav};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DuplicateForm {
    pub new_id: String,
    pub new_name: String,
}

#[derive(Template)]
#[template(path = "apps/duplicate.html")]
struct DuplicatePage {
    nav: Nav,
    owner: String,
    app: App,
    form: DuplicateForm,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "apps/duplicate.html", block = "dialog")]
struct DuplicateDialog {
    nav: Nav,
    owner: String,
    app: App,
    form: DuplicateForm,
    errors: FieldErrors,
}

fn show_duplicate(
    req: &HttpRequest,
    viewer: &Viewer,
    owner: String,
    app: App,
    form: DuplicateForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let nav = Nav::new(viewer);
    if is_htmx(req) {
        render(
            status,
            &DuplicateDialog {
                nav,
                owner,
                app,
                form,
                errors,
            },
        )
    } else {
        render(
            status,
            &DuplicatePage {
                nav,
                owner,
                app,
                form,
                errors,
            },
        )
    }
}

/// `GET /{owner}/{app}/duplicate`: asks for the new ID.
pub async fn duplicate_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/duplicate"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::DuplicateApp).await?;
    let form = DuplicateForm {
        new_id: format!("{}-copy", app.handle).chars().take(48).collect(),
        new_name: format!("{} copy", app.name).chars().take(100).collect(),
    };
    show_duplicate(&req, &viewer, owner.handle, app, form, FieldErrors::new())
}

/// `POST /{owner}/{app}/duplicate`
pub async fn duplicate(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<DuplicateForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/duplicate"))?.clone();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::DuplicateApp).await?;
    let mut form = form.into_inner();
    let mut errors = FieldErrors::new();
    let new_id = errors.check("new_id", validate_handle(&form.new_id, "an app ID"));
    if form.new_name.trim().is_empty() {
        form.new_name = format!("{} copy", app.name).chars().take(100).collect();
    }
    let new_name = errors.check("new_name", validate_name(&form.new_name));
    let (Some(new_id), Some(new_name)) = (new_id, new_name) else {
        return show_duplicate(&req, &viewer, owner.handle, app, form, errors);
    };
    let (source, owner_id, uid) = (app.clone(), owner.id, user.id);
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(App::duplicate(
            conn, &source, owner_id, &new_id, &new_name, uid,
        ))
    })
    .await?;
    match result {
        Ok(copy) => {
            tracing::info!(
                user_id = uid.0,
                app_id = copy.id,
                source = app.id,
                "app duplicated"
            );
            flash(
                &viewer.session,
                format!("Duplicated {} as {}.", app.handle, copy.handle),
            );
            Ok(redirect(&req, &format!("/{}/apps", owner.handle)))
        }
        Err(AppWriteError::IdTaken) => {
            errors.add(
                "new_id",
                format!("{} already has an app with this ID.", owner.handle),
            );
            show_duplicate(&req, &viewer, owner.handle, app, form, errors)
        }
        Err(AppWriteError::Db(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "apps/delete.html")]
struct DeletePage {
    nav: Nav,
    owner: String,
    app: App,
    error: Option<String>,
    back: String,
}

#[derive(Template)]
#[template(path = "apps/delete.html", block = "dialog")]
struct DeleteDialog {
    nav: Nav,
    owner: String,
    app: App,
    error: Option<String>,
    back: String,
}

/// `GET /{owner}/{app}/delete`: the confirmation.
pub async fn delete_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/delete"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::DeleteApp).await?;
    let back = format!("/{}/apps", owner.handle);
    let nav = Nav::new(&viewer);
    if is_htmx(&req) {
        page(&DeleteDialog {
            nav,
            owner: owner.handle,
            app,
            error: None,
            back,
        })
    } else {
        page(&DeletePage {
            nav,
            owner: owner.handle,
            app,
            error: None,
            back,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeleteForm {
    pub confirm: String,
}

/// `POST /{owner}/{app}/delete`: confirmed by typing the app ID.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}"))?.clone();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::DeleteApp).await?;
    if form.confirm.trim() != app.handle {
        let back = format!("/{}/apps", owner.handle);
        let error = Some("Type the app ID exactly to confirm.".to_owned());
        let nav = Nav::new(&viewer);
        return if is_htmx(&req) {
            invalid(&DeleteDialog {
                nav,
                owner: owner.handle,
                app,
                error,
                back,
            })
        } else {
            invalid(&DeletePage {
                nav,
                owner: owner.handle,
                app,
                error,
                back,
            })
        };
    }
    let target = app.clone();
    crate::db::run(&state.pool, move |conn| Ok(App::delete(conn, &target)?)).await?;
    tracing::info!(user_id = user.id.0, app_id = app.id, "app deleted");
    flash(&viewer.session, format!("App {} deleted.", app.handle));
    Ok(redirect(&req, &format!("/{}/apps", owner.handle)))
}
