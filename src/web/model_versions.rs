//! The model page's **Versions** tab (status with progress and failure reason,
//! counts, times, metrics, the confusion matrix drawn as an SVG picture, delete)
//! and its **Concepts** tab (searchable).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::Action;
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::ml::metrics::Metrics;
use crate::models::concept::Concept;
use crate::models::ml_model::MlModel;
use crate::models::version::ModelVersion;
use crate::state::AppState;
use crate::web::model_page::{header, ModelHeader};
use crate::web::models::load_model;
use crate::web::{flash, is_htmx, page, redirect, Nav};

/// One square of the confusion matrix.
pub struct Cell {
    pub x: u32,
    pub y: u32,
    pub side: u32,
    pub opacity: String,
    pub count: u64,
    pub text_x: u32,
    pub text_y: u32,
    /// White text on a dark square.
    pub light: bool,
    pub title: String,
}

/// A label along an axis.
pub struct AxisLabel {
    pub x: u32,
    pub y: u32,
    pub text: String,
}

/// The confusion matrix as an SVG picture (rows: true concept, columns: predicted).
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub cells: Vec<Cell>,
    pub cols: Vec<AxisLabel>,
    pub rows: Vec<AxisLabel>,
    pub grid_x: u32,
    pub grid_y: u32,
    pub grid_side: u32,
}

fn short(s: &str) -> String {
    if s.chars().count() > 14 {
        let mut t: String = s.chars().take(13).collect();
        t.push('…');
        t
    } else {
        s.to_owned()
    }
}

/// Lays the matrix out: each cell shaded by its share of the true concept's row.
pub fn chart(m: &Metrics) -> Option<Chart> {
    let n = m.concepts.len();
    if n == 0 || m.confusion.len() != n {
        return None;
    }
    let side = (420 / n as u32).clamp(14, 64);
    let (left, top) = (120_u32, 110_u32);
    let mut cells = Vec::with_capacity(n * n);
    for (r, row) in m.confusion.iter().enumerate() {
        let total: u64 = row.iter().sum();
        for (c, &count) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            let (x, y) = (left + c as u32 * side, top + r as u32 * side);
            cells.push(Cell {
                x,
                y,
                side,
                opacity: format!("{:.3}", 0.06 + 0.94 * share),
                count,
                text_x: x + side / 2,
                text_y: y + side / 2 + 4,
                light: share > 0.5,
                title: format!(
                    "{} predicted as {}: {count}",
                    m.concepts[r].concept_id, m.concepts[c].concept_id
                ),
            });
        }
    }
    let cols = m
        .concepts
        .iter()
        .enumerate()
        .map(|(c, s)| AxisLabel {
            x: left + c as u32 * side + side / 2,
            y: top - 8,
            text: short(&s.concept_id),
        })
        .collect();
    let rows = m
        .concepts
        .iter()
        .enumerate()
        .map(|(r, s)| AxisLabel {
            x: left - 8,
            y: top + r as u32 * side + side / 2 + 4,
            text: short(&s.concept_id),
        })
        .collect();
    Some(Chart {
        width: left + side * n as u32 + 10,
        height: top + side * n as u32 + 10,
        cells,
        cols,
        rows,
        grid_x: left,
        grid_y: top,
        grid_side: side * n as u32,
    })
}

/// A version as the tab shows it.
pub struct VersionView {
    pub v: ModelVersion,
    pub progress: i32,
    pub metrics: Option<Metrics>,
    pub chart: Option<Chart>,
    pub created: String,
    pub completed: Option<String>,
}

impl VersionView {
    /// A fraction as a percentage with one decimal.
    pub fn pct(&self, x: &f64) -> String {
        format!("{:.1}%", x * 100.0)
    }
}

#[derive(Template)]
#[template(path = "model/versions.html")]
struct VersionsPage {
    nav: Nav,
    h: ModelHeader,
    versions: Vec<VersionView>,
    pending: bool,
}

#[derive(Template)]
#[template(path = "model/versions.html", block = "versions")]
struct VersionsBlock {
    nav: Nav,
    h: ModelHeader,
    versions: Vec<VersionView>,
    pending: bool,
}

/// `GET /{owner}/{app}/models/{model}/versions` (htmx polls the block while a
/// version is queued or training).
pub async fn versions(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::ReadContent).await?;
    let key = ctx.model.key();
    let rows = crate::db::run(&state.pool, move |conn| Ok(ModelVersion::list(conn, key)?)).await?;
    let versions: Vec<VersionView> = rows
        .into_iter()
        .map(|(v, progress)| {
            let metrics = v.metrics.as_deref().and_then(Metrics::from_json);
            VersionView {
                chart: metrics.as_ref().and_then(chart),
                created: crate::web::fmt_time(&v.created_at),
                completed: v.completed_at.as_ref().map(crate::web::fmt_time),
                progress,
                metrics,
                v,
            }
        })
        .collect();
    let pending = versions.iter().any(|v| v.v.is_pending());
    let h = header(&state, &viewer, ctx).await?;
    let nav = Nav::new(&viewer);
    if is_htmx(&req)
        && req
            .headers()
            .get("hx-target")
            .is_some_and(|t| t == "versions")
    {
        page(&VersionsBlock {
            nav,
            h,
            versions,
            pending,
        })
    } else {
        page(&VersionsPage {
            nav,
            h,
            versions,
            pending,
        })
    }
}

/// `POST /{owner}/{app}/models/{model}/versions/{version}/delete`
pub async fn delete_version(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m, v) = path.into_inner();
    let user = viewer
        .require(&format!("/{o}/{a}/models/{m}/versions"))?
        .clone();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::EditModels).await?;
    let key = ctx.model.key();
    let vid = v.clone();
    let actor = crate::web::members::audit_actor(&req, &user);
    let (owner, app, model) = (ctx.owner.clone(), ctx.app.clone(), ctx.model.clone());
    crate::db::run(&state.pool, move |conn| {
        let version = ModelVersion::find(conn, key, &vid)?.ok_or(AppError::NotFound)?;
        Ok(crate::db::transaction(conn, |conn| {
            ModelVersion::delete(conn, version.key())?;
            crate::models::model_audit::record(
                conn,
                &owner,
                &app,
                &model,
                &actor,
                crate::models::audit::EventKind::ModelVersionDelete,
                serde_json::json!({ "version": vid }),
            )
        })?)
    })
    .await?;
    state.models.remove(&v);
    flash(&viewer.session, format!("Version {v} deleted."));
    Ok(redirect(
        &req,
        &format!(
            "/{}/{}/models/{}/versions",
            ctx.owner.handle, ctx.app.handle, ctx.model.model_id
        ),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConceptParams {
    pub q: String,
}

#[derive(Template)]
#[template(path = "model/concepts.html")]
struct ConceptsPage {
    nav: Nav,
    h: ModelHeader,
    q: String,
    concepts: Vec<Concept>,
}

/// `GET /{owner}/{app}/models/{model}/concepts?q=`: the Concepts tab.
pub async fn concepts(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
    params: web::Query<ConceptParams>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::ReadContent).await?;
    let q = params.q.trim().to_owned();
    if q.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "Search for at most 100 characters.".to_owned(),
        ));
    }
    let (key, search) = (ctx.model.key(), q.clone());
    let concepts = crate::db::run(&state.pool, move |conn| {
        Ok(MlModel::concepts(conn, key, Some(&search))?)
    })
    .await?;
    page(&ConceptsPage {
        nav: Nav::new(&viewer),
        h: header(&state, &viewer, ctx).await?,
        q,
        concepts,
    })
}
