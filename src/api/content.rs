//! What the app-content endpoints (concepts, inputs, models, versions, outputs)
//! share: finding the app a request is about — from the path
//! (`/v2/users/{U}/apps/{A}/...`) or, for the short forms the `clarifai-grpc`
//! client also knows (`/v2/inputs`, `/v2/models/{M}/outputs`, ...), from
//! `user_app_id` in the body or the query — with the policy's answer; loading a
//! model the same way; pagination; and the JSON of each resource.

use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use serde::Deserialize;

use crate::api::auth::ApiUser;
use crate::api::status::{code, ApiError};
use crate::api::{shorten, Params};
use crate::auth::policy::{can, Action, Denied, Target};
use crate::db::DbConn;
use crate::models::account::Owner;
use crate::models::app::{App, Visibility};
use crate::models::ml_model::MlModel;
use crate::models::model_lookup::LatestTrained;
use crate::state::AppState;

/// Items per page when the request does not say.
pub const DEFAULT_PER_PAGE: i64 = 128;
/// Most items per page.
pub const MAX_PER_PAGE: i64 = 1000;
/// Most items one request may create, change or delete.
pub const MAX_BATCH: usize = 1000;
/// Largest body of the endpoints that carry inputs (texts, base64 images).
pub const MAX_CONTENT_BODY: usize = 64 * 1024 * 1024;

/// The largest body a `/v2` path takes: inputs and outputs carry texts and
/// images, everything else [`crate::api::MAX_BODY`].
pub fn body_limit(path: &str) -> usize {
    if path.ends_with("/inputs") || path.ends_with("/outputs") {
        MAX_CONTENT_BODY
    } else {
        crate::api::MAX_BODY
    }
}

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
        Ok(AppRef::named(req, body)?.resolved(user))
    }

    /// [`AppRef::of`] before the key's user is known (`me` stays `me`).
    pub fn named(req: &HttpRequest, body: Option<&UserAppId>) -> Result<AppRef, ApiError> {
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
        Ok(AppRef { user: u, app: a })
    }

    /// `me` replaced by the key's user.
    pub fn resolved(self, user: &ApiUser) -> AppRef {
        AppRef {
            user: user.resolve(&self.user).to_owned(),
            app: self.app,
        }
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
    // One trip to the database threads for the owner, the app and the model.
    let (user, r, m) = (user.clone(), r.clone(), model_id.to_owned());
    crate::db::run(&state.pool, move |conn| {
        Ok(load_model_in(conn, &user, &r, &m, action))
    })
    .await?
}

/// [`load_model`] inside a caller's database trip.
pub fn load_model_in(
    conn: &mut DbConn,
    user: &ApiUser,
    r: &AppRef,
    model_id: &str,
    action: Action,
) -> Result<ModelCtx, ApiError> {
    let found = crate::models::model_lookup::find_model(conn, &r.user, &r.app, model_id)?;
    authorize_model(user, r, model_id, action, found)
}

/// [`load_model_in`] for a prediction that names no version: the model with its
/// latest trained version, in one statement.
pub fn load_model_and_latest_in(
    conn: &mut DbConn,
    user: &ApiUser,
    r: &AppRef,
    model_id: &str,
    action: Action,
) -> Result<(ModelCtx, Option<LatestTrained>), ApiError> {
    let found =
        crate::models::model_lookup::find_model_and_latest(conn, &r.user, &r.app, model_id)?;
    let (found, latest) = match found {
        Some((owner, app, model, latest)) => (Some((owner, app, model)), latest),
        None => (None, None),
    };
    Ok((authorize_model(user, r, model_id, action, found)?, latest))
}

/// The found owner, app and model, if `user` may do `action` on the model; the
/// refusals tell nothing the user may not know.
fn authorize_model(
    user: &ApiUser,
    r: &AppRef,
    model_id: &str,
    action: Action,
    found: Option<(Owner, App, Option<MlModel>)>,
) -> Result<ModelCtx, ApiError> {
    let found = found.map(|(owner, app, model)| (AppCtx { owner, app }, model));
    let (ctx, model) = found.ok_or_else(|| app_gone(r))?;
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
    /// The name clients send.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchAction::Overwrite => "overwrite",
            PatchAction::Merge => "merge",
            PatchAction::Remove => "remove",
        }
    }

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

pub use crate::api::content_json::{
    concept_json, input_json, model_full_json, model_json, version_json, version_status_json,
    visibility_json, ModelExtras,
};

/// `visibility{gettable}` read as the apps API reads it.
pub fn visibility_from(
    v: &Option<crate::api::apps::VisibilityIn>,
) -> Result<Option<Visibility>, String> {
    match v {
        Some(v) => crate::api::apps::parse_visibility(v),
        None => Ok(None),
    }
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

/// Registers the prediction endpoints (`.../outputs`) inside the `/v2` scope,
/// under both forms of [`routes`]. They come first in the scope: actix tries its
/// resources in order with a regular expression each, and predictions are the
/// hottest path (a tenth of their CPU time went to trying earlier routes).
pub fn outputs_routes(cfg: &mut actix_web::web::ServiceConfig) {
    use crate::api::versions;
    use actix_web::web::{post, resource, PayloadConfig};
    for base in ["/users/{user}/apps/{app}", ""] {
        let big = || PayloadConfig::new(MAX_CONTENT_BODY);
        cfg.service(
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
        );
    }
}

/// Registers the content endpoints inside the `/v2` scope, each twice: under
/// `/users/{user}/apps/{app}` and in the short form whose app comes from
/// `user_app_id` (body or query), as the `clarifai-grpc` client has both.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    use crate::api::{concepts, input_search, inputs, model_meta, models, versions};
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
        .service(resource(format!("{base}/inputs/searches")).route(post().to(input_search::search)))
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
        .service(resource(format!("{base}/models/types")).route(get().to(model_meta::types)))
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
            resource(format!("{base}/model_stars"))
                .route(post().to(model_meta::stars))
                .route(delete().to(model_meta::stars)),
        );
    }
}
