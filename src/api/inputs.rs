//! Inputs over the API: `POST/GET/PATCH/DELETE .../inputs`,
//! `GET/DELETE .../inputs/{id}` and `POST .../inputs/searches` — the platform's
//! `PostInputs` (texts and base64 images, with concepts), `ListInputs`,
//! `GetInput`, `PatchInputs` (merge / overwrite / remove concepts),
//! `DeleteInput(s)` and `PostInputsSearches`. Every write is all-or-nothing.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::content::{
    ids_list, input_json, load_app, page_params, AppCtx, AppRef, ConceptIn, PatchAction, UserAppId,
    MAX_BATCH,
};
use crate::api::status::{code, ok, ApiError};
use crate::api::{parse_body, shorten, Params};
use crate::auth::policy::Action;
use crate::content::upload::{validate_text, MAX_CONCEPTS_PER_INPUT};
use crate::models::concept::{validate_concept_id, Concept};
use crate::models::content_edit::LabelEdit;
use crate::models::input::{Cursor, Input, InputContent, InputQuery, InputWriteError, NewInput};
use crate::models::random_id;
use crate::state::AppState;

/// `text{raw}`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct TextIn {
    pub raw: Option<String>,
}

/// `image{base64 | url}`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ImageIn {
    pub base64: Option<String>,
    pub url: Option<String>,
}

/// `data{text, image, concepts, metadata}`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct DataIn {
    pub text: Option<TextIn>,
    pub image: Option<ImageIn>,
    pub concepts: Option<Vec<ConceptIn>>,
    pub metadata: Option<Value>,
}

/// An input of a request body.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct InputIn {
    pub id: Option<String>,
    pub data: Option<DataIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InputsBody {
    user_app_id: Option<UserAppId>,
    inputs: Option<Vec<InputIn>>,
    action: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdsBody {
    user_app_id: Option<UserAppId>,
    ids: Option<Vec<String>>,
    delete_all: Option<bool>,
}

/// What an input's content is, checked: a text, or image bytes. Shared with
/// the outputs endpoint.
pub fn sample_of(data: &DataIn, at: &str) -> Result<Result<String, Vec<u8>>, ApiError> {
    let text = data.text.as_ref().and_then(|t| t.raw.clone());
    let image = data.image.as_ref();
    match (text, image) {
        (Some(_), Some(i)) if i.base64.is_some() || i.url.is_some() => Err(ApiError::invalid(
            format!("{at}.data: give a text or an image, not both."),
        )),
        (Some(t), _) => Ok(Ok(t)),
        (None, Some(i)) => match (&i.base64, &i.url) {
            (Some(b), _) => base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map(Err)
                .map_err(|_| ApiError::invalid(format!("{at}.data.image.base64 is not base64."))),
            (None, Some(_)) => Err(ApiError::invalid(format!(
                "{at}.data.image.url: this server does not fetch URLs; send the image as base64."
            ))),
            (None, None) => Err(ApiError::invalid(format!(
                "{at}.data.image: give base64 bytes."
            ))),
        },
        (None, None) => Err(ApiError::invalid(format!(
            "{at}.data: give text.raw or image.base64."
        ))),
    }
}

fn check_input_id(raw: &str, at: &str) -> Result<String, ApiError> {
    let id = raw.trim();
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(id.to_owned())
    } else {
        Err(ApiError::invalid(format!(
            "{at}.id: \"{}\" is not a valid input id (1 to 64 letters, digits, '-', '_' or '.').",
            shorten(id, 64)
        )))
    }
}

/// Concepts of a `data`, checked: ids and values (absent value = 1).
fn concepts_of(list: &[ConceptIn], at: &str) -> Result<Vec<(String, f64)>, ApiError> {
    if list.len() > MAX_CONCEPTS_PER_INPUT {
        return Err(ApiError::invalid(format!(
            "{at}.data.concepts: at most {MAX_CONCEPTS_PER_INPUT} concepts per input."
        )));
    }
    let mut out: Vec<(String, f64)> = Vec::new();
    for (j, c) in list.iter().enumerate() {
        let raw = c.id.as_deref().or(c.name.as_deref()).unwrap_or("");
        let id = validate_concept_id(raw)
            .map_err(|m| ApiError::invalid(format!("{at}.data.concepts[{j}].id: {m}")))?;
        let value = c.value.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&value) || value.is_nan() {
            return Err(ApiError::invalid(format!(
                "{at}.data.concepts[{j}].value must be between 0 and 1."
            )));
        }
        match out.iter_mut().find(|(o, _)| *o == id) {
            Some(existing) => existing.1 = value,
            None => out.push((id, value)),
        }
    }
    Ok(out)
}

fn metadata_of(m: &Option<Value>, at: &str) -> Result<String, ApiError> {
    match m {
        None | Some(Value::Null) => Ok("{}".to_owned()),
        Some(v @ Value::Object(_)) => {
            let s = v.to_string();
            if s.len() > 16 * 1024 {
                return Err(ApiError::invalid(format!(
                    "{at}.data.metadata is at most 16 KB."
                )));
            }
            Ok(s)
        }
        Some(_) => Err(ApiError::invalid(format!(
            "{at}.data.metadata must be an object."
        ))),
    }
}

fn new_input(i: usize, input: &InputIn) -> Result<NewInput, ApiError> {
    let at = format!("inputs[{i}]");
    let id = match input.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => check_input_id(id, &at)?,
        None => random_id(32),
    };
    let data = input.data.clone().unwrap_or_default();
    let content = match sample_of(&data, &at)? {
        Ok(text) => InputContent::Text(
            validate_text(&text).map_err(|m| ApiError::invalid(format!("{at}.data.text: {m}")))?,
        ),
        Err(bytes) => InputContent::Image(
            crate::ml::picture::prepare(bytes)
                .map_err(|m| ApiError::invalid(format!("{at}.data.image: {m}")))?,
        ),
    };
    Ok(NewInput {
        input_id: id,
        content,
        metadata: metadata_of(&data.metadata, &at)?,
        concepts: concepts_of(data.concepts.as_deref().unwrap_or_default(), &at)?,
    })
}

fn inputs_json(
    state: &AppState,
    ctx: &AppCtx,
    rows: &[(Input, Vec<(Concept, f64)>)],
) -> Vec<Value> {
    rows.iter()
        .map(|(i, c)| input_json(state, ctx, i, c))
        .collect()
}

/// Reads back inputs with their concepts, in the order of `ids`.
async fn reload(
    state: &AppState,
    ctx: &AppCtx,
    ids: Vec<String>,
) -> Result<Vec<(Input, Vec<(Concept, f64)>)>, ApiError> {
    let app = ctx.app.app_id();
    Ok(crate::db::run(&state.pool, move |conn| {
        let mut rows = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(i) = Input::find(conn, app, id)? {
                rows.push(i);
            }
        }
        let mut labels = Input::concepts_of(conn, &rows.iter().map(|i| i.id).collect::<Vec<_>>())?;
        Ok(rows
            .into_iter()
            .map(|i| {
                let c = labels.remove(&i.id).unwrap_or_default();
                (i, c)
            })
            .collect())
    })
    .await?)
}

/// `POST .../inputs`: stores every input of `inputs[]` with its concepts
/// (missing concepts are created), or none.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: InputsBody = parse_body(&body)?;
    let r = AppRef::of(
        &req,
        &user,
        Some(&body.user_app_id.clone().unwrap_or_default()),
    )?;
    let ctx = load_app(&state, &user, &r, Action::EditInputs).await?;
    let list = body.inputs.unwrap_or_default();
    if list.is_empty() {
        return Err(ApiError::invalid("inputs: give at least one input."));
    }
    if list.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "inputs: at most {MAX_BATCH} inputs per request."
        )));
    }
    let mut items = Vec::with_capacity(list.len());
    for (i, input) in list.iter().enumerate() {
        let item = new_input(i, input)?;
        if items.iter().any(|o: &NewInput| o.input_id == item.input_id) {
            return Err(ApiError::duplicate(format!(
                "inputs[{i}].id: \"{}\" appears more than once in this request.",
                item.input_id
            )));
        }
        items.push(item);
    }
    let (app_key, uid) = (ctx.app.app_id(), user.id);
    let order: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(n, i)| (i.input_id.clone(), n))
        .collect();
    let stored = crate::db::run(&state.pool, move |conn| {
        Ok(Input::insert_many(conn, app_key, Some(uid), &items))
    })
    .await?;
    let stored =
        match stored {
            Ok(s) => s,
            Err(InputWriteError::IdTaken) => return Err(ApiError::duplicate(
                "inputs: the app already has an input with one of these ids; nothing was stored.",
            )),
            Err(InputWriteError::Db(e)) => return Err(e.into()),
        };
    tracing::info!(
        user_id = uid.0,
        app_id = ctx.app.id,
        count = stored.len(),
        "inputs added through the API"
    );
    // Answer in the order given (RETURNING promises no order); concepts in one query.
    let mut stored = stored;
    stored.sort_by_key(|i| order.get(&i.input_id).copied().unwrap_or(usize::MAX));
    let keys: Vec<i64> = stored.iter().map(|i| i.id).collect();
    let mut labels = crate::db::run(&state.pool, move |conn| {
        Ok(Input::concepts_of(conn, &keys)?)
    })
    .await?;
    let rows: Vec<_> = stored
        .into_iter()
        .map(|i| {
            let c = labels.remove(&i.id).unwrap_or_default();
            (i, c)
        })
        .collect();
    Ok(ok(json!({ "inputs": inputs_json(&state, &ctx, &rows) })))
}

/// `GET .../inputs`: one page of the app's inputs, newest first.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let params = Params::from_request(&req)?;
    let r = AppRef::of(&req, &user, None)?;
    let ctx = load_app(&state, &user, &r, Action::ReadContent).await?;
    let (page, per_page) = page_params(&params)?;
    let q = InputQuery {
        app: ctx.app.app_id(),
        search: None,
        concept: None,
        cursor: Cursor::First,
        per_page,
    };
    let (rows, _) = crate::db::run(&state.pool, move |conn| {
        Ok(Input::list_numbered(conn, &q, page, per_page)?)
    })
    .await?;
    Ok(ok(json!({ "inputs": inputs_json(&state, &ctx, &rows) })))
}

fn input_gone(id: &str) -> ApiError {
    ApiError::new(
        code::INPUT_DOES_NOT_EXIST,
        StatusCode::NOT_FOUND,
        format!("The input \"{}\" does not exist.", shorten(id, 64)),
    )
}

/// `GET .../inputs/{id}`
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let r = AppRef::of(&req, &user, None)?;
    let ctx = load_app(&state, &user, &r, Action::ReadContent).await?;
    let id = req.match_info().get("input").unwrap_or_default().to_owned();
    let rows = reload(&state, &ctx, vec![id.clone()]).await?;
    let Some((input, concepts)) = rows.first() else {
        return Err(input_gone(&id));
    };
    Ok(ok(
        json!({ "input": input_json(&state, &ctx, input, concepts) }),
    ))
}

/// `PATCH .../inputs`: changes the concepts (and metadata) of `inputs[]`;
/// `action` says whether the concepts given are merged in, replace the input's
/// concepts, or are removed.
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: InputsBody = parse_body(&body)?;
    let r = AppRef::of(
        &req,
        &user,
        Some(&body.user_app_id.clone().unwrap_or_default()),
    )?;
    let ctx = load_app(&state, &user, &r, Action::EditInputs).await?;
    let edit = match PatchAction::parse(body.action.as_deref())? {
        PatchAction::Overwrite => LabelEdit::Overwrite,
        PatchAction::Merge => LabelEdit::Merge,
        PatchAction::Remove => LabelEdit::Remove,
    };
    let list = body.inputs.unwrap_or_default();
    if list.is_empty() {
        return Err(ApiError::invalid("inputs: give at least one input."));
    }
    if list.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "inputs: at most {MAX_BATCH} inputs per request."
        )));
    }
    // (input id, concepts with values, new metadata)
    type Change = (String, Vec<(String, f64)>, Option<String>);
    let mut wanted: Vec<Change> = Vec::new();
    for (i, input) in list.iter().enumerate() {
        let at = format!("inputs[{i}]");
        let id = check_input_id(input.id.as_deref().unwrap_or(""), &at)?;
        let data = input.data.clone().unwrap_or_default();
        if data.text.is_some() || data.image.is_some() {
            return Err(ApiError::invalid(format!(
                "{at}.data: an input's text or image cannot be changed; change its concepts or metadata."
            )));
        }
        let concepts = concepts_of(data.concepts.as_deref().unwrap_or_default(), &at)?;
        let metadata = match &data.metadata {
            None => None,
            Some(_) => Some(metadata_of(&data.metadata, &at)?),
        };
        wanted.push((id, concepts, metadata));
    }
    let app_key = ctx.app.app_id();
    let order: Vec<String> = wanted.iter().map(|w| w.0.clone()).collect();
    crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<(), ApiError, _>(conn, |conn| {
            for (id, concepts, metadata) in &wanted {
                let Some(input) = Input::find(conn, app_key, id)? else {
                    return Err(input_gone(id));
                };
                let ids: Vec<String> = concepts.iter().map(|c| c.0.clone()).collect();
                let keys: HashMap<String, i64> = if edit == LabelEdit::Remove {
                    Concept::find_many(conn, app_key, &ids)?
                } else {
                    Concept::ensure(conn, app_key, &ids)?
                }
                .into_iter()
                .map(|c| (c.concept_id, c.id))
                .collect();
                let labels: Vec<(i64, f64)> = concepts
                    .iter()
                    .filter_map(|(c, v)| keys.get(c).map(|k| (*k, *v)))
                    .collect();
                Input::edit_concepts(conn, input.id, &labels, edit)?;
                if let Some(m) = metadata {
                    Input::set_metadata(conn, input.id, m)?;
                }
            }
            Ok(())
        }))
    })
    .await??;
    let rows = reload(&state, &ctx, order).await?;
    Ok(ok(json!({ "inputs": inputs_json(&state, &ctx, &rows) })))
}

/// `DELETE .../inputs` (`ids[]`, or `delete_all`) and `DELETE .../inputs/{id}`:
/// all of them, or none when one is missing.
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
    let ctx = load_app(&state, &user, &r, Action::EditInputs).await?;
    let app_key = ctx.app.app_id();
    if req.match_info().get("input").is_none() && body.delete_all == Some(true) {
        crate::db::run(&state.pool, move |conn| {
            Ok(Input::delete_all(conn, app_key)?)
        })
        .await?;
        return Ok(ok(json!({})));
    }
    let ids = match req.match_info().get("input") {
        Some(one) => vec![one.to_owned()],
        None => ids_list(body.ids.unwrap_or_default(), "input")?,
    };
    crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<(), ApiError, _>(conn, |conn| {
            let n = Input::delete_many(conn, app_key, &ids)?;
            if n != ids.len() {
                let missing = ids
                    .iter()
                    .find(|i| !matches!(Input::find(conn, app_key, i), Ok(Some(_))))
                    .cloned()
                    .unwrap_or_default();
                return Err(input_gone(&missing));
            }
            Ok(())
        }))
    })
    .await??;
    Ok(ok(json!({})))
}
