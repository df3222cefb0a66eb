//! Models over the API: `POST/GET/PATCH/DELETE .../models`,
//! `GET/DELETE .../models/{M}`, `POST .../models/searches`,
//! `GET .../models/types` and `POST/DELETE .../model_stars` — the platform's
//! `PostModels`, `ListModels`, `GetModel`, `PatchModels`, `DeleteModel(s)`,
//! `PostModelsSearches` and `ListModelTypes`. Writes are all-or-nothing.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::apps::VisibilityIn;
use crate::api::auth::ApiUser;
use crate::api::content::{
    ids_list, load_app, load_model, model_full_json, page_params, visibility_from, AppCtx, AppRef,
    ConceptIn, Pagination, PatchAction, UserAppId, MAX_BATCH,
};
use crate::api::status::{ok, ApiError};
use crate::api::{parse_body, shorten, Params};
use crate::auth::policy::Action;
use crate::models::account::validate_handle;
use crate::models::app::{validate_description, validate_name, Visibility};
use crate::models::audit::EventKind;
use crate::models::concept::{validate_concept_id, Concept};
use crate::models::ml_model::{MlModel, ModelFields, ModelType, ModelWriteError};
use crate::models::model_audit;
use crate::models::version::ModelVersion;
use crate::state::AppState;
use crate::web::models::MAX_MODEL_CONCEPTS;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct OutputDataIn {
    concepts: Option<Vec<ConceptIn>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct OutputInfoIn {
    data: Option<OutputDataIn>,
}

/// A model of a request body.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct ModelIn {
    id: Option<String>,
    name: Option<String>,
    display_name: Option<String>,
    description: Option<String>,
    model_type_id: Option<String>,
    visibility: Option<VisibilityIn>,
    output_info: Option<OutputInfoIn>,
}

impl ModelIn {
    fn concepts(&self) -> Option<&[ConceptIn]> {
        self.output_info
            .as_ref()
            .and_then(|o| o.data.as_ref())
            .and_then(|d| d.concepts.as_deref())
    }

    fn name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or(self.display_name.as_deref())
            .filter(|n| !n.trim().is_empty())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ModelsBody {
    user_app_id: Option<UserAppId>,
    model: Option<ModelIn>,
    models: Option<Vec<ModelIn>>,
    action: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdsBody {
    user_app_id: Option<UserAppId>,
    ids: Option<Vec<String>>,
    delete_all: Option<bool>,
}

fn concept_ids(list: &[ConceptIn], at: &str) -> Result<Vec<String>, ApiError> {
    let mut ids: Vec<String> = Vec::new();
    for (j, c) in list.iter().enumerate() {
        let raw = c.id.as_deref().or(c.name.as_deref()).unwrap_or("");
        let id = validate_concept_id(raw).map_err(|m| {
            ApiError::invalid(format!("{at}.output_info.data.concepts[{j}].id: {m}"))
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > MAX_MODEL_CONCEPTS {
        return Err(ApiError::invalid(format!(
            "{at}.output_info.data.concepts: a model learns at most {MAX_MODEL_CONCEPTS} concepts."
        )));
    }
    Ok(ids)
}

struct NewModel {
    id: String,
    model_type: ModelType,
    fields: ModelFields,
    concepts: Vec<String>,
}

fn type_list() -> String {
    ModelType::ALL
        .iter()
        .map(|t| t.id())
        .collect::<Vec<_>>()
        .join(" or ")
}

fn validate_new(m: &ModelIn, at: &str) -> Result<NewModel, ApiError> {
    let id = validate_handle(m.id.as_deref().unwrap_or(""), "a model ID")
        .map_err(|e| ApiError::invalid(format!("{at}.id: {e}")))?;
    let raw_type = m.model_type_id.as_deref().unwrap_or("").trim();
    let model_type = ModelType::parse(raw_type).ok_or_else(|| {
        ApiError::invalid(if raw_type.is_empty() {
            format!("{at}.model_type_id: choose the type: {}.", type_list())
        } else {
            format!(
                "{at}.model_type_id: \"{}\" is not a type this server trains; use {}.",
                shorten(raw_type, 60),
                type_list()
            )
        })
    })?;
    let name = validate_name(m.name().unwrap_or(&id))
        .map_err(|e| ApiError::invalid(format!("{at}.name: {e}")))?;
    let description = validate_description(m.description.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("{at}.description: {e}")))?;
    let visibility = visibility_from(&m.visibility)
        .map_err(|e| ApiError::invalid(format!("{at}.visibility: {e}")))?
        .unwrap_or(Visibility::Private);
    let concepts = concept_ids(m.concepts().unwrap_or_default(), at)?;
    Ok(NewModel {
        id,
        model_type,
        fields: ModelFields {
            name,
            description,
            visibility,
        },
        concepts,
    })
}

/// `POST .../models`: `model` (or `models[]`), with the concepts it learns in
/// `output_info.data.concepts` (missing concepts are created).
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: ModelsBody = parse_body(&body)?;
    let r = AppRef::of(
        &req,
        &user,
        Some(&body.user_app_id.clone().unwrap_or_default()),
    )?;
    let ctx = load_app(&state, &user, &r, Action::EditModels).await?;
    let (list, prefix) = match (body.model, body.models) {
        (Some(m), _) => (vec![m], "model"),
        (None, Some(ms)) if !ms.is_empty() => (ms, "models"),
        _ => return Err(ApiError::invalid("model: give the model to create.")),
    };
    if list.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "models: at most {MAX_BATCH} models per request."
        )));
    }
    let mut wanted: Vec<NewModel> = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let at = if prefix == "model" {
            "model".to_owned()
        } else {
            format!("models[{i}]")
        };
        let n = validate_new(m, &at)?;
        if wanted.iter().any(|w| w.id == n.id) {
            return Err(ApiError::duplicate(format!(
                "{at}.id: \"{}\" appears more than once in this request.",
                n.id
            )));
        }
        wanted.push(n);
    }
    let (app_key, uid) = (ctx.app.app_id(), user.id);
    let actor = crate::api::audit_actor(&req, &user);
    let (owner, app) = (ctx.owner.clone(), ctx.app.clone());
    let created = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<Vec<MlModel>, ApiError, _>(
            conn,
            |conn| {
                let mut out = Vec::with_capacity(wanted.len());
                for n in &wanted {
                    let keys: Vec<i64> = Concept::ensure(conn, app_key, &n.concepts)?
                        .iter()
                        .map(|c| c.id)
                        .collect();
                    match MlModel::create(
                        conn,
                        app_key,
                        &n.id,
                        n.model_type,
                        &n.fields,
                        &keys,
                        Some(uid),
                    ) {
                        Ok(m) => {
                            model_audit::record(
                                conn,
                                &owner,
                                &app,
                                &m,
                                &actor,
                                EventKind::ModelCreate,
                                json!({
                                    "model_type": m.model_type,
                                    "visibility": m.visibility,
                                    "concepts": n.concepts,
                                }),
                            )?;
                            out.push(m)
                        }
                        Err(ModelWriteError::IdTaken) => {
                            return Err(ApiError::duplicate(format!(
                                "The app already has a model \"{}\".",
                                n.id
                            )))
                        }
                        Err(ModelWriteError::Db(e)) => return Err(e.into()),
                    }
                }
                Ok(out)
            },
        ))
    })
    .await??;
    let mut models = Vec::with_capacity(created.len());
    for m in &created {
        tracing::info!(user_id = uid.0, app_id = ctx.app.id, model = %m.model_id, "model created through the API");
        models.push(model_full_json(&state, &user, &ctx.owner.handle, &ctx.app, m).await?);
    }
    Ok(ok(json!({ "model": models[0].clone(), "models": models })))
}

async fn models_page(
    state: &AppState,
    user: &ApiUser,
    ctx: &AppCtx,
    search: Option<String>,
    model_type: Option<ModelType>,
    page: i64,
    per_page: i64,
) -> Result<HttpResponse, ApiError> {
    let app_key = ctx.app.app_id();
    let (rows, _) = crate::db::run(&state.pool, move |conn| {
        Ok(MlModel::search(
            conn,
            app_key,
            search.as_deref(),
            model_type,
            page,
            per_page,
        )?)
    })
    .await?;
    let mut models: Vec<Value> = Vec::with_capacity(rows.len());
    for m in &rows {
        models.push(model_full_json(state, user, &ctx.owner.handle, &ctx.app, m).await?);
    }
    Ok(ok(json!({ "models": models })))
}

fn type_filter(raw: Option<&str>) -> Result<Option<ModelType>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => ModelType::parse(t).map(Some).ok_or_else(|| {
            ApiError::invalid(format!(
                "model_type_id: \"{}\" is not a type of this server; use {}.",
                shorten(t, 60),
                type_list()
            ))
        }),
    }
}

/// `GET .../models`: one page of the app's models, last updated first
/// (`name` / `search` / `query` filter by name or id, `model_type_id` by type).
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let params = Params::from_request(&req)?;
    let r = AppRef::of(&req, &user, None)?;
    let ctx = load_app(&state, &user, &r, Action::ReadContent).await?;
    let (page, per_page) = page_params(&params)?;
    let search = ["name", "search", "query"]
        .iter()
        .find_map(|k| params.get(k))
        .map(str::to_owned);
    if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::invalid("Search for at most 100 characters."));
    }
    let model_type = type_filter(params.get("model_type_id"))?;
    models_page(&state, &user, &ctx, search, model_type, page, per_page).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ModelQueryIn {
    name: Option<String>,
    model_type_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchBody {
    user_app_id: Option<UserAppId>,
    model_query: Option<ModelQueryIn>,
    pagination: Option<Pagination>,
}

/// `POST .../models/searches`: `model_query{name, model_type_id}`.
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: SearchBody = parse_body(&body)?;
    let r = AppRef::of(
        &req,
        &user,
        Some(&body.user_app_id.clone().unwrap_or_default()),
    )?;
    let ctx = load_app(&state, &user, &r, Action::ReadContent).await?;
    let (page, per_page) = body.pagination.unwrap_or_default().resolve()?;
    let q = body.model_query.unwrap_or_default();
    let search = q
        .name
        .map(|n| n.trim().trim_end_matches('*').to_owned())
        .filter(|n| !n.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::invalid(
            "model_query.name: search for at most 100 characters.",
        ));
    }
    let model_type = type_filter(q.model_type_id.as_deref())?;
    models_page(&state, &user, &ctx, search, model_type, page, per_page).await
}

/// `GET .../models/{M}`: the model, its concepts and latest version.
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let r = AppRef::of(&req, &user, None)?;
    let m = req.match_info().get("model").unwrap_or_default().to_owned();
    let ctx = load_model(&state, &user, &r, &m, Action::ReadContent).await?;
    let model = model_full_json(&state, &user, &ctx.owner.handle, &ctx.app, &ctx.model).await?;
    Ok(ok(json!({ "model": model })))
}

/// `PATCH .../models`: `models[]` with `action`: name, description and
/// visibility are replaced (`merge` skips empty ones; `remove` resets them), and
/// the concepts of `output_info` replace, join or leave the model's concepts.
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: ModelsBody = parse_body(&body)?;
    let r = AppRef::of(
        &req,
        &user,
        Some(&body.user_app_id.clone().unwrap_or_default()),
    )?;
    let action = PatchAction::parse(body.action.as_deref())?;
    let list = body.models.unwrap_or_default();
    if list.is_empty() {
        return Err(ApiError::invalid("models: give the models to change."));
    }
    if list.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "models: at most {MAX_BATCH} models per request."
        )));
    }
    let mut changes = Vec::with_capacity(list.len());
    let mut place = None;
    for (i, m) in list.iter().enumerate() {
        let at = format!("models[{i}]");
        let id = m.id.as_deref().unwrap_or("").trim().to_owned();
        if id.is_empty() {
            return Err(ApiError::invalid(format!("{at}.id: name the model.")));
        }
        let ctx = load_model(&state, &user, &r, &id, Action::EditModels).await?;
        let mut f = ModelFields {
            name: ctx.model.name.clone(),
            description: ctx.model.description.clone(),
            visibility: ctx.model.visibility(),
        };
        if action == PatchAction::Remove {
            if m.name().is_some() {
                f.name = ctx.model.model_id.clone();
            }
            if m.description.is_some() {
                f.description = String::new();
            }
            if m.visibility.is_some() {
                f.visibility = Visibility::Private;
            }
        } else {
            if let Some(n) = m.name() {
                f.name =
                    validate_name(n).map_err(|e| ApiError::invalid(format!("{at}.name: {e}")))?;
            }
            match m.description.as_deref() {
                Some(d) if !(action == PatchAction::Merge && d.trim().is_empty()) => {
                    f.description = validate_description(d)
                        .map_err(|e| ApiError::invalid(format!("{at}.description: {e}")))?;
                }
                _ => {}
            }
            if let Some(v) = visibility_from(&m.visibility)
                .map_err(|e| ApiError::invalid(format!("{at}.visibility: {e}")))?
            {
                f.visibility = v;
            }
        }
        let concepts = match m.concepts() {
            None => None,
            Some(list) => Some(concept_ids(list, &at)?),
        };
        changes.push((ctx.model, f, concepts));
        place.get_or_insert((ctx.owner, ctx.app));
    }
    let app_key = changes[0].0.app();
    let actor = crate::api::audit_actor(&req, &user);
    let (owner, app) =
        place.ok_or_else(|| ApiError::invalid("models: give the models to change."))?;
    let updated = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<Vec<MlModel>, ApiError, _>(
            conn,
            |conn| {
                let mut out = Vec::with_capacity(changes.len());
                for (model, fields, concepts) in &changes {
                    let keys: Option<Vec<i64>> = match concepts {
                        None => None,
                        Some(ids) => {
                            let current: Vec<i64> = MlModel::concepts(conn, model.key(), None)?
                                .iter()
                                .map(|c| c.id)
                                .collect();
                            Some(match action {
                                PatchAction::Overwrite => Concept::ensure(conn, app_key, ids)?
                                    .iter()
                                    .map(|c| c.id)
                                    .collect(),
                                PatchAction::Merge => {
                                    let mut all = current;
                                    for c in Concept::ensure(conn, app_key, ids)? {
                                        if !all.contains(&c.id) {
                                            all.push(c.id);
                                        }
                                    }
                                    all
                                }
                                PatchAction::Remove => {
                                    let gone: Vec<i64> = Concept::find_many(conn, app_key, ids)?
                                        .iter()
                                        .map(|c| c.id)
                                        .collect();
                                    current.into_iter().filter(|k| !gone.contains(k)).collect()
                                }
                            })
                        }
                    };
                    if keys.as_ref().is_some_and(|k| k.len() > MAX_MODEL_CONCEPTS) {
                        return Err(ApiError::invalid(format!(
                            "A model learns at most {MAX_MODEL_CONCEPTS} concepts."
                        )));
                    }
                    let after = MlModel::update(conn, model.key(), fields, keys.as_deref())?;
                    let mut details = model_audit::changes(model, &after, concepts.as_deref());
                    details["action"] = json!(action.as_str());
                    model_audit::record(
                        conn,
                        &owner,
                        &app,
                        &after,
                        &actor,
                        EventKind::ModelUpdate,
                        details,
                    )?;
                    out.push(after);
                }
                Ok(out)
            },
        ))
    })
    .await??;
    let mut models = Vec::with_capacity(updated.len());
    for m in &updated {
        let ctx = load_app(&state, &user, &r, Action::ReadContent).await?;
        models.push(model_full_json(&state, &user, &ctx.owner.handle, &ctx.app, m).await?);
    }
    Ok(ok(json!({ "models": models })))
}

/// `DELETE .../models/{M}` and `DELETE .../models` (`ids[]` or `delete_all`):
/// the models go with their versions; all of them, or none.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: IdsBody = parse_body(&body)?;
    let r = AppRef::of(
        &req,
        &user,
        Some(&body.user_app_id.clone().unwrap_or_default()),
    )?;
    let ids: Vec<String> = match req.match_info().get("model") {
        Some(one) => vec![one.to_owned()],
        None if body.delete_all == Some(true) => {
            let ctx = load_app(&state, &user, &r, Action::EditModels).await?;
            let app_key = ctx.app.app_id();
            crate::db::run(&state.pool, move |conn| {
                Ok(MlModel::search(conn, app_key, None, None, 1, 1000)?
                    .0
                    .into_iter()
                    .map(|m| m.model_id)
                    .collect())
            })
            .await?
        }
        None => ids_list(body.ids.unwrap_or_default(), "model")?,
    };
    let mut doomed = Vec::with_capacity(ids.len());
    for id in &ids {
        doomed.push(load_model(&state, &user, &r, id, Action::EditModels).await?);
    }
    let actor = crate::api::audit_actor(&req, &user);
    let versions = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<Vec<String>, ApiError, _>(
            conn,
            |conn| {
                let mut versions = Vec::new();
                for ctx in &doomed {
                    let k = ctx.model.key();
                    versions.extend(
                        ModelVersion::list(conn, k)?
                            .into_iter()
                            .map(|(v, _)| v.version_id),
                    );
                    MlModel::delete(conn, k)?;
                    model_audit::record(
                        conn,
                        &ctx.owner,
                        &ctx.app,
                        &ctx.model,
                        &actor,
                        EventKind::ModelDelete,
                        json!({ "name": ctx.model.name }),
                    )?;
                }
                Ok(versions)
            },
        ))
    })
    .await??;
    for v in versions {
        state.models.remove(&v);
    }
    tracing::info!(
        user_id = user.id.0,
        count = ids.len(),
        "models deleted through the API"
    );
    Ok(ok(json!({})))
}
