//! **App Models** (app sidebar): the listing (search, edit, delete), **Create
//! Model** (the type first, then id, name, description, concepts, visibility),
//! and the delete confirmation. The **Starred** page of the profile menu is in
//! `web::starred` (re-exported here for the route table).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Denied, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::account::{validate_handle, Owner};
use crate::models::app::{validate_description, validate_name, App, Visibility};
use crate::models::audit::EventKind;
use crate::models::concept::Concept;
use crate::models::ml_model::{MlModel, ModelFields, ModelType, ModelWriteError};
use crate::models::model_audit;
use crate::models::version::ModelVersion;
use crate::state::AppState;
use crate::web::app_page::{sidebar, Sidebar};
use crate::web::apps::load_app;
use crate::web::forms::FormData;
use crate::web::{denied, flash, is_htmx, page, redirect, render, urlencode, FieldErrors, Nav};

pub use crate::web::starred::starred;

/// Models per page.
pub const PER_PAGE: i64 = 30;
/// Most concepts a model learns.
pub const MAX_MODEL_CONCEPTS: usize = 200;

/// A model with where it lives.
pub struct ModelCtx {
    pub owner: Owner,
    pub app: App,
    pub model: MlModel,
}

/// Loads `/{owner}/{app}/models/{model}` and checks `action` on it (public models
/// are open to every signed-in user; signed-out visitors are asked to sign in).
pub async fn load_model(
    state: &AppState,
    viewer: &Viewer,
    owner: &str,
    app: &str,
    model: &str,
    action: Action,
) -> Result<ModelCtx, AppError> {
    let (o, a, m) = (owner.to_owned(), app.to_owned(), model.to_owned());
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(owner) = Owner::find_by_handle(conn, &o)? else {
            return Ok(None);
        };
        let Some(app) = App::find(conn, owner.id, &a)? else {
            return Ok(None);
        };
        Ok(MlModel::find(conn, app.app_id(), &m)?.map(|model| ModelCtx { owner, app, model }))
    })
    .await?;
    let ctx = found.ok_or(AppError::NotFound)?;
    match can(&viewer.actor, action, Target::Model(&ctx.app, &ctx.model)) {
        Ok(()) => Ok(ctx),
        Err(Denied::NotFound) if viewer.user.is_none() && ctx.model.is_public() => {
            Err(AppError::sign_in(format!("/{owner}/{app}/models/{model}")))
        }
        Err(d) => Err(denied(d)),
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ListParams {
    pub q: String,
    pub page: String,
}

/// One row of the listing.
pub struct ModelRow {
    pub model: MlModel,
    pub type_title: &'static str,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "models/list.html")]
struct ListPage {
    nav: Nav,
    sidebar: Sidebar,
    owner: Owner,
    app: App,
    q: String,
    page: i64,
    rows: Vec<ModelRow>,
    has_next: bool,
    can_edit: bool,
}

impl ListPage {
    fn url(&self, page: i64) -> String {
        format!(
            "/{}/{}/models?q={}&page={page}",
            self.owner.handle,
            self.app.handle,
            urlencode(&self.q)
        )
    }
}

/// `GET /{owner}/{app}/models`
pub async fn list(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::ReadContent).await?;
    let q = params.q.trim().to_owned();
    if q.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "Search for at most 100 characters.".to_owned(),
        ));
    }
    let page_no = match params.page.trim() {
        "" => 1,
        p => p
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| AppError::BadRequest("Pages start at 1.".to_owned()))?,
    };
    let (app_id, search) = (app.app_id(), q.clone());
    let (models, has_next) = crate::db::run(&state.pool, move |conn| {
        Ok(MlModel::list(
            conn,
            app_id,
            Some(&search),
            page_no,
            PER_PAGE,
        )?)
    })
    .await?;
    page(&ListPage {
        nav: Nav::new(&viewer),
        sidebar: sidebar(&viewer, &owner, &app, "models"),
        can_edit: can(&viewer.actor, Action::EditModels, Target::App(&app)).is_ok(),
        rows: models
            .into_iter()
            .map(|m| ModelRow {
                type_title: m.model_type().title(),
                updated: crate::web::fmt_time(&m.updated_at),
                model: m,
            })
            .collect(),
        owner,
        app,
        q,
        page: page_no,
        has_next,
    })
}

/// The Create Model form, as typed.
#[derive(Debug, Clone)]
pub struct NewModelForm {
    pub model_type: String,
    pub id: String,
    pub name: String,
    pub description: String,
    pub concepts: Vec<String>,
    pub new_concepts: String,
    pub visibility: String,
}

impl NewModelForm {
    fn blank(model_type: &str) -> NewModelForm {
        NewModelForm {
            model_type: model_type.to_owned(),
            id: String::new(),
            name: String::new(),
            description: String::new(),
            concepts: Vec::new(),
            new_concepts: String::new(),
            visibility: "private".to_owned(),
        }
    }

    fn from_data(d: &FormData) -> NewModelForm {
        NewModelForm {
            model_type: d.get("type").to_owned(),
            id: d.get("id").to_owned(),
            name: d.get("name").to_owned(),
            description: d.get("description").to_owned(),
            concepts: d.all("concepts").into_iter().map(str::to_owned).collect(),
            new_concepts: d.get("new_concepts").to_owned(),
            visibility: d.get("visibility").to_owned(),
        }
    }

    /// True when the concept box is ticked.
    pub fn has(&self, concept: &str) -> bool {
        self.concepts.iter().any(|c| c == concept)
    }
}

#[derive(Template)]
#[template(path = "models/new.html")]
struct NewPage {
    nav: Nav,
    owner: String,
    app: App,
    chosen: Option<ModelType>,
    types: Vec<ModelType>,
    form: NewModelForm,
    known: Vec<Concept>,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "models/new.html", block = "dialog")]
struct NewDialog {
    nav: Nav,
    owner: String,
    app: App,
    chosen: Option<ModelType>,
    types: Vec<ModelType>,
    form: NewModelForm,
    known: Vec<Concept>,
    errors: FieldErrors,
}

async fn show_new(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    owner: String,
    app: App,
    form: NewModelForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let app_id = app.app_id();
    let known = crate::db::run(&state.pool, move |conn| {
        Ok(Concept::all(conn, app_id, 1000)?)
    })
    .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let chosen = ModelType::parse(&form.model_type);
    let nav = Nav::new(viewer);
    let types = ModelType::ALL.to_vec();
    if is_htmx(req) {
        render(
            status,
            &NewDialog {
                nav,
                owner,
                app,
                chosen,
                types,
                form,
                known,
                errors,
            },
        )
    } else {
        render(
            status,
            &NewPage {
                nav,
                owner,
                app,
                chosen,
                types,
                form,
                known,
                errors,
            },
        )
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewParams {
    #[serde(rename = "type")]
    pub model_type: String,
}

/// `GET /{owner}/{app}/models/new[?type=...]`: choose a type, then the details.
pub async fn new_model(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    params: web::Query<NewParams>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/models/new"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditModels).await?;
    let t = params.model_type.trim();
    if !t.is_empty() && ModelType::parse(t).is_none() {
        return Err(AppError::BadRequest(format!(
            "Unknown model type \"{}\": choose Text Classifier or Visual Classifier.",
            t.chars().take(40).collect::<String>()
        )));
    }
    show_new(
        &req,
        &state,
        &viewer,
        owner.handle,
        app,
        NewModelForm::blank(t),
        FieldErrors::new(),
    )
    .await
}

/// Validates name, description and visibility (shared by create and edit).
pub fn validate_model_fields(
    errors: &mut FieldErrors,
    name: &str,
    fallback_name: &str,
    description: &str,
    visibility: &str,
) -> Option<ModelFields> {
    let name = if name.trim().is_empty() {
        fallback_name
    } else {
        name
    };
    let name = errors.check("name", validate_name(name));
    let description = errors.check("description", validate_description(description));
    let visibility = Visibility::parse(visibility);
    if visibility.is_none() {
        errors.add("visibility", "Choose private or public.");
    }
    Some(ModelFields {
        name: name?,
        description: description?,
        visibility: visibility?,
    })
}

/// Checks the chosen and typed concepts; returns their ids.
pub fn validate_concept_choice(
    errors: &mut FieldErrors,
    ticked: &[String],
    typed: &str,
) -> Option<Vec<String>> {
    let mut ids = Vec::new();
    for raw in ticked {
        match crate::models::concept::validate_concept_id(raw) {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(m) => {
                errors.add("concepts", m);
                return None;
            }
        }
    }
    match crate::content::upload::parse_concept_ids(typed, MAX_MODEL_CONCEPTS) {
        Ok(more) => {
            for id in more {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Err(m) => {
            errors.add("new_concepts", m);
            return None;
        }
    }
    if ids.len() > MAX_MODEL_CONCEPTS {
        errors.add(
            "concepts",
            format!("A model learns at most {MAX_MODEL_CONCEPTS} concepts."),
        );
        return None;
    }
    Some(ids)
}

/// `POST /{owner}/{app}/models`: creates the model and goes to its page.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/models/new"))?.clone();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditModels).await?;
    let form = NewModelForm::from_data(&FormData {
        fields: form.into_inner(),
        files: Vec::new(),
    });
    let mut errors = FieldErrors::new();
    let Some(model_type) = ModelType::parse(&form.model_type) else {
        errors.add("type", "Choose the type of model first.");
        return show_new(&req, &state, &viewer, owner.handle, app, form, errors).await;
    };
    let id = errors.check("id", validate_handle(&form.id, "a model ID"));
    let fields = validate_model_fields(
        &mut errors,
        &form.name,
        form.id.trim(),
        &form.description,
        &form.visibility,
    );
    let concepts = validate_concept_choice(&mut errors, &form.concepts, &form.new_concepts);
    let (Some(id), Some(fields), Some(concepts)) = (id, fields, concepts) else {
        return show_new(&req, &state, &viewer, owner.handle, app, form, errors).await;
    };
    let (app_id, uid, mid) = (app.app_id(), user.id, id.clone());
    let actor = crate::web::members::audit_actor(&req, &user);
    let (o2, a2) = (owner.clone(), app.clone());
    let result = crate::db::run(&state.pool, move |conn| {
        let r = crate::db::transaction(conn, |conn| {
            let keys: Vec<i64> = Concept::ensure(conn, app_id, &concepts)?
                .iter()
                .map(|c| c.id)
                .collect();
            // An error rolls back the concepts created for a model that was not.
            let m = MlModel::create(conn, app_id, &mid, model_type, &fields, &keys, Some(uid))?;
            model_audit::record(
                conn,
                &o2,
                &a2,
                &m,
                &actor,
                EventKind::ModelCreate,
                serde_json::json!({
                    "model_type": m.model_type,
                    "visibility": m.visibility,
                    "concepts": concepts,
                }),
            )?;
            Ok(m)
        });
        Ok(r)
    })
    .await?;
    match result {
        Ok(model) => {
            tracing::info!(user_id = uid.0, app_id = app.id, model = %model.model_id, "model created");
            flash(&viewer.session, format!("Model {} created.", model.name));
            Ok(redirect(
                &req,
                &format!("/{}/{}/models/{}", owner.handle, app.handle, model.model_id),
            ))
        }
        Err(ModelWriteError::IdTaken) => {
            errors.add("id", format!("This app already has a model \"{id}\"."));
            show_new(&req, &state, &viewer, owner.handle, app, form, errors).await
        }
        Err(ModelWriteError::Db(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "models/delete.html")]
struct DeletePage {
    nav: Nav,
    owner: String,
    app: String,
    model: MlModel,
}

#[derive(Template)]
#[template(path = "models/delete.html", block = "dialog")]
struct DeleteDialog {
    nav: Nav,
    owner: String,
    app: String,
    model: MlModel,
}

/// `GET /{owner}/{app}/models/{model}/delete`: the confirmation.
pub async fn delete_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/models/{m}"))?;
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::EditModels).await?;
    let nav = Nav::new(&viewer);
    let (owner, app, model) = (ctx.owner.handle, ctx.app.handle, ctx.model);
    if is_htmx(&req) {
        page(&DeleteDialog {
            nav,
            owner,
            app,
            model,
        })
    } else {
        page(&DeletePage {
            nav,
            owner,
            app,
            model,
        })
    }
}

/// `POST /{owner}/{app}/models/{model}/delete`: deletes the model and its versions.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/models/{m}"))?.clone();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::EditModels).await?;
    let key = ctx.model.key();
    let actor = crate::web::members::audit_actor(&req, &user);
    let (owner, app, model) = (ctx.owner.clone(), ctx.app.clone(), ctx.model.clone());
    let versions = crate::db::run(&state.pool, move |conn| {
        // The versions (to evict from the model cache) are read inside the
        // transaction, which holds the write lock from its start (db::transaction).
        Ok(crate::db::transaction(conn, |conn| {
            let versions = ModelVersion::list(conn, key)?;
            MlModel::delete(conn, key)?;
            model_audit::record(
                conn,
                &owner,
                &app,
                &model,
                &actor,
                EventKind::ModelDelete,
                serde_json::json!({ "name": model.name }),
            )?;
            Ok::<_, diesel::result::Error>(versions)
        })?)
    })
    .await?;
    for (v, _) in versions {
        state.models.remove(&v.version_id);
    }
    tracing::info!(user_id = user.id.0, app_id = ctx.app.id, model = %ctx.model.model_id, "model deleted");
    flash(
        &viewer.session,
        format!("Model {} deleted.", ctx.model.name),
    );
    Ok(redirect(
        &req,
        &format!("/{}/{}/models", ctx.owner.handle, ctx.app.handle),
    ))
}
