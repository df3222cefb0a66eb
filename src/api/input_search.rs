//! `POST .../inputs/searches` (the platform's `PostInputsSearches`): the inputs
//! whose text contains a given text and / or that show a concept, read from
//! `searches[].query` (`ands`, `filters`, `ranks`) or the older top-level `query`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::content::{input_json, load_app, AppRef, Pagination, UserAppId};
use crate::api::inputs::{DataIn, InputIn};
use crate::api::parse_body;
use crate::api::status::{ok, ApiError};
use crate::auth::policy::Action;
use crate::models::concept::{validate_concept_id, Concept};
use crate::models::input::{Cursor, Input, InputQuery};
use crate::models::ConceptKey;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AnnotationIn {
    data: Option<DataIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FilterIn {
    input: Option<InputIn>,
    annotation: Option<AnnotationIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QueryIn {
    ands: Option<Vec<FilterIn>>,
    filters: Option<Vec<FilterIn>>,
    ranks: Option<Vec<FilterIn>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchIn {
    query: Option<QueryIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchBody {
    user_app_id: Option<UserAppId>,
    searches: Option<Vec<SearchIn>>,
    query: Option<QueryIn>,
    pagination: Option<Pagination>,
}

/// What a search asks: a text to find and at most one concept to filter by.
fn search_terms(body: &SearchBody) -> Result<(Option<String>, Option<String>), ApiError> {
    let mut clauses: Vec<&FilterIn> = Vec::new();
    let queries = body
        .searches
        .iter()
        .flatten()
        .filter_map(|s| s.query.as_ref())
        .chain(body.query.as_ref());
    for q in queries {
        for list in [&q.ands, &q.filters, &q.ranks].into_iter().flatten() {
            clauses.extend(list.iter());
        }
    }
    let (mut text, mut concept) = (None::<String>, None::<String>);
    for c in clauses {
        let datas = [
            c.input.as_ref().and_then(|i| i.data.as_ref()),
            c.annotation.as_ref().and_then(|a| a.data.as_ref()),
        ];
        for d in datas.into_iter().flatten() {
            if let Some(t) = d.text.as_ref().and_then(|t| t.raw.as_ref()) {
                if text.replace(t.trim().to_owned()).is_some() {
                    return Err(ApiError::invalid("Search for one text at a time."));
                }
            }
            for cpt in d.concepts.iter().flatten() {
                let raw = cpt.id.as_deref().or(cpt.name.as_deref()).unwrap_or("");
                let id = validate_concept_id(raw).map_err(ApiError::invalid)?;
                if cpt.value == Some(0.0) {
                    return Err(ApiError::invalid(
                        "Searching for inputs without a concept (value 0) is not supported.",
                    ));
                }
                if concept.replace(id).is_some() {
                    return Err(ApiError::invalid("Filter by one concept at a time."));
                }
            }
        }
    }
    if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::invalid("Search for at most 200 characters."));
    }
    Ok((text.filter(|t| !t.is_empty()), concept))
}

/// `POST .../inputs/searches`: inputs whose text contains `text.raw` and / or
/// that show a concept; `hits[]{score, input}`, newest first.
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
    let (page, per_page) = body.pagination.clone().unwrap_or_default().resolve()?;
    let (text, concept) = search_terms(&body)?;
    let app_key = ctx.app.app_id();
    let rows = crate::db::run(&state.pool, move |conn| {
        let concept_key = match &concept {
            Some(c) => match Concept::find(conn, app_key, c)? {
                Some(found) => Some(ConceptKey(found.id)),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let q = InputQuery {
            app: app_key,
            search: text,
            concept: concept_key,
            cursor: Cursor::First,
            per_page,
        };
        Ok(Input::list_numbered(conn, &q, page, per_page)?.0)
    })
    .await?;
    let hits: Vec<Value> = rows
        .iter()
        .map(|(i, c)| {
            json!({
                "score": 1.0,
                "input": input_json(&state, &ctx, i, c),
                "app_id": ctx.app.handle,
                "user_id": ctx.owner.handle,
            })
        })
        .collect();
    Ok(ok(json!({ "hits": hits })))
}
