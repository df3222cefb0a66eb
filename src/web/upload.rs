//! **Upload Inputs**: the dialog (typed texts, `.txt` / `.csv` files with an
//! optional label column, PNG / JPEG / WebP images, concepts for every input),
//! and the upload itself: every item checked, the good ones written in one
//! transaction, a report of what was skipped.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::policy::Action;
use crate::auth::session::Viewer;
use crate::content::upload::{self, Skipped, UploadPart, MAX_UPLOAD_BYTES};
use crate::error::AppError;
use crate::models::app::App;
use crate::models::concept::Concept;
use crate::models::input::{Input, InputWriteError};
use crate::state::AppState;
use crate::web::apps::load_app;
use crate::web::forms::{self, FormData, Limits};
use crate::web::inputs::PICKER_LIMIT;
use crate::web::{is_htmx, render, Nav};

/// What the upload form holds, kept when it is shown again.
#[derive(Debug, Default, Clone)]
pub struct UploadForm {
    pub texts: String,
    pub concepts: String,
}

/// Everything the upload form shows besides the layout.
pub struct UploadView {
    pub owner: String,
    pub app: App,
    pub form: UploadForm,
    pub error: Option<String>,
    pub concepts_error: Option<String>,
    pub known: Vec<Concept>,
    pub report: Option<Report>,
}

impl UploadView {
    fn new(owner: String, app: App, known: Vec<Concept>) -> UploadView {
        UploadView {
            owner,
            app,
            form: UploadForm::default(),
            error: None,
            concepts_error: None,
            known,
            report: None,
        }
    }
}

#[derive(Template)]
#[template(path = "inputs/upload.html")]
struct UploadPage {
    nav: Nav,
    v: UploadView,
}

#[derive(Template)]
#[template(path = "inputs/upload.html", block = "dialog")]
struct UploadDialog {
    nav: Nav,
    v: UploadView,
}

/// What an upload did.
pub struct Report {
    pub added: usize,
    pub skipped: Vec<Skipped>,
}

fn show_upload(
    req: &HttpRequest,
    viewer: &Viewer,
    status: StatusCode,
    v: UploadView,
) -> Result<HttpResponse, AppError> {
    let nav = Nav::new(viewer);
    if is_htmx(req) {
        render(status, &UploadDialog { nav, v })
    } else {
        render(status, &UploadPage { nav, v })
    }
}

async fn known_concepts(state: &AppState, app: &App) -> Result<Vec<Concept>, AppError> {
    let id = app.app_id();
    crate::db::run(&state.pool, move |conn| {
        Ok(Concept::all(conn, id, PICKER_LIMIT)?)
    })
    .await
}

/// `GET /{owner}/{app}/inputs/upload`: the **Upload Inputs** dialog (or page).
pub async fn upload_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/inputs/upload"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditInputs).await?;
    let known = known_concepts(&state, &app).await?;
    show_upload(
        &req,
        &viewer,
        StatusCode::OK,
        UploadView::new(owner.handle, app, known),
    )
}

fn is_text_file(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".txt") || n.ends_with(".csv")
}

/// `POST /{owner}/{app}/inputs/upload` (multipart): checks every item, writes the
/// good ones in one transaction, and reports what was skipped.
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/inputs/upload"))?.clone();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditInputs).await?;
    let limits = Limits {
        total: MAX_UPLOAD_BYTES,
        field: 20 * 1024 * 1024,
        files: upload::MAX_ITEMS,
    };
    let data = forms::read(&req, payload, limits).await;
    let known = known_concepts(&state, &app).await?;
    let mut view = UploadView::new(owner.handle, app, known);
    let data: FormData = match data {
        Ok(d) => d,
        Err(message) => {
            view.error = Some(message);
            return show_upload(&req, &viewer, StatusCode::UNPROCESSABLE_ENTITY, view);
        }
    };
    let form = UploadForm {
        texts: data.get("texts").to_owned(),
        concepts: data.get("concepts").to_owned(),
    };
    view.form = form.clone();
    let common = match upload::parse_concepts(&form.concepts) {
        Ok(c) => c,
        Err(message) => {
            view.concepts_error = Some(message);
            return show_upload(&req, &viewer, StatusCode::UNPROCESSABLE_ENTITY, view);
        }
    };
    let mut parts = Vec::new();
    if !form.texts.trim().is_empty() {
        parts.push(UploadPart::Typed(form.texts.clone()));
    }
    for f in data.files {
        parts.push(if is_text_file(&f.name) {
            UploadPart::TextFile {
                name: f.name,
                bytes: f.bytes,
            }
        } else {
            UploadPart::Image {
                name: f.name,
                bytes: f.bytes,
            }
        });
    }
    let built = web::block(move || upload::build(parts, &common))
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?;
    let built = match built {
        Ok(b) => b,
        Err(message) => {
            view.error = Some(message);
            return show_upload(&req, &viewer, StatusCode::UNPROCESSABLE_ENTITY, view);
        }
    };
    let skipped = built.skipped;
    let items = built.items;
    let (app_id, uid) = (view.app.app_id(), user.id);
    let added = if items.is_empty() {
        0
    } else {
        let result = crate::db::run(&state.pool, move |conn| {
            Ok(Input::insert_many(conn, app_id, Some(uid), &items))
        })
        .await?;
        match result {
            Ok(rows) => rows.len(),
            Err(InputWriteError::IdTaken) => {
                return Err(AppError::Conflict(
                    "Two uploads collided; please upload again.".to_owned(),
                ))
            }
            Err(InputWriteError::Db(e)) => return Err(e.into()),
        }
    };
    tracing::info!(
        user_id = uid.0,
        app_id = app_id.0,
        added,
        skipped = skipped.len(),
        "inputs uploaded"
    );
    let status = if added == 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        view.form = UploadForm::default();
        StatusCode::OK
    };
    view.report = Some(Report { added, skipped });
    show_upload(&req, &viewer, status, view)
}
