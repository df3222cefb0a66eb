//! The JSON of the app-content resources, with the platform's field names:
//! concepts, inputs, models and their versions (status, metrics in the shape of
//! the platform's `EvalMetrics`, then Atrium's extras).

use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::content::AppCtx;
use crate::api::status::{code, ApiError};
use crate::api::timestamp;
use crate::models::app::{App, Visibility};
use crate::models::concept::Concept;
use crate::models::input::Input;
use crate::models::ml_model::MlModel;
use crate::models::version::ModelVersion;
use crate::state::AppState;

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
