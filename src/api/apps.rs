//! Apps over the API: `GET/POST /v2/users/{U}/apps` and
//! `GET/PATCH/DELETE /v2/users/{U}/apps/{A}`, shaped like the platform's
//! `ListApps`, `PostApps`, `GetApp`, `PatchApp` and `DeleteApp`. Every access
//! goes through the policy; a batch create is all-or-nothing in one transaction.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::status::{ok, ApiError};
use crate::api::{find_owner, parse_body, shorten, timestamp, Params};
use crate::auth::policy::{can, list_scope, Action, Denied, Target};
use crate::models::account::{validate_handle, Owner};
use crate::models::app::{
    validate_description, validate_name, App, AppFields, AppWriteError, ListQuery, ListScope,
    PrivateApps, SortBy, Visibility,
};
use crate::state::AppState;

/// Apps per page when the request does not say.
pub const DEFAULT_PER_PAGE: i64 = 128;
/// Most apps per page.
pub const MAX_PER_PAGE: i64 = 1000;
/// Most apps one `PostApps` creates.
pub const MAX_BATCH: usize = 128;
/// Longest search text.
const MAX_SEARCH_LEN: usize = 100;

/// `visibility` as clients send it: `{"gettable": "PUBLIC"}` or `{"gettable": 50}`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct VisibilityIn {
    pub gettable: Option<Value>,
}

/// An app in a request body; fields the API does not store are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppIn {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub default_language: Option<String>,
    pub visibility: Option<VisibilityIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PostAppsBody {
    apps: Option<Vec<AppIn>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PatchAppBody {
    app: Option<AppIn>,
    action: Option<String>,
}

/// The JSON of an app.
pub fn app_json(owner: &str, app: &App) -> Value {
    json!({
        "id": app.handle,
        "name": app.name,
        "description": app.description,
        "user_id": owner,
        "default_language": app.default_language,
        "visibility": { "gettable": match app.visibility() {
            Visibility::Private => "PRIVATE",
            Visibility::Public => "PUBLIC",
        }},
        "created_at": timestamp(&app.created_at),
        "modified_at": timestamp(&app.updated_at),
    })
}

/// Reads `visibility.gettable`; `None` when unset (`UNKNOWN_VISIBILITY`, 0).
pub fn parse_visibility(v: &VisibilityIn) -> Result<Option<Visibility>, String> {
    let refuse_org = || {
        "ORG visibility is not supported: use PRIVATE or PUBLIC (org members always see their org's apps).".to_owned()
    };
    match &v.gettable {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => match s.trim().to_ascii_uppercase().as_str() {
            "" | "UNKNOWN_VISIBILITY" => Ok(None),
            "PRIVATE" => Ok(Some(Visibility::Private)),
            "PUBLIC" => Ok(Some(Visibility::Public)),
            "ORG" => Err(refuse_org()),
            other => Err(format!(
                "Unknown visibility \"{}\": use PRIVATE or PUBLIC.",
                shorten(other, 40)
            )),
        },
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => Ok(None),
            Some(10) => Ok(Some(Visibility::Private)),
            Some(50) => Ok(Some(Visibility::Public)),
            Some(30) => Err(refuse_org()),
            _ => Err(format!(
                "Unknown visibility {n}: use PRIVATE (10) or PUBLIC (50)."
            )),
        },
        Some(_) => Err("visibility.gettable must be PRIVATE or PUBLIC.".to_owned()),
    }
}

/// Checks a language code such as `en` or `zh-Hant`; empty means `en`.
pub fn validate_language(raw: &str) -> Result<String, String> {
    let l = raw.trim();
    if l.is_empty() {
        return Ok("en".to_owned());
    }
    let ok = l.len() <= 16
        && l.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(l.to_owned())
    } else {
        Err(
            "default_language must be a language code such as \"en\" (letters, digits, '-')."
                .to_owned(),
        )
    }
}

fn field_error(prefix: &str, field: &str, message: String) -> ApiError {
    ApiError::invalid(format!("{prefix}{field}: {message}"))
}

/// Validates one app of a `PostApps` body into its id and fields.
fn validate_new(input: &AppIn, prefix: &str) -> Result<(String, AppFields), ApiError> {
    let handle = validate_handle(input.id.as_deref().unwrap_or(""), "an app ID")
        .map_err(|m| field_error(prefix, "id", m))?;
    let name = match input.name.as_deref().map(str::trim) {
        None | Some("") => handle.clone(),
        Some(n) => validate_name(n).map_err(|m| field_error(prefix, "name", m))?,
    };
    let description = validate_description(input.description.as_deref().unwrap_or(""))
        .map_err(|m| field_error(prefix, "description", m))?;
    let default_language = validate_language(input.default_language.as_deref().unwrap_or(""))
        .map_err(|m| field_error(prefix, "default_language", m))?;
    let visibility = match &input.visibility {
        Some(v) => parse_visibility(v).map_err(|m| field_error(prefix, "visibility", m))?,
        None => None,
    };
    Ok((
        handle,
        AppFields {
            name,
            description,
            default_language,
            visibility: visibility.unwrap_or(Visibility::Private),
        },
    ))
}

/// The sort a `ListApps` request asks for.
fn sort_from(params: &Params) -> Result<SortBy, ApiError> {
    const KNOWN: [&str; 6] = [
        "sort_by_name",
        "sort_by_modified_at",
        "sort_by_created_at",
        "sort_by_star_count",
        "sort_by_id",
        "sort_by_relevance",
    ];
    if let Some(unknown) = params
        .keys()
        .find(|k| k.starts_with("sort_by_") && !KNOWN.contains(k))
    {
        return Err(ApiError::invalid(format!(
            "Unknown sort key {}: sort with sort_by_name, sort_by_modified_at or sort_by_created_at.",
            shorten(unknown, 40)
        )));
    }
    for unsupported in ["sort_by_star_count", "sort_by_id", "sort_by_relevance"] {
        if params.bool(unsupported)? {
            return Err(ApiError::invalid(format!(
                "{unsupported} is not supported: sort with sort_by_name, sort_by_modified_at or sort_by_created_at."
            )));
        }
    }
    let mut chosen = Vec::new();
    for (key, sort) in [
        ("sort_by_name", SortBy::Name),
        ("sort_by_modified_at", SortBy::Updated),
        ("sort_by_created_at", SortBy::Created),
    ] {
        if params.bool(key)? {
            chosen.push((key, sort));
        }
    }
    match chosen.as_slice() {
        [] => Ok(SortBy::Updated),
        [(_, sort)] => Ok(*sort),
        many => Err(ApiError::invalid(format!(
            "Choose one sort, not {}.",
            many.iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
                .join(" and ")
        ))),
    }
}

/// The search text of a `ListApps` request (`name`, `search` or `query`).
fn search_from(params: &Params) -> Result<Option<String>, ApiError> {
    let given: Vec<&str> = ["name", "search", "query"]
        .iter()
        .filter_map(|k| params.get(k))
        .collect();
    let Some(first) = given.first() else {
        return Ok(None);
    };
    if given.iter().any(|g| g != first) {
        return Err(ApiError::invalid(
            "Give one search text: name, search and query differ.",
        ));
    }
    if first.chars().count() > MAX_SEARCH_LEN {
        return Err(ApiError::invalid(format!(
            "Search for at most {MAX_SEARCH_LEN} characters."
        )));
    }
    Ok(Some((*first).to_owned()))
}

/// `GET /v2/users/{U}/apps`: one page of the owner's apps the key may see.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::from_request(&req)?;
    let owner = find_owner(&state, user.resolve(&path)).await?;
    can(&user.actor, Action::ListApps, Target::Owner(owner.id))?;
    let page = params.count("page", 1, 1_000_000)?;
    let per_page = params.count("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let ascending = params.bool("sort_ascending")?;
    let sort = sort_from(&params)?;
    for unsupported in ["starred_only", "featured_only", "template_only"] {
        if params.bool(unsupported)? {
            return Err(ApiError::invalid(format!(
                "{unsupported} is not supported by this server."
            )));
        }
    }
    let search = search_from(&params)?;
    let mut scope = list_scope(&user.actor, owner.id);
    if let Some(v) = params.get("visibility.gettable") {
        let wanted = parse_visibility(&VisibilityIn {
            gettable: Some(Value::String(v.to_owned())),
        })
        .map_err(ApiError::invalid)?;
        match wanted {
            None => {}
            Some(Visibility::Public) => {
                // Public ones only, still within the viewer's label restriction.
                scope = match scope {
                    ListScope::Siloed { labels, .. } => {
                        ListScope::from_parts(PrivateApps::None, labels)
                    }
                    ListScope::None => ListScope::None,
                    _ => ListScope::PublicOnly,
                }
            }
            Some(Visibility::Private) => return Err(ApiError::invalid(
                "Filtering by PRIVATE visibility is not supported; filter by PUBLIC or list all.",
            )),
        }
    }
    let query = ListQuery {
        owner: owner.id,
        scope,
        search,
        sort,
        ascending,
        page,
        per_page,
        pins_of: None,
    };
    let result = crate::db::run(&state.pool, move |conn| Ok(App::list(conn, &query)?)).await?;
    let apps: Vec<Value> = result
        .items
        .iter()
        .map(|a| app_json(&owner.handle, a))
        .collect();
    Ok(ok(json!({ "apps": apps })))
}

/// `POST /v2/users/{U}/apps`: creates every app of `apps[]`, or none.
pub async fn create(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let owner = find_owner(&state, user.resolve(&path)).await?;
    can(&user.actor, Action::CreateApp, Target::Owner(owner.id))?;
    let body: PostAppsBody = parse_body(&body)?;
    let inputs = body.apps.unwrap_or_default();
    if inputs.is_empty() {
        return Err(ApiError::invalid("apps: give at least one app to create."));
    }
    if inputs.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "apps: create at most {MAX_BATCH} apps per request."
        )));
    }
    let mut validated: Vec<(String, AppFields)> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let (handle, fields) = validate_new(input, &format!("apps[{i}]."))?;
        if validated.iter().any(|(h, _)| *h == handle) {
            return Err(ApiError::duplicate(format!(
                "apps[{i}].id: \"{handle}\" appears more than once in this request."
            )));
        }
        validated.push((handle, fields));
    }
    let (owner_id, owner_handle, uid) = (owner.id, owner.handle.clone(), user.id);
    let created = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<Vec<App>, ApiError, _>(
            conn,
            |conn| {
                let mut out = Vec::with_capacity(validated.len());
                for (i, (handle, fields)) in validated.iter().enumerate() {
                    match App::create(conn, owner_id, handle, fields, Some(uid)) {
                        Ok(app) => out.push(app),
                        Err(AppWriteError::IdTaken) => {
                            return Err(ApiError::duplicate(format!(
                        "apps[{i}].id: {owner_handle} already has an app with the id \"{handle}\"."
                    )))
                        }
                        Err(AppWriteError::Db(e)) => return Err(e.into()),
                    }
                }
                Ok(out)
            },
        ))
    })
    .await??;
    tracing::info!(
        user_id = uid.0,
        owner_id = owner.id.0,
        count = created.len(),
        "apps created through the API"
    );
    let apps: Vec<Value> = created.iter().map(|a| app_json(&owner.handle, a)).collect();
    Ok(ok(json!({ "apps": apps })))
}

/// Loads `{U}/{A}` and checks `action`; a missing app and one the key may not see
/// answer the same 11101.
pub(crate) async fn load(
    state: &AppState,
    user: &ApiUser,
    owner: &str,
    app: &str,
    action: Action,
) -> Result<(Owner, App), ApiError> {
    let owner_h = user.resolve(owner).to_owned();
    let gone = ApiError::not_found(format!(
        "The app \"{}/{}\" does not exist.",
        shorten(&owner_h, 60),
        shorten(app, 60)
    ));
    let app_h = app.to_owned();
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(owner) = Owner::find_by_handle(conn, &owner_h)? else {
            return Ok(None);
        };
        Ok(App::find(conn, owner.id, &app_h)?.map(|a| (owner, a)))
    })
    .await?;
    let Some((owner, app)) = found else {
        return Err(gone);
    };
    match can(&user.actor, action, Target::App(&app)) {
        Ok(()) => Ok((owner, app)),
        Err(Denied::NotFound) => Err(gone),
        Err(d) => Err(d.into()),
    }
}

/// `GET /v2/users/{U}/apps/{A}`
pub async fn get(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (o, a) = path.into_inner();
    let (owner, app) = load(&state, &user, &o, &a, Action::ReadPrivateApp).await?;
    Ok(ok(json!({ "app": app_json(&owner.handle, &app) })))
}

/// How a PATCH applies its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatchAction {
    /// Every field given replaces the stored one (an empty name falls back to the id).
    Overwrite,
    /// Like overwrite, but empty values leave the stored ones alone.
    Merge,
    /// Every field given goes back to its default.
    Remove,
}

fn patched_fields(app: &App, input: &AppIn, action: PatchAction) -> Result<AppFields, ApiError> {
    let mut f = AppFields {
        name: app.name.clone(),
        description: app.description.clone(),
        default_language: app.default_language.clone(),
        visibility: app.visibility(),
    };
    let given = |v: &Option<String>| -> Option<String> {
        match (action, v) {
            (_, None) => None,
            (PatchAction::Merge, Some(s)) if s.trim().is_empty() => None,
            (_, Some(s)) => Some(s.clone()),
        }
    };
    let p = "app.";
    if action == PatchAction::Remove {
        if input.name.is_some() {
            f.name = app.handle.clone();
        }
        if input.description.is_some() {
            f.description = String::new();
        }
        if input.default_language.is_some() {
            f.default_language = "en".to_owned();
        }
        if input.visibility.is_some() {
            f.visibility = Visibility::Private;
        }
        return Ok(f);
    }
    if let Some(n) = given(&input.name) {
        f.name = if n.trim().is_empty() {
            app.handle.clone()
        } else {
            validate_name(&n).map_err(|m| field_error(p, "name", m))?
        };
    }
    if let Some(d) = given(&input.description) {
        f.description = validate_description(&d).map_err(|m| field_error(p, "description", m))?;
    }
    if let Some(l) = given(&input.default_language) {
        f.default_language =
            validate_language(&l).map_err(|m| field_error(p, "default_language", m))?;
    }
    if let Some(v) = &input.visibility {
        if let Some(v) = parse_visibility(v).map_err(|m| field_error(p, "visibility", m))? {
            f.visibility = v;
        }
    }
    Ok(f)
}

/// `PATCH /v2/users/{U}/apps/{A}`: `{"app": {...}, "action": "overwrite"|"merge"|"remove"}`.
pub async fn patch(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (o, a) = path.into_inner();
    let (owner, app) = load(&state, &user, &o, &a, Action::UpdateApp).await?;
    let body: PatchAppBody = parse_body(&body)?;
    let Some(input) = body.app else {
        return Err(ApiError::invalid("app: give the fields to change."));
    };
    let action = match body
        .action
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("overwrite") => PatchAction::Overwrite,
        Some("merge") => PatchAction::Merge,
        Some("remove") => PatchAction::Remove,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "action must be overwrite, merge or remove, not \"{}\".",
                shorten(other, 40)
            )))
        }
    };
    if let Some(id) = input.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if id != app.handle {
            return Err(ApiError::invalid(format!(
                "app.id must be the id of the app in the path (\"{}\"); app ids are changed in the app's settings.",
                app.handle
            )));
        }
    }
    let fields = patched_fields(&app, &input, action)?;
    let (id, handle) = (app.app_id(), app.handle.clone());
    let saved = crate::db::run(&state.pool, move |conn| {
        Ok(App::update(conn, id, &handle, &fields))
    })
    .await?;
    match saved {
        Ok(app) => Ok(ok(json!({ "app": app_json(&owner.handle, &app) }))),
        Err(AppWriteError::IdTaken) => Err(ApiError::duplicate(format!(
            "{} already has an app with the id \"{}\".",
            owner.handle, app.handle
        ))),
        Err(AppWriteError::Db(e)) => Err(e.into()),
    }
}

/// `DELETE /v2/users/{U}/apps/{A}` (the body, if any, is not needed).
pub async fn delete(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (o, a) = path.into_inner();
    let (_, app) = load(&state, &user, &o, &a, Action::DeleteApp).await?;
    let (app_id, uid) = (app.id, user.id);
    crate::db::run(&state.pool, move |conn| Ok(App::delete(conn, &app)?)).await?;
    tracing::info!(user_id = uid.0, app_id, "app deleted through the API");
    Ok(ok(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vis(v: Value) -> Result<Option<Visibility>, String> {
        parse_visibility(&VisibilityIn { gettable: Some(v) })
    }

    #[test]
    fn visibility_names_and_numbers() {
        assert_eq!(vis(json!("PUBLIC")), Ok(Some(Visibility::Public)));
        assert_eq!(vis(json!("private")), Ok(Some(Visibility::Private)));
        assert_eq!(vis(json!(50)), Ok(Some(Visibility::Public)));
        assert_eq!(vis(json!(10)), Ok(Some(Visibility::Private)));
        assert_eq!(vis(json!(0)), Ok(None));
        assert!(vis(json!("ORG")).is_err());
        assert!(vis(json!(true)).is_err());
    }

    #[test]
    fn languages() {
        assert_eq!(validate_language("").as_deref(), Ok("en"));
        assert_eq!(validate_language("zh-Hant").as_deref(), Ok("zh-Hant"));
        assert!(validate_language("en; DROP TABLE apps").is_err());
    }
}
