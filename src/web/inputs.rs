//! **Inputs** (app sidebar): the inputs listing (thumbnails or snippets, search by
//! text, filter by concept, keyset pages), one input's page, the images, and the
//! selection actions: attach or remove a concept, delete. Upload is in `upload.rs`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::account::Owner;
use crate::models::app::App;
use crate::models::concept::Concept;
use crate::models::input::{Cursor, Input, InputQuery};
use crate::state::AppState;
use crate::web::app_page::{sidebar, Sidebar};
use crate::web::apps::load_app;
use crate::web::forms::FormData;
use crate::web::{flash, is_htmx, page, redirect, render, urlencode, Nav};

/// Inputs per page.
pub const PER_PAGE: i64 = 40;

/// The listing's query string, as typed.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct InputParams {
    pub q: String,
    pub concept: String,
    pub before: String,
    pub after: String,
}

/// One row of the listing.
pub struct InputRow {
    pub input: Input,
    pub concepts: Vec<(Concept, f64)>,
    pub snippet: String,
}

impl InputRow {
    /// True when the concept is a positive label.
    pub fn positive(&self) -> Vec<&Concept> {
        self.concepts
            .iter()
            .filter(|(_, v)| *v > 0.0)
            .map(|(c, _)| c)
            .collect()
    }
}

/// The filters of the listing, kept for links and forms.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub q: String,
    pub concept: String,
}

impl Filters {
    fn base(&self, owner: &str, app: &str) -> String {
        let mut u = format!("/{owner}/{app}/inputs?q={}", urlencode(&self.q));
        if !self.concept.is_empty() {
            u.push_str("&concept=");
            u.push_str(&urlencode(&self.concept));
        }
        u
    }
}

#[derive(Template)]
#[template(path = "inputs/list.html")]
struct ListPage {
    nav: Nav,
    sidebar: Sidebar,
    owner: Owner,
    app: App,
    filters: Filters,
    rows: Vec<InputRow>,
    total: i64,
    next_url: Option<String>,
    prev_url: Option<String>,
    concepts: Vec<Concept>,
    can_edit: bool,
    action_error: Option<String>,
}

#[derive(Template)]
#[template(path = "inputs/list.html", block = "results")]
struct ListResults {
    nav: Nav,
    owner: Owner,
    app: App,
    filters: Filters,
    rows: Vec<InputRow>,
    total: i64,
    next_url: Option<String>,
    prev_url: Option<String>,
    concepts: Vec<Concept>,
    can_edit: bool,
    action_error: Option<String>,
}

/// Most concepts offered in pickers.
pub const PICKER_LIMIT: i64 = 1000;

async fn show_list(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    owner: Owner,
    app: App,
    params: InputParams,
    action_error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let q = params.q.trim().to_owned();
    if q.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "Search for at most 200 characters.".to_owned(),
        ));
    }
    let filters = Filters {
        q: q.clone(),
        concept: params.concept.trim().to_owned(),
    };
    let app_id = app.app_id();
    let (concept_filter, before, after) = (
        filters.concept.clone(),
        params.before.trim().to_owned(),
        params.after.trim().to_owned(),
    );
    let loaded = crate::db::run(&state.pool, move |conn| {
        let concept = if concept_filter.is_empty() {
            None
        } else {
            match Concept::find(conn, app_id, &concept_filter)? {
                Some(c) => Some(c.key()),
                None => return Ok(None),
            }
        };
        // A cursor whose input was deleted meanwhile starts from the first page.
        let cursor = if !before.is_empty() {
            Input::key_of(conn, app_id, &before)?.map_or(Cursor::First, Cursor::Before)
        } else if !after.is_empty() {
            Input::key_of(conn, app_id, &after)?.map_or(Cursor::First, Cursor::After)
        } else {
            Cursor::First
        };
        let query = InputQuery {
            app: app_id,
            search: Some(q).filter(|q| !q.is_empty()),
            concept,
            cursor,
            per_page: PER_PAGE,
        };
        let page = Input::list(conn, &query)?;
        let total = Input::count(conn, &query)?;
        let concepts = Concept::all(conn, app_id, PICKER_LIMIT)?;
        Ok(Some((page, total, concepts)))
    })
    .await?;
    let Some((result, total, concepts)) = loaded else {
        return Err(AppError::BadRequest(format!(
            "This app has no concept \"{}\".",
            filters.concept
        )));
    };
    let base = filters.base(&owner.handle, &app.handle);
    let next_url = result.has_next.then(|| {
        result
            .items
            .last()
            .map(|(i, _)| format!("{base}&before={}", urlencode(&i.input_id)))
    });
    let prev_url = result.has_prev.then(|| {
        result.items.first().map_or_else(
            || base.clone(),
            |(i, _)| format!("{base}&after={}", urlencode(&i.input_id)),
        )
    });
    let rows = result
        .items
        .into_iter()
        .map(|(input, concepts)| InputRow {
            snippet: input.snippet(160),
            input,
            concepts,
        })
        .collect();
    let can_edit = can(&viewer.actor, Action::EditInputs, Target::App(&app)).is_ok();
    let status = if action_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let nav = Nav::new(viewer);
    let (next_url, prev_url) = (next_url.flatten(), prev_url);
    if is_htmx(req)
        && req
            .headers()
            .get("hx-target")
            .is_some_and(|t| t == "input-results")
    {
        render(
            status,
            &ListResults {
                nav,
                owner,
                app,
                filters,
                rows,
                total,
                next_url,
                prev_url,
                concepts,
                can_edit,
                action_error,
            },
        )
    } else {
        render(
            status,
            &ListPage {
                nav,
                sidebar: sidebar(viewer, &owner, &app, "inputs"),
                owner,
                app,
                filters,
                rows,
                total,
                next_url,
                prev_url,
                concepts,
                can_edit,
                action_error,
            },
        )
    }
}

/// `GET /{owner}/{app}/inputs`
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    params: web::Query<InputParams>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::ReadContent).await?;
    show_list(&req, &state, &viewer, owner, app, params.into_inner(), None).await
}

/// `POST /{owner}/{app}/inputs/selection`: label, unlabel or delete the selected inputs.
pub async fn selection(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/inputs"))?.clone();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditInputs).await?;
    let data = FormData {
        fields: form.into_inner(),
        files: Vec::new(),
    };
    let ids: Vec<String> = data
        .all("ids")
        .into_iter()
        .map(str::to_owned)
        .take(1000)
        .collect();
    let params = InputParams {
        q: data.get("q").to_owned(),
        concept: data.get("filter_concept").to_owned(),
        before: data.get("before").to_owned(),
        after: data.get("after").to_owned(),
    };
    let op = data.get("op").to_owned();
    let concept_raw = data.get("concept").trim().to_owned();
    let fail = |message: &str| Some(message.to_owned());
    let error = if ids.is_empty() {
        fail("Select at least one input first.")
    } else if !matches!(op.as_str(), "label" | "unlabel" | "delete") {
        fail("Choose what to do with the selected inputs.")
    } else if op != "delete" && concept_raw.is_empty() {
        fail("Choose a concept.")
    } else {
        None
    };
    if error.is_some() {
        return show_list(&req, &state, &viewer, owner, app, params, error).await;
    }
    let concept_id = if op == "delete" {
        String::new()
    } else {
        match crate::models::concept::validate_concept_id(&concept_raw) {
            Ok(c) => c,
            Err(message) => {
                return show_list(&req, &state, &viewer, owner, app, params, Some(message)).await
            }
        }
    };
    let app_id = app.app_id();
    let (op2, cid) = (op.clone(), concept_id.clone());
    let done = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction(conn, |conn| match op2.as_str() {
            "delete" => Input::delete_many(conn, app_id, &ids).map(Some),
            "label" => {
                let c = Concept::ensure(conn, app_id, std::slice::from_ref(&cid))?;
                match c.first() {
                    Some(c) => Input::label_many(conn, app_id, &ids, c.key(), 1.0).map(Some),
                    None => Ok(None),
                }
            }
            _ => match Concept::find(conn, app_id, &cid)? {
                Some(c) => Input::unlabel_many(conn, app_id, &ids, c.key()).map(Some),
                None => Ok(None),
            },
        })?)
    })
    .await?;
    let Some(n) = done else {
        let message = format!("This app has no concept \"{concept_id}\".");
        return show_list(&req, &state, &viewer, owner, app, params, Some(message)).await;
    };
    tracing::info!(user_id = user.id.0, app_id = app.id, op = %op, n, "inputs changed");
    let plural = |n: usize| if n == 1 { "input" } else { "inputs" };
    flash(
        &viewer.session,
        match op.as_str() {
            "delete" => format!("Deleted {n} {}.", plural(n)),
            "label" => format!("Labelled {n} {} with {concept_id}.", plural(n)),
            _ => format!("Removed {concept_id} from {n} {}.", plural(n)),
        },
    );
    let mut back = Filters {
        q: params.q.trim().to_owned(),
        concept: params.concept.trim().to_owned(),
    }
    .base(&owner.handle, &app.handle);
    if op != "delete" && !params.before.is_empty() {
        back.push_str(&format!("&before={}", urlencode(&params.before)));
    }
    Ok(redirect(&req, &back))
}

/// One input's page.
#[derive(Template)]
#[template(path = "inputs/detail.html")]
struct DetailPage {
    nav: Nav,
    sidebar: Sidebar,
    owner: Owner,
    app: App,
    input: Input,
    concepts: Vec<(Concept, f64)>,
    known: Vec<Concept>,
    can_edit: bool,
    created: String,
}

async fn load_input(
    state: &AppState,
    app: &App,
    input_id: String,
) -> Result<(Input, Vec<(Concept, f64)>, Vec<Concept>), AppError> {
    let app_id = app.app_id();
    crate::db::run(&state.pool, move |conn| {
        let input = Input::find(conn, app_id, &input_id)?.ok_or(AppError::NotFound)?;
        let concepts = Input::concepts_of(conn, &[input.id])?
            .remove(&input.id)
            .unwrap_or_default();
        let known = Concept::all(conn, app_id, PICKER_LIMIT)?;
        Ok((input, concepts, known))
    })
    .await
}

/// `GET /{owner}/{app}/inputs/{input}`: one input with its concepts.
pub async fn detail(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, i) = path.into_inner();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::ReadContent).await?;
    let (input, concepts, known) = load_input(&state, &app, i).await?;
    page(&DetailPage {
        nav: Nav::new(&viewer),
        sidebar: sidebar(&viewer, &owner, &app, "inputs"),
        can_edit: can(&viewer.actor, Action::EditInputs, Target::App(&app)).is_ok(),
        created: crate::web::fmt_time(&input.created_at),
        owner,
        app,
        input,
        concepts,
        known,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LabelForm {
    pub op: String,
    pub concept: String,
}

/// `POST /{owner}/{app}/inputs/{input}/concepts`: add or remove one concept.
pub async fn label_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
    form: web::Form<LabelForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a, i) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/inputs/{i}"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditInputs).await?;
    let concept_id =
        crate::models::concept::validate_concept_id(&form.concept).map_err(AppError::BadRequest)?;
    let value = match form.op.as_str() {
        "add" => Some(1.0),
        "negative" => Some(0.0),
        "remove" => None,
        _ => return Err(AppError::BadRequest("Choose add or remove.".to_owned())),
    };
    let (app_id, ids, cid) = (app.app_id(), vec![i.clone()], concept_id.clone());
    let n = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction(conn, |conn| match value {
            Some(v) => {
                let c = Concept::ensure(conn, app_id, std::slice::from_ref(&cid))?;
                match c.first() {
                    Some(c) => Input::label_many(conn, app_id, &ids, c.key(), v),
                    None => Ok(0),
                }
            }
            None => match Concept::find(conn, app_id, &cid)? {
                Some(c) => Input::unlabel_many(conn, app_id, &ids, c.key()),
                None => Ok(0),
            },
        })?)
    })
    .await?;
    if n == 0 && value.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(redirect(
        &req,
        &format!("/{}/{}/inputs/{}", owner.handle, app.handle, urlencode(&i)),
    ))
}

/// `POST /{owner}/{app}/inputs/{input}/delete`
pub async fn delete_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, i) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/inputs/{i}"))?;
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::EditInputs).await?;
    let app_id = app.app_id();
    let n = crate::db::run(&state.pool, move |conn| {
        Ok(Input::delete_many(conn, app_id, &[i])?)
    })
    .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    flash(&viewer.session, "Input deleted.");
    Ok(redirect(
        &req,
        &format!("/{}/{}/inputs", owner.handle, app.handle),
    ))
}

async fn image_response(
    state: &AppState,
    viewer: &Viewer,
    path: (String, String, String),
    thumbnail: bool,
) -> Result<HttpResponse, AppError> {
    let (o, a, i) = path;
    let (_, app) = load_app(state, viewer, &o, &a, Action::ReadContent).await?;
    let app_id = app.app_id();
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(Input::image_bytes(conn, app_id, &i, thumbnail)?)
    })
    .await?;
    let (mime, bytes) = found.ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .body(bytes))
}

/// `GET /{owner}/{app}/inputs/{input}/image`
pub async fn image(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    image_response(&state, &viewer, path.into_inner(), false).await
}

/// `GET /{owner}/{app}/inputs/{input}/thumbnail`
pub async fn thumbnail(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    image_response(&state, &viewer, path.into_inner(), true).await
}
