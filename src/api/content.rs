//! What the app-content endpoints (concepts, inputs, models, versions, outputs)
//! share: finding the app a request is about — from the path
//! (`/v2/users/{U}/apps/{A}/...`) or, for the short forms the `clarifai-grpc`
//! client also knows (`/v2/inputs`, `/v2/models/{M}/outputs`, ...), from
//! `user_app_id` in the body or the query — with the policy's answer; loading a
//! model the same way; pagination; and the JSON of each resource.

use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::status::{code, ApiError};
use crate::api::{shorten, timestamp, Params};
use crate::auth::policy::{can, Action, Denied, Target};
use crate::models::account::Owner;
use crate::models::app::{App, Visibility};
use crate::models::concept::Concept;
use crate::models::input::Input;
use crate::models::ml_model::MlModel;
use crate::models::version::ModelVersion;
use crate::state::AppState;

/// Items per page when the request does not say.
pub const DEFAULT_PER_PAGE: i64 = 128;
/// Most items per page.
pub const MAX_PER_PAGE: i64 = 1000;
/// Most items one request may create, change or delete.
pub const MAX_BATCH: usize = 1000;
/// Largest body of the endpoints that carry inputs (texts, base64 images).
pub const MAX_CONTENT_BODY: usize = 64 * 1024 * 1024;

/// `user_app_id` as clients send it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct UserAppId {
    pub user_id: Option<String>,
    pub app_id: Option<String>,
}

/// `pagination` of the search requests.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Pagination {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl Pagination {
    /// `(page, per_page)`, checked.
    pub fn resolve(&self) -> Result<(i64, i64), ApiError> {
        let page = match self.page {
            None | Some(0) => 1,
            Some(p) if p > 0 => p,
            Some(p) => {
                return Err(ApiError::invalid(format!(
                    "pagination.page must be positive, not {p}."
                )))
            }
        };
        let per_page = match self.per_page {
            None | Some(0) => DEFAULT_PER_PAGE,
            Some(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
            Some(_) => {
                return Err(ApiError::invalid(format!(
                    "pagination.per_page must be between 1 and {MAX_PER_PAGE}."
                )))
            }
        };
        Ok((page, per_page))
    }
}

/// `page` and `per_page` of a GET request.
pub fn page_params(params: &Params) -> Result<(i64, i64), ApiError> {
    Ok((
        params.count("page", 1, 1_000_000)?,
        params.count("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
    ))
}

/// Which app a request names, before it is looked up.
#[derive(Debug, Clone)]
pub struct AppRef {
    pub user: String,
    pub app: String,
}

impl AppRef {
    /// From the path when it names the app, otherwise from `user_app_id` in the
    /// body (`body`) or in the query string (GET). `me` stands for the key's user.
    pub fn of(
        req: &HttpRequest,
        user: &ApiUser,
        body: Option<&UserAppId>,
    ) -> Result<AppRef, ApiError> {
        let (u, a) = match (req.match_info().get("user"), req.match_info().get("app")) {
            (Some(u), Some(a)) => (u.to_owned(), a.to_owned()),
            _ => {
                let (u, a) = match body {
                    Some(b) => (b.user_id.clone(), b.app_id.clone()),
                    None => {
                        let params = Params::from_request(req)?;
                        (
                            params.get("user_app_id.user_id").map(str::to_owned),
                            params.get("user_app_id.app_id").map(str::to_owned),
                        )
                    }
                };
                let a = a.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
                let Some(a) = a else {
                    return Err(ApiError::invalid(
                        "user_app_id.app_id: name the app (or use /v2/users/{user_id}/apps/{app_id}/...).",
                    ));
                };
                let u = u
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| crate::api::auth::ME.to_owned());
                (u, a)
            }
        };
        Ok(AppRef {
            user: user.resolve(&u).to_owned(),
            app: a,
        })
    }
}

/// An app with its owner, checked for an action.
pub struct AppCtx {
    pub owner: Owner,
    pub app: App,
}

fn app_gone(r: &AppRef) -> ApiError {
    ApiError::not_found(format!(
        "The app \"{}/{}\" does not exist.",
        shorten(&r.user, 60),
        shorten(&r.app, 60)
    ))
}

async fn find_app(state: &AppState, r: &AppRef) -> Result<Option<AppCtx>, ApiError> {
    let (o, a) = (r.user.clone(), r.app.clone());
    crate::db::run(&state.pool, move |conn| {
        let Some(owner) = Owner::find_by_handle(conn, &o)? else {
            return Ok(None);
        };
        Ok(App::find(conn, owner.id, &a)?.map(|app| AppCtx { owner, app }))
    })
    .await
    .map_err(ApiError::from)
}

/// Loads the app and checks `action` on it; a missing app and one the key may
/// not see answer the same 11101.
pub async fn load_app(
    state: &AppState,
    user: &ApiUser,
    r: &AppRef,
    action: Action,
) -> Result<AppCtx, ApiError> {
    let ctx = find_app(state, r).await?.ok_or_else(|| app_gone(r))?;
    match can(&user.actor, action, Target::App(&ctx.app)) {
        Ok(()) => Ok(ctx),
        Err(Denied::NotFound) => Err(app_gone(r)),
        Err(d) => Err(d.into()),
    }
}

/// A model with its app and owner, checked for an action.
pub struct ModelCtx {
    pub owner: Owner,
    pub app: App,
    pub model: MlModel,
}

/// 21200: no such model (or one the key may not know of).
pub fn model_gone(model_id: &str) -> ApiError {
    ApiError::new(
        code::MODEL_DOES_NOT_EXIST,
        StatusCode::NOT_FOUND,
        format!("The model \"{}\" does not exist.", shorten(model_id, 80)),
    )
}

/// Loads a model of the app and checks `action` on it (public models are open
/// to every signed-in user even when their app is not).
pub async fn load_model(
    state: &AppState,
    user: &ApiUser,
    r: &AppRef,
    model_id: &str,
    action: Action,
) -> Result<ModelCtx, ApiError> {
    let ctx = find_app(state, r).await?.ok_or_else(|| app_gone(r))?;
    let (app_key, m) = (ctx.app.app_id(), model_id.to_owned());
    let model = crate::db::run(&state.pool, move |conn| {
        Ok(MlModel::find(conn, app_key, &m)?)
    })
    .await?;
    let Some(model) = model else {
        // Whoever cannot read the app learns nothing, not even that a model is missing.
        return match can(&user.actor, Action::ReadContent, Target::App(&ctx.app)) {
            Ok(()) => Err(model_gone(model_id)),
            Err(Denied::NotFound) => Err(app_gone(r)),
            Err(d) => Err(d.into()),
        };
    };
    match can(&user.actor, action, Target::Model(&ctx.app, &model)) {
        Ok(()) => Ok(ModelCtx {
            owner: ctx.owner,
            app: ctx.app,
            model,
        }),
        Err(Denied::NotFound) => {
            let readable = can(
                &user.actor,
                Action::ReadContent,
                Target::Model(&ctx.app, &model),
            );
            match readable {
                // A public model is no secret: say what is refused.
                Ok(()) => Err(ApiError::forbidden(
                    "Permission denied: outside its app, a public model can be read, starred and used for prediction, not changed.",
                )),
                Err(_) if !model.is_public() => Err(app_gone(r)),
                Err(_) => Err(model_gone(model_id)),
            }
        }
        Err(d) => Err(d.into()),
    }
}

/// Reads a PATCH `action`: `overwrite` (the default), `merge` or `remove`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchAction {
    Overwrite,
    Merge,
    Remove,
}

impl PatchAction {
    pub fn parse(raw: Option<&str>) -> Result<PatchAction, ApiError> {
        match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("overwrite") => Ok(PatchAction::Overwrite),
            Some("merge") => Ok(PatchAction::Merge),
            Some("remove") => Ok(PatchAction::Remove),
            Some(other) => Err(ApiError::invalid(format!(
                "action must be overwrite, merge or remove, not \"{}\".",
                shorten(other, 40)
            ))),
        }
    }
}

/// `concepts[]{id, value}` as clients send them inside `data`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ConceptIn {
    pub id: Option<String>,
    pub name: Option<String>,
    pub value: Option<f64>,
}

/// `visibility{gettable}` read as the apps API reads it.
pub fn visibility_from(
    v: &Option<crate::api::apps::VisibilityIn>,
) -> Result<Option<Visibility>, String> {
    match v {
        Some(v) => crate::api::apps::parse_visibility(v),
        None => Ok(None),
    }
}

/// `{"gettable": "PRIVATE"|"PUBLIC"}`.
pub fn visibility_json(v: Visibility) -> Value {
    json!({ "gettable": match v {
        Visibility::Private => "PRIVATE",
        Visibility::Public => "PUBLIC",
    }})
}

/// The JSON of a concept (`value` only where it means something).
pub fn concept_json(owner: &str, app: &App, c: &Concept, value: Option<f64>) -> Value {
    let mut v = json!({
        "id": c.concept_id,
        "name": c.name,
        "created_at": timestamp(&c.created_at),
        "modified_at": timestamp(&c.updated_at),
        "app_id": app.handle,
        "user_id": owner,
    });
    if let Some(value) = value {
        v["value"] = json!(value);
    }
    v
}

/// The JSON of an input with its concepts.
pub fn input_json(
    state: &AppState,
    ctx: &AppCtx,
    input: &Input,
    concepts: &[(Concept, f64)],
) -> Value {
    let mut data = json!({
        "concepts": concepts
            .iter()
            .map(|(c, v)| json!({ "id": c.concept_id, "name": c.name, "value": v, "app_id": ctx.app.handle }))
            .collect::<Vec<_>>(),
        "metadata": serde_json::from_str::<Value>(&input.metadata).unwrap_or_else(|_| json!({})),
    });
    if input.is_image() {
        data["image"] = json!({
            "url": format!(
                "{}/{}/{}/inputs/{}/image",
                state.config.public_url.trim_end_matches('/'),
                ctx.owner.handle,
                ctx.app.handle,
                input.input_id
            ),
            "image_info": {
                "width": input.width.unwrap_or(0),
                "height": input.height.unwrap_or(0),
                "format": input.mime.as_deref().unwrap_or("").trim_start_matches("image/").to_ascii_uppercase(),
            },
        });
    } else {
        data["text"] = json!({ "raw": input.text.as_deref().unwrap_or("") });
    }
    json!({
        "id": input.input_id,
        "data": data,
        "created_at": timestamp(&input.created_at),
        "modified_at": timestamp(&input.created_at),
        "status": { "code": code::INPUT_SUCCESS, "description": "Input successfully processed" },
    })
}

/// The JSON of a version's status: its code, the platform's words, and the
/// reason of a failure.
pub fn version_status_json(v: &ModelVersion) -> Value {
    json!({
        "code": v.status_code,
        "description": v.status_description(),
        "details": v.failure_reason.as_deref().unwrap_or(""),
    })
}

/// The JSON of a model version.
pub fn version_json(owner: &str, app: &App, v: &ModelVersion) -> Value {
    let mut out = json!({
        "id": v.version_id,
        "created_at": timestamp(&v.created_at),
        "status": version_status_json(v),
        "active_concept_count": v.active_concept_count,
        "total_input_count": v.total_input_count,
        "app_id": app.handle,
        "user_id": owner,
        "train_info": { "params": { "train_count": v.train_count, "test_count": v.test_count } },
    });
    if let Some(t) = &v.completed_at {
        out["completed_at"] = json!(timestamp(t));
    }
    if let Some(m) = v
        .metrics
        .as_deref()
        .and_then(crate::ml::metrics::Metrics::from_json)
    {
        let ids: Vec<&str> = m.concepts.iter().map(|c| c.concept_id.as_str()).collect();
        let mut matrix = Vec::new();
        for (t, row) in m.confusion.iter().enumerate() {
            for (p, n) in row.iter().enumerate() {
                if let (Some(actual), Some(predicted)) = (ids.get(t), ids.get(p)) {
                    matrix.push(json!({ "actual": actual, "predicted": predicted, "value": n }));
                }
            }
        }
        let (precision, recall) = if m.concepts.is_empty() {
            (0.0, 0.0)
        } else {
            let n = m.concepts.len() as f64;
            (
                m.concepts.iter().map(|c| c.precision).sum::<f64>() / n,
                m.concepts.iter().map(|c| c.recall).sum::<f64>() / n,
            )
        };
        // Names the platform's EvalMetrics knows, then Atrium's extras (which
        // its clients ignore).
        out["metrics"] = json!({
            "status": { "code": 21300, "description": "Model was successfully evaluated" },
            "summary": {
                "top1_accuracy": m.accuracy,
                "macro_avg_f1_score": m.macro_f1,
                "macro_avg_precision": precision,
                "macro_avg_recall": recall,
            },
            "confusion_matrix": { "matrix": matrix, "concept_ids": ids },
            "evaluated": m.evaluated,
            "per_concept": m.concepts,
            "train_count": m.train_count,
            "test_count": m.test_count,
            "training_seconds": m.training_seconds,
            "predict_micros": m.predict_micros,
        });
    }
    out
}

/// What [`model_json`] needs besides the model.
pub struct ModelExtras<'a> {
    pub concepts: &'a [Concept],
    pub version: Option<&'a ModelVersion>,
    pub starred: bool,
}

/// The JSON of a model.
pub fn model_json(owner: &str, app: &App, m: &MlModel, x: &ModelExtras<'_>) -> Value {
    let mut out = json!({
        "id": m.model_id,
        "name": m.name,
        "display_name": m.name,
        "app_id": app.handle,
        "user_id": owner,
        "model_type_id": m.model_type().id(),
        "description": m.description,
        "visibility": visibility_json(m.visibility()),
        "created_at": timestamp(&m.created_at),
        "modified_at": timestamp(&m.updated_at),
        "output_info": { "data": { "concepts": x.concepts
            .iter()
            .map(|c| json!({ "id": c.concept_id, "name": c.name, "app_id": app.handle }))
            .collect::<Vec<_>>() } },
        "is_starred": x.starred,
        "star_count": m.star_count,
    });
    if let Some(v) = x.version {
        out["model_version"] = version_json(owner, app, v);
    }
    out
}

/// The model's concepts, latest version and whether `user` starred it, then its JSON.
pub async fn model_full_json(
    state: &AppState,
    user: &ApiUser,
    owner: &str,
    app: &App,
    model: &MlModel,
) -> Result<Value, ApiError> {
    let (key, uid) = (model.key(), user.id);
    let (concepts, version, starred) = crate::db::run(&state.pool, move |conn| {
        Ok((
            MlModel::concepts(conn, key, None)?,
            ModelVersion::latest(conn, key)?,
            MlModel::is_starred(conn, uid, key)?,
        ))
    })
    .await?;
    Ok(model_json(
        owner,
        app,
        model,
        &ModelExtras {
            concepts: &concepts,
            version: version.as_ref(),
            starred,
        },
    ))
}

/// Keeps ids in the order given, each once; refuses empty or too many.
pub fn ids_list(ids: Vec<String>, what: &str) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.trim().to_owned();
        if id.is_empty() {
            return Err(ApiError::invalid(format!(
                "ids: an empty {what} id was given."
            )));
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.is_empty() {
        return Err(ApiError::invalid(format!(
            "ids: give at least one {what} id."
        )));
    }
    if out.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "ids: at most {MAX_BATCH} {what}s per request."
        )));
    }
    Ok(out)
}

/// Registers the content endpoints inside the `/v2` scope, each twice: under
/// `/users/{user}/apps/{app}` and in the short form whose app comes from
/// `user_app_id` (body or query), as the `clarifai-grpc` client has both.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    use crate::api::{concepts, inputs, models, versions};
    use actix_web::web::{delete, get, patch, post, resource, PayloadConfig};
    for base in ["/users/{user}/apps/{app}", ""] {
        let big = || PayloadConfig::new(MAX_CONTENT_BODY);
        cfg.service(
            resource(format!("{base}/concepts"))
                .route(get().to(concepts::list))
                .route(post().to(concepts::create))
                .route(patch().to(concepts::patch))
                .route(delete().to(concepts::delete)),
        )
        .service(resource(format!("{base}/concepts/searches")).route(post().to(concepts::search)))
        .service(
            resource(format!("{base}/concepts/{{concept}}"))
                .route(get().to(concepts::get))
                .route(delete().to(concepts::delete)),
        )
        .service(
            resource(format!("{base}/inputs"))
                .app_data(big())
                .route(get().to(inputs::list))
                .route(post().to(inputs::create))
                .route(patch().to(inputs::patch))
                .route(delete().to(inputs::delete)),
        )
        .service(resource(format!("{base}/inputs/searches")).route(post().to(inputs::search)))
        .service(
            resource(format!("{base}/inputs/{{input}}"))
                .route(get().to(inputs::get))
                .route(delete().to(inputs::delete)),
        )
        .service(
            resource(format!("{base}/models"))
                .route(get().to(models::list))
                .route(post().to(models::create))
                .route(patch().to(models::patch))
                .route(delete().to(models::delete)),
        )
        .service(resource(format!("{base}/models/types")).route(get().to(models::types)))
        .service(resource(format!("{base}/models/searches")).route(post().to(models::search)))
        .service(
            resource(format!("{base}/models/{{model}}"))
                .route(get().to(models::get))
                .route(delete().to(models::delete)),
        )
        .service(
            resource(format!("{base}/models/{{model}}/versions"))
                .route(get().to(versions::list))
                .route(post().to(versions::create)),
        )
        .service(
            resource(format!("{base}/models/{{model}}/versions/{{version}}"))
                .route(get().to(versions::get))
                .route(delete().to(versions::delete)),
        )
        .service(
            resource(format!("{base}/models/{{model}}/outputs"))
                .app_data(big())
                .route(post().to(versions::outputs)),
        )
        .service(
            resource(format!(
                "{base}/models/{{model}}/versions/{{version}}/outputs"
            ))
            .app_data(big())
            .route(post().to(versions::outputs)),
        )
        .service(
            resource(format!("{base}/model_stars"))
                .route(post().to(models::stars))
                .route(delete().to(models::stars)),
        );
    }
}
