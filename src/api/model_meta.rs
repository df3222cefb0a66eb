//! Model types and stars over the API: `GET .../models/types` (the
//! platform's `ListModelTypes`: what can be created and trained) and
//! `POST/DELETE .../model_stars` (star and unstar models for the key's user).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::content::{ids_list, load_app, load_model, AppRef, UserAppId};
use crate::api::parse_body;
use crate::api::status::{ok, ApiError};
use crate::auth::policy::Action;
use crate::models::ml_model::{MlModel, ModelType};
use crate::state::AppState;

/// `GET .../models/types` (and `/v2/models/types`): what can be created and trained.
pub async fn types(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    if req.match_info().get("app").is_some() {
        let r = AppRef::of(&req, &user, None)?;
        load_app(&state, &user, &r, Action::ReadContent).await?;
    }
    let types: Vec<Value> = ModelType::ALL
        .iter()
        .map(|t| {
            let input = match t {
                ModelType::TextClassifier => "text",
                ModelType::VisualClassifier => "image",
            };
            json!({
                "id": t.id(),
                "title": t.title(),
                "description": t.description(),
                "input_fields": [input],
                "output_fields": ["concepts"],
                "trainable": true,
                "creatable": true,
                "internal_only": false,
            })
        })
        .collect();
    Ok(ok(json!({ "model_types": types })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StarIn {
    model_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StarsBody {
    user_app_id: Option<UserAppId>,
    model_stars: Option<Vec<StarIn>>,
    model_ids: Option<Vec<String>>,
}

/// `POST .../model_stars` (`model_stars[]{model_id}`) stars, `DELETE`
/// (`model_ids[]`) unstars, for the key's user; both idempotent.
pub async fn stars(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: StarsBody = parse_body(&body)?;
    let r = AppRef::of(
        &req,
        &user,
        Some(&body.user_app_id.clone().unwrap_or_default()),
    )?;
    let starring = req.method() == actix_web::http::Method::POST;
    let ids = if starring {
        body.model_stars
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.model_id.unwrap_or_default())
            .collect()
    } else {
        body.model_ids.unwrap_or_default()
    };
    let ids = ids_list(ids, "model")?;
    let mut keys = Vec::with_capacity(ids.len());
    for id in &ids {
        let ctx = load_model(&state, &user, &r, id, Action::StarModel).await?;
        keys.push((
            ctx.model.model_id.clone(),
            ctx.model.key(),
            ctx.app.handle.clone(),
            ctx.owner.handle.clone(),
        ));
    }
    let uid = user.id;
    let rows = keys.clone();
    crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<(), ApiError, _>(conn, |conn| {
            for (_, k, _, _) in &rows {
                MlModel::set_starred(conn, uid, *k, starring)?;
            }
            Ok(())
        }))
    })
    .await??;
    if !starring {
        return Ok(ok(json!({})));
    }
    let stars: Vec<Value> = keys
        .iter()
        .map(|(m, _, a, o)| json!({ "model_id": m, "app_id": a, "user_id": o }))
        .collect();
    Ok(ok(json!({ "model_stars": stars })))
}
