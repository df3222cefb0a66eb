//! Model versions and predictions over the API: `POST .../models/{M}/versions`
//! (train: a queued version and its durable job), `GET .../versions`,
//! `GET/DELETE .../versions/{V}`, and `POST .../models/{M}/outputs` /
//! `.../versions/{V}/outputs` (predict with the given version, or the latest
//! trained one) — the platform's `PostModelVersions`, `ListModelVersions`,
//! `GetModelVersion`, `DeleteModelVersion` and `PostModelOutputs`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::{ApiKeySecret, ApiUser};
use crate::api::content::{
    load_model, load_model_and_latest_in, load_model_in, model_json, page_params, version_json,
    AppRef, ModelExtras, UserAppId,
};
use crate::api::inputs::{sample_of, InputIn};
use crate::api::status::{code, ok, ok_typed, ApiError};
use crate::api::{parse_body, shorten, timestamp, Params};
use crate::auth::policy::Action;
use crate::content::predict::{check_sample, OwnedSample, PredictFailure, Predictor};
use crate::error::AppError;
use crate::ml::PredictError;
use crate::models::audit::EventKind;
use crate::models::ml_model::MlModel;
use crate::models::model_audit;
use crate::models::random_id;
use crate::models::version::ModelVersion;
use crate::state::AppState;

/// Most inputs one prediction request classifies.
pub const MAX_PREDICT_INPUTS: usize = 128;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body {
    user_app_id: Option<UserAppId>,
}

fn model_param(req: &HttpRequest) -> String {
    req.match_info().get("model").unwrap_or_default().to_owned()
}

fn version_gone(v: &str) -> ApiError {
    ApiError::not_found(format!(
        "The model version \"{}\" does not exist.",
        shorten(v, 64)
    ))
}

/// `POST .../models/{M}/versions`: trains a new version (the body may be empty);
/// answers the model with the queued version. Poll the version until 21100.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: Body = parse_body(&body)?;
    let r = AppRef::of(&req, &user, Some(&body.user_app_id.unwrap_or_default()))?;
    let ctx = load_model(&state, &user, &r, &model_param(&req), Action::TrainModel).await?;
    let (key, uid) = (ctx.model.key(), user.id);
    let actor = crate::api::audit_actor(&req, &user);
    let (owner, app, model) = (ctx.owner.clone(), ctx.app.clone(), ctx.model.clone());
    let (version, concepts, starred) = crate::db::run(&state.pool, move |conn| {
        let v = crate::db::transaction(conn, |conn| {
            let v = crate::content::training::enqueue(conn, key, Some(uid))?;
            model_audit::record(
                conn,
                &owner,
                &app,
                &model,
                &actor,
                EventKind::ModelTrain,
                json!({ "version": v.version_id }),
            )?;
            Ok::<_, AppError>(v)
        })?;
        Ok((
            v,
            MlModel::concepts(conn, key, None)?,
            MlModel::is_starred(conn, uid, key)?,
        ))
    })
    .await?;
    state.jobs.notify();
    tracing::info!(user_id = uid.0, model = %ctx.model.model_id, version = %version.version_id, "training queued through the API");
    let model = model_json(
        &ctx.owner.handle,
        &ctx.app,
        &ctx.model,
        &ModelExtras {
            concepts: &concepts,
            version: Some(&version),
            starred,
        },
    );
    Ok(ok(json!({ "model": model })))
}

/// `GET .../models/{M}/versions`: the versions, newest first.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let params = Params::from_request(&req)?;
    let r = AppRef::of(&req, &user, None)?;
    let ctx = load_model(&state, &user, &r, &model_param(&req), Action::ReadContent).await?;
    let (page, per_page) = page_params(&params)?;
    let trained_only = params.bool("trained_only")?;
    let key = ctx.model.key();
    let all = crate::db::run(&state.pool, move |conn| Ok(ModelVersion::list(conn, key)?)).await?;
    let versions: Vec<Value> = all
        .iter()
        .map(|(v, _)| v)
        .filter(|v| !trained_only || v.is_trained())
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .map(|v| version_json(&ctx.owner.handle, &ctx.app, v))
        .collect();
    Ok(ok(json!({ "model_versions": versions })))
}

async fn find_version(
    state: &AppState,
    model: &MlModel,
    v: &str,
) -> Result<ModelVersion, ApiError> {
    let (key, vid) = (model.key(), v.to_owned());
    crate::db::run(&state.pool, move |conn| {
        Ok(ModelVersion::find(conn, key, &vid)?)
    })
    .await?
    .ok_or_else(|| version_gone(v))
}

/// `GET .../models/{M}/versions/{V}`: the version with its status and metrics.
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let r = AppRef::of(&req, &user, None)?;
    let ctx = load_model(&state, &user, &r, &model_param(&req), Action::ReadContent).await?;
    let v = req.match_info().get("version").unwrap_or_default();
    let version = find_version(&state, &ctx.model, v).await?;
    Ok(ok(
        json!({ "model_version": version_json(&ctx.owner.handle, &ctx.app, &version) }),
    ))
}

/// `DELETE .../models/{M}/versions/{V}` (a queued one is simply never trained).
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: Body = parse_body(&body)?;
    let r = AppRef::of(&req, &user, Some(&body.user_app_id.unwrap_or_default()))?;
    let ctx = load_model(&state, &user, &r, &model_param(&req), Action::EditModels).await?;
    let v = req
        .match_info()
        .get("version")
        .unwrap_or_default()
        .to_owned();
    let version = find_version(&state, &ctx.model, &v).await?;
    let key = version.key();
    let actor = crate::api::audit_actor(&req, &user);
    let (vid, ctx) = (v.clone(), ctx);
    crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction(conn, |conn| {
            ModelVersion::delete(conn, key)?;
            model_audit::record(
                conn,
                &ctx.owner,
                &ctx.app,
                &ctx.model,
                &actor,
                EventKind::ModelVersionDelete,
                json!({ "version": vid }),
            )
        })?)
    })
    .await?;
    state.models.remove(&v);
    Ok(ok(json!({})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutputsBody {
    user_app_id: Option<UserAppId>,
    inputs: Option<Vec<InputIn>>,
}

fn refusal(f: PredictFailure) -> ApiError {
    let message = f.message();
    match f {
        PredictFailure::Untrained => {
            ApiError::new(code::MODEL_UNTRAINED, StatusCode::BAD_REQUEST, message)
        }
        PredictFailure::VersionNotFound => ApiError::not_found(message),
        PredictFailure::VersionNotReady(c) => {
            ApiError::new(c.max(0) as u32, StatusCode::BAD_REQUEST, message)
        }
        PredictFailure::Refused(_) => ApiError::invalid(message),
        PredictFailure::Internal(e) => e.into(),
    }
}

/// What an outputs request asks, read before the key is checked (whose errors
/// still come first).
struct OutputsAsk {
    app: AppRef,
    inputs: Vec<InputIn>,
    samples: Vec<OwnedSample>,
}

fn outputs_ask(req: &HttpRequest, body: &[u8]) -> Result<OutputsAsk, ApiError> {
    let body: OutputsBody = parse_body(body)?;
    let app = AppRef::named(req, Some(&body.user_app_id.unwrap_or_default()))?;
    let inputs = body.inputs.unwrap_or_default();
    if inputs.is_empty() {
        return Err(ApiError::invalid(
            "inputs: give at least one input to classify.",
        ));
    }
    if inputs.len() > MAX_PREDICT_INPUTS {
        return Err(ApiError::invalid(format!(
            "inputs: at most {MAX_PREDICT_INPUTS} inputs per request."
        )));
    }
    let mut samples = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let at = format!("inputs[{i}]");
        let data = input.data.clone().unwrap_or_default();
        samples.push(match sample_of(&data, &at)? {
            Ok(t) => OwnedSample::Text(t),
            Err(b) => OwnedSample::Image(b),
        });
    }
    Ok(OutputsAsk {
        app,
        inputs,
        samples,
    })
}

fn refused_input(i: usize, e: PredictError) -> ApiError {
    ApiError::invalid(format!(
        "inputs[{i}]: {}",
        PredictFailure::Refused(e).message()
    ))
}

/// `POST .../models/{M}/outputs` and `.../models/{M}/versions/{V}/outputs`:
/// `inputs[]{data{text{raw}} | data{image{base64}}}` → `outputs[]` with the
/// concepts best first. Any refused input refuses the request, naming it.
///
/// The hottest endpoint: the key, the model, the version and the concept names
/// are read in one trip to the database threads, which then classifies on the same
/// thread once the connection is returned.
pub async fn outputs(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: ApiKeySecret,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let ask = outputs_ask(&req, &body);
    let model_id = model_param(&req);
    let version_id = req.match_info().get("version").map(str::to_owned);
    let cache = state.models.clone();
    let teams = state.teams.clone();
    let found = crate::db::run_then(
        &state.pool,
        move |conn| {
            Ok((|| {
                let user = key.load(conn, &teams)?;
                let ask = ask?;
                let r = ask.app.clone().resolved(&user);
                // Without a version named, the model's latest trained version comes
                // with the model, in the same statement.
                let (ctx, latest) = match version_id {
                    Some(_) => (
                        load_model_in(conn, &user, &r, &model_id, Action::Predict)?,
                        None,
                    ),
                    None => load_model_and_latest_in(conn, &user, &r, &model_id, Action::Predict)?,
                };
                for (i, sample) in ask.samples.iter().enumerate() {
                    check_sample(&ctx.model, sample).map_err(|e| refused_input(i, e))?;
                }
                let predictor = match (&version_id, latest) {
                    (Some(v), _) => Predictor::load(conn, &cache, &ctx.model, Some(v)),
                    (None, Some(latest)) => Predictor::of_trained(conn, &cache, &ctx.model, latest),
                    (None, None) => Err(PredictFailure::Untrained),
                }
                .map_err(refusal)?;
                Ok((ctx, ask, predictor))
            })())
        },
        |loaded: Result<_, ApiError>| {
            Ok(loaded.and_then(|(ctx, ask, predictor)| {
                let scored = ask
                    .samples
                    .iter()
                    .enumerate()
                    .map(|(i, s)| predictor.classify(s).map_err(|e| refused_input(i, e)))
                    .collect::<Result<Vec<_>, ApiError>>()?;
                Ok((ctx, ask, predictor.version_id, scored))
            }))
        },
    )
    .await?;
    let (ctx, ask, version_id, scored) = found?;
    let created_at = timestamp(&crate::models::now());
    let model = ModelOut {
        id: &ctx.model.model_id,
        name: &ctx.model.name,
        app_id: &ctx.app.handle,
        user_id: &ctx.owner.handle,
        model_type_id: ctx.model.model_type().id(),
        model_version: IdOut { id: &version_id },
    };
    let outputs: Vec<OutputOut<'_>> = scored
        .iter()
        .zip(&ask.samples)
        .zip(&ask.inputs)
        .map(|((concepts, sample), input)| OutputOut {
            id: random_id(32),
            status: OutputStatus {
                code: code::SUCCESS,
                description: "Ok",
            },
            created_at: &created_at,
            model: &model,
            input: EchoInput {
                id: input
                    .id
                    .clone()
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| random_id(32)),
                data: match sample {
                    OwnedSample::Text(t) => EchoData::Text { raw: t },
                    OwnedSample::Image(_) => EchoData::Image {},
                },
            },
            data: OutputData {
                concepts: concepts
                    .iter()
                    .map(|c| ConceptOut {
                        id: &c.concept_id,
                        name: &c.name,
                        value: c.score,
                        app_id: &ctx.app.handle,
                    })
                    .collect(),
            },
        })
        .collect();
    Ok(ok_typed(&OutputsOut { outputs }))
}

// The prediction response, written straight from the request's data (typed
// rather than a `serde_json::Value` tree: it is the busiest response there is).

#[derive(serde::Serialize)]
struct OutputsOut<'a> {
    outputs: Vec<OutputOut<'a>>,
}

#[derive(serde::Serialize)]
struct OutputOut<'a> {
    id: String,
    status: OutputStatus,
    created_at: &'a str,
    model: &'a ModelOut<'a>,
    input: EchoInput<'a>,
    data: OutputData<'a>,
}

#[derive(serde::Serialize)]
struct OutputStatus {
    code: u32,
    description: &'static str,
}

#[derive(serde::Serialize)]
struct ModelOut<'a> {
    id: &'a str,
    name: &'a str,
    app_id: &'a str,
    user_id: &'a str,
    model_type_id: &'static str,
    model_version: IdOut<'a>,
}

#[derive(serde::Serialize)]
struct IdOut<'a> {
    id: &'a str,
}

#[derive(serde::Serialize)]
struct EchoInput<'a> {
    id: String,
    data: EchoData<'a>,
}

/// The input as it was sent: `{"text": {"raw": ...}}` or `{"image": {}}`.
#[derive(serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum EchoData<'a> {
    Text { raw: &'a str },
    Image {},
}

#[derive(serde::Serialize)]
struct OutputData<'a> {
    concepts: Vec<ConceptOut<'a>>,
}

#[derive(serde::Serialize)]
struct ConceptOut<'a> {
    id: &'a str,
    name: &'a str,
    value: f32,
    app_id: &'a str,
}
