//! Concepts over the API: `POST/GET/PATCH/DELETE .../concepts`,
//! `GET/DELETE .../concepts/{id}` and `POST .../concepts/searches`, shaped like
//! the platform's `PostConcepts`, `ListConcepts`, `GetConcept`, `PatchConcepts`
//! and `PostConceptsSearches`. Writes of a batch are all-or-nothing.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::content::{
    concept_json, ids_list, load_app, page_params, AppRef, ConceptIn, Pagination, PatchAction,
    UserAppId, MAX_BATCH,
};
use crate::api::status::{ok, ApiError};
use crate::api::{parse_body, shorten, Params};
use crate::auth::policy::Action;
use crate::models::concept::{
    validate_concept_id, validate_concept_name, Concept, ConceptWriteError,
};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConceptsBody {
    user_app_id: Option<UserAppId>,
    concepts: Option<Vec<ConceptIn>>,
    action: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdsBody {
    user_app_id: Option<UserAppId>,
    ids: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConceptQuery {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchBody {
    user_app_id: Option<UserAppId>,
    concept_query: Option<ConceptQuery>,
    pagination: Option<Pagination>,
}

fn concepts_in(list: Option<Vec<ConceptIn>>) -> Result<Vec<(String, String)>, ApiError> {
    let list = list.unwrap_or_default();
    if list.is_empty() {
        return Err(ApiError::invalid("concepts: give at least one concept."));
    }
    if list.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "concepts: at most {MAX_BATCH} concepts per request."
        )));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let id = validate_concept_id(c.id.as_deref().unwrap_or(""))
            .map_err(|m| ApiError::invalid(format!("concepts[{i}].id: {m}")))?;
        let name = validate_concept_name(c.name.as_deref().unwrap_or(""))
            .map_err(|m| ApiError::invalid(format!("concepts[{i}].name: {m}")))?;
        if out.iter().any(|(o, _)| *o == id) {
            return Err(ApiError::duplicate(format!(
                "concepts[{i}].id: \"{id}\" appears more than once in this request."
            )));
        }
        out.push((id, name));
    }
    Ok(out)
}

/// `POST .../concepts`: creates every concept of `concepts[]`, or none.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: ConceptsBody = parse_body(&body)?;
    let r = AppRef::of(
        &req,
        &user,
        Some(&body.user_app_id.clone().unwrap_or_default()),
    )?;
    let ctx = load_app(&state, &user, &r, Action::EditInputs).await?;
    let wanted = concepts_in(body.concepts)?;
    let app_key = ctx.app.app_id();
    let created = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<Vec<Concept>, ApiError, _>(
            conn,
            |conn| {
                let mut out = Vec::with_capacity(wanted.len());
                for (i, (id, name)) in wanted.iter().enumerate() {
                    match Concept::create(conn, app_key, id, name) {
                        Ok(c) => out.push(c),
                        Err(ConceptWriteError::IdTaken) => {
                            return Err(ApiError::duplicate(format!(
                                "concepts[{i}].id: the app already has a concept \"{id}\"."
                            )))
                        }
                        Err(ConceptWriteError::Db(e)) => return Err(e.into()),
                    }
                }
                Ok(out)
            },
        ))
    })
    .await??;
    let concepts: Vec<Value> = created
        .iter()
        .map(|c| concept_json(&ctx.owner.handle, &ctx.app, c, None))
        .collect();
    Ok(ok(json!({ "concepts": concepts })))
}

/// `GET .../concepts`: one page of the app's concepts, by id.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let params = Params::from_request(&req)?;
    let r = AppRef::of(&req, &user, None)?;
    let ctx = load_app(&state, &user, &r, Action::ReadContent).await?;
    let (page, per_page) = page_params(&params)?;
    search_page(&state, &ctx, None, page, per_page).await
}

async fn search_page(
    state: &AppState,
    ctx: &crate::api::content::AppCtx,
    search: Option<String>,
    page: i64,
    per_page: i64,
) -> Result<HttpResponse, ApiError> {
    let app_key = ctx.app.app_id();
    let (rows, _) = crate::db::run(&state.pool, move |conn| {
        Ok(Concept::list(
            conn,
            app_key,
            search.as_deref(),
            page,
            per_page,
        )?)
    })
    .await?;
    let concepts: Vec<Value> = rows
        .iter()
        .map(|r| concept_json(&ctx.owner.handle, &ctx.app, &r.concept, None))
        .collect();
    Ok(ok(json!({ "concepts": concepts })))
}

/// `POST .../concepts/searches`: `concept_query{name}` matches ids and names.
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
    let name = body
        .concept_query
        .and_then(|q| q.name)
        .map(|n| n.trim().trim_end_matches('*').to_owned())
        .filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(ApiError::invalid(
            "concept_query.name: search for at most 100 characters.",
        ));
    }
    search_page(&state, &ctx, name, page, per_page).await
}

/// `GET .../concepts/{id}`
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let r = AppRef::of(&req, &user, None)?;
    let ctx = load_app(&state, &user, &r, Action::ReadContent).await?;
    let id = req
        .match_info()
        .get("concept")
        .unwrap_or_default()
        .to_owned();
    let (app_key, cid) = (ctx.app.app_id(), id.clone());
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(Concept::find(conn, app_key, &cid)?)
    })
    .await?;
    let c = found.ok_or_else(|| {
        ApiError::not_found(format!(
            "The concept \"{}\" does not exist.",
            shorten(&id, 64)
        ))
    })?;
    Ok(ok(
        json!({ "concept": concept_json(&ctx.owner.handle, &ctx.app, &c, None) }),
    ))
}

/// `PATCH .../concepts`: renames (`overwrite`/`merge`; an empty name with
/// `merge` keeps the old one) or, with `remove`, puts names back to the id.
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: ConceptsBody = parse_body(&body)?;
    let r = AppRef::of(
        &req,
        &user,
        Some(&body.user_app_id.clone().unwrap_or_default()),
    )?;
    let ctx = load_app(&state, &user, &r, Action::EditInputs).await?;
    let action = PatchAction::parse(body.action.as_deref())?;
    let wanted = concepts_in(body.concepts)?;
    let app_key = ctx.app.app_id();
    let changed = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<Vec<Concept>, ApiError, _>(
            conn,
            |conn| {
                let mut out = Vec::with_capacity(wanted.len());
                for (i, (id, name)) in wanted.iter().enumerate() {
                    let Some(c) = Concept::find(conn, app_key, id)? else {
                        return Err(ApiError::not_found(format!(
                            "concepts[{i}].id: the concept \"{id}\" does not exist."
                        )));
                    };
                    let new_name = match action {
                        PatchAction::Remove => c.concept_id.clone(),
                        PatchAction::Merge if name.is_empty() => c.name.clone(),
                        _ if name.is_empty() => c.concept_id.clone(),
                        _ => name.clone(),
                    };
                    out.push(Concept::rename(conn, c.key(), &new_name)?);
                }
                Ok(out)
            },
        ))
    })
    .await??;
    let concepts: Vec<Value> = changed
        .iter()
        .map(|c| concept_json(&ctx.owner.handle, &ctx.app, c, None))
        .collect();
    Ok(ok(json!({ "concepts": concepts })))
}

/// `DELETE .../concepts` (`ids[]`) and `DELETE .../concepts/{id}`: the concepts
/// go, and with them their labels on inputs and their place in models.
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
    let ids = match req.match_info().get("concept") {
        Some(one) => vec![one.to_owned()],
        None => ids_list(body.ids.unwrap_or_default(), "concept")?,
    };
    let app_key = ctx.app.app_id();
    let missing = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<Option<String>, ApiError, _>(
            conn,
            |conn| {
                let found = Concept::find_many(conn, app_key, &ids)?;
                if let Some(m) = ids
                    .iter()
                    .find(|i| !found.iter().any(|c| c.concept_id == **i))
                {
                    return Ok(Some(m.clone()));
                }
                Concept::delete_many(conn, app_key, &ids)?;
                Ok(None)
            },
        ))
    })
    .await??;
    if let Some(m) = missing {
        return Err(ApiError::not_found(format!(
            "The concept \"{}\" does not exist; nothing was deleted.",
            shorten(&m, 64)
        )));
    }
    Ok(ok(json!({})))
}
