//! **Concepts** (a tab of Inputs): the app's concepts with their input counts,
//! search, create, and rename.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::account::Owner;
use crate::models::app::App;
use crate::models::concept::{
    validate_concept_id, validate_concept_name, Concept, ConceptCount, ConceptWriteError,
};
use crate::state::AppState;
use crate::web::app_page::{sidebar, Sidebar};
use crate::web::apps::load_app;
use crate::web::{flash, redirect, render, urlencode, FieldErrors, Nav};

/// Concepts per page.
pub const PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ConceptParams {
    pub q: String,
    pub page: String,
}

/// The create form, as typed.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ConceptForm {
    pub id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "concepts/list.html")]
struct ListPage {
    nav: Nav,
    sidebar: Sidebar,
    owner: Owner,
    app: App,
    q: String,
    page: i64,
    rows: Vec<ConceptCount>,
    has_next: bool,
    can_edit: bool,
    form: ConceptForm,
    errors: FieldErrors,
}

impl ListPage {
    fn url(&self, page: i64) -> String {
        format!(
            "/{}/{}/concepts?q={}&page={page}",
            self.owner.handle,
            self.app.handle,
            urlencode(&self.q)
        )
    }
}

async fn show(
    state: &AppState,
    viewer: &Viewer,
    owner: Owner,
    app: App,
    params: ConceptParams,
    form: ConceptForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let q = params.q.trim().to_owned();
    if q.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "Search for at most 100 characters.".to_owned(),
        ));
    }
    let page = match params.page.trim() {
        "" => 1,
        p => p
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| AppError::BadRequest("Pages start at 1.".to_owned()))?,
    };
    let (app_id, search) = (app.app_id(), q.clone());
    let (rows, has_next) = crate::db::run(&state.pool, move |conn| {
        Ok(Concept::list(conn, app_id, Some(&search), page, PER_PAGE)?)
    })
    .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &ListPage {
            nav: Nav::new(viewer),
            sidebar: sidebar(viewer, &owner, &app, "inputs"),
            can_edit: can(&viewer.actor, Action::EditInputs, Target::App(&app)).is_ok(),
            owner,
            app,
            q,
            page,
            rows,
            has_next,
            form,
            errors,
        },
    )
}

/// `GET /{owner}/{app}/concepts`
pub async fn list(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    params: web::Query<ConceptParams>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::ReadContent).await?;
    show(
        &state,
        &viewer,
        owner,
        app,
        params.into_inner(),
        ConceptForm::default(),
        FieldErrors::new(),
    )
    .await
}

/// `POST /{owner}/{app}/concepts`: creates a concept.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<ConceptForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/concepts"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditInputs).await?;
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let id = errors.check("id", validate_concept_id(&form.id));
    let name = errors.check("name", validate_concept_name(&form.name));
    let (Some(id), Some(name)) = (id, name) else {
        return show(
            &state,
            &viewer,
            owner,
            app,
            ConceptParams::default(),
            form,
            errors,
        )
        .await;
    };
    let app_id = app.app_id();
    let cid = id.clone();
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(Concept::create(conn, app_id, &cid, &name))
    })
    .await?;
    match result {
        Ok(c) => {
            flash(
                &viewer.session,
                format!("Concept {} created.", c.concept_id),
            );
            Ok(redirect(
                &req,
                &format!("/{}/{}/concepts", owner.handle, app.handle),
            ))
        }
        Err(ConceptWriteError::IdTaken) => {
            errors.add("id", format!("This app already has a concept \"{id}\"."));
            show(
                &state,
                &viewer,
                owner,
                app,
                ConceptParams::default(),
                form,
                errors,
            )
            .await
        }
        Err(ConceptWriteError::Db(e)) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RenameForm {
    pub name: String,
}

/// `POST /{owner}/{app}/concepts/{concept}/rename`
pub async fn rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
    form: web::Form<RenameForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a, c) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/concepts"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditInputs).await?;
    let name = validate_concept_name(&form.name).map_err(AppError::BadRequest)?;
    let app_id = app.app_id();
    let renamed = crate::db::run(&state.pool, move |conn| {
        let concept = Concept::find(conn, app_id, &c)?.ok_or(AppError::NotFound)?;
        let name = if name.is_empty() {
            concept.concept_id.clone()
        } else {
            name
        };
        Ok(Concept::rename(conn, concept.key(), &name)?)
    })
    .await?;
    flash(
        &viewer.session,
        format!(
            "Concept {} renamed to {}.",
            renamed.concept_id, renamed.name
        ),
    );
    Ok(redirect(
        &req,
        &format!("/{}/{}/concepts", owner.handle, app.handle),
    ))
}

/// `POST /{owner}/{app}/concepts/{concept}/delete`: deletes the concept; it
/// comes off every input that had it and out of every model that learns it
/// (trained versions keep predicting it under its id until retrained).
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, c) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/concepts"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditInputs).await?;
    let app_id = app.app_id();
    let (id, inputs, models) = crate::db::run(&state.pool, move |conn| {
        crate::db::transaction(conn, |conn| {
            let concept = Concept::find(conn, app_id, &c)?.ok_or(AppError::NotFound)?;
            let inputs = Concept::input_counts(conn, &[concept.id])?
                .get(&concept.id)
                .copied()
                .unwrap_or(0);
            let models = Concept::model_counts(conn, &[concept.id])?
                .get(&concept.id)
                .copied()
                .unwrap_or(0);
            Concept::delete_many(conn, app_id, std::slice::from_ref(&concept.concept_id))?;
            Ok((concept.concept_id, inputs, models))
        })
    })
    .await?;
    let plural = |n: i64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    flash(
        &viewer.session,
        format!(
            "Concept {id} deleted: removed from {} and {}.",
            plural(inputs, "input"),
            plural(models, "model")
        ),
    );
    Ok(redirect(
        &req,
        &format!("/{}/{}/concepts", owner.handle, app.handle),
    ))
}
