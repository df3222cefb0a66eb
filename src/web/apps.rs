//! **My Apps**: the listing of an owner's apps (grid or list, search, sort, pins,
//! pages), creating an app, and pinning; duplicate and delete are in `app_actions`
//! (re-exported here for the route table).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, list_scope, Action, Actor, Target};
use crate::auth::session::{with_viewer, Viewer, Visit};
use crate::error::AppError;
use crate::models::account::{validate_handle, Owner};
use crate::models::app::{
    validate_description, validate_name, App, AppFields, AppWriteError, ListQuery, SortBy,
    Visibility,
};
use crate::models::app_list::{self, AppCard, AppPage};
use crate::models::user::User;
use crate::models::AccountId;
use crate::state::AppState;
use crate::web::{denied, flash, is_htmx, page, redirect, render, urlencode, FieldErrors, Nav};

pub use crate::web::app_actions::{delete, delete_form, duplicate, duplicate_form};

/// Apps per page of the listing.
pub const PER_PAGE: i64 = 24;

/// The listing's query string, kept as typed so bad values get a clear message.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ListParams {
    pub q: String,
    pub sort: String,
    pub dir: String,
    pub page: String,
}

/// The listing's parameters, validated.
#[derive(Debug, Clone)]
pub struct Listing {
    pub q: String,
    pub sort: SortBy,
    pub ascending: bool,
    pub page: i64,
}

impl Listing {
    /// Validates the query string; unknown sort keys and bad pages are refused clearly.
    pub fn parse(p: &ListParams) -> Result<Listing, String> {
        let sort = match p.sort.trim() {
            "" => SortBy::Updated,
            s => SortBy::parse(s)
                .filter(|s| *s != SortBy::Created)
                .ok_or_else(|| {
                    format!(
                        "Unknown sort \"{}\": sort by \"updated\" or \"name\".",
                        truncate(s, 40)
                    )
                })?,
        };
        let ascending = match p.dir.trim() {
            "" => sort == SortBy::Name,
            "asc" => true,
            "desc" => false,
            d => {
                return Err(format!(
                    "Unknown direction \"{}\": use \"asc\" or \"desc\".",
                    truncate(d, 40)
                ))
            }
        };
        let page = match p.page.trim() {
            "" => 1,
            s => match s.parse::<i64>() {
                Ok(n) if (1..=1_000_000).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "\"{}\" is not a page number: pages start at 1.",
                        truncate(s, 40)
                    ))
                }
            },
        };
        let q = p.q.trim();
        if q.chars().count() > 100 {
            return Err("Search for at most 100 characters.".to_owned());
        }
        Ok(Listing {
            q: q.to_owned(),
            sort,
            ascending,
            page,
        })
    }

    pub fn sort_str(&self) -> &'static str {
        self.sort.as_str()
    }

    pub fn dir_str(&self) -> &'static str {
        if self.ascending {
            "asc"
        } else {
            "desc"
        }
    }

    /// The listing's URL with another page number.
    pub fn prev_url(&self, owner: &str) -> String {
        self.url(owner, self.page - 1)
    }

    pub fn next_url(&self, owner: &str) -> String {
        self.url(owner, self.page + 1)
    }

    pub fn self_url(&self, owner: &str) -> String {
        self.url(owner, self.page)
    }

    pub fn url(&self, owner: &str, page: i64) -> String {
        format!("/{owner}/apps{}", self.query(page))
    }

    /// The listing's query string (`?sort=..&dir=..[&q=..][&page=..]`). A card's
    /// pin form posts to its app's pin URL with it, so that the page comes back
    /// as it was (one URL per card instead of four hidden fields).
    fn query(&self, page: i64) -> String {
        let mut u = format!("?sort={}&dir={}", self.sort_str(), self.dir_str());
        if !self.q.is_empty() {
            u.push_str("&q=");
            u.push_str(&urlencode(&self.q));
        }
        if page > 1 {
            u.push_str(&format!("&page={page}"));
        }
        u
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// One card / row of the listing.
pub struct Card {
    pub app: AppCard,
    pub pinned: bool,
    pub can_edit: bool,
    pub can_delete: bool,
    pub can_duplicate: bool,
    pub can_pin: bool,
    pub updated: String,
    /// Where the card's pin form posts (with the listing's query string).
    pub pin_url: String,
}

#[derive(Template)]
#[template(path = "apps/list.html")]
struct ListPage {
    nav: Nav,
    owner: Owner,
    listing: Listing,
    cards: Vec<Card>,
    has_next: bool,
    view: String,
    can_create: bool,
    signed_in: bool,
}

#[derive(Template)]
#[template(path = "apps/list.html", block = "results")]
struct ListResults {
    owner: Owner,
    listing: Listing,
    cards: Vec<Card>,
    has_next: bool,
    view: String,
    can_create: bool,
    signed_in: bool,
    nav: Nav,
}

async fn find_owner(state: &AppState, handle: &str) -> Result<Owner, AppError> {
    let handle = handle.to_owned();
    crate::db::run(&state.pool, move |conn| {
        Ok(Owner::find_by_handle(conn, &handle)?)
    })
    .await?
    .ok_or(AppError::NotFound)
}

fn cards(viewer: &Viewer, page: AppPage<AppCard>, owner: &str, listing: &Listing) -> Vec<Card> {
    let actor = &viewer.actor;
    let query = listing.query(listing.page);
    let pinned = page.pinned.into_iter().map(|a| (a, true));
    let rest = page.items.into_iter().map(|a| (a, false));
    pinned
        .chain(rest)
        .map(|(app, pinned)| Card {
            can_edit: can(actor, Action::UpdateApp, Target::Card(&app)).is_ok(),
            can_delete: can(actor, Action::DeleteApp, Target::Card(&app)).is_ok(),
            can_duplicate: can(actor, Action::DuplicateApp, Target::Card(&app)).is_ok(),
            can_pin: can(actor, Action::PinApp, Target::Card(&app)).is_ok(),
            updated: crate::web::fmt_time(&app.updated_at),
            pin_url: format!("/{owner}/{}/pin{query}", app.handle),
            pinned,
            app,
        })
        .collect()
}

/// The page request for `owner`'s apps as `viewer` may see them.
fn list_query(actor: &Actor, owner: AccountId, listing: &Listing) -> ListQuery {
    ListQuery {
        owner,
        scope: list_scope(actor, owner),
        search: Some(listing.q.clone()).filter(|q| !q.is_empty()),
        sort: listing.sort,
        ascending: listing.ascending,
        page: listing.page,
        per_page: PER_PAGE,
        pins_of: actor.user.as_ref().map(|u| u.id),
    }
}

/// Loads and renders the listing of a known owner (after a pin, for htmx).
async fn show_list(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    owner: Owner,
    listing: Listing,
) -> Result<HttpResponse, AppError> {
    can(&viewer.actor, Action::ListApps, Target::Owner(owner.id)).map_err(denied)?;
    let query = list_query(&viewer.actor, owner.id, &listing);
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(app_list::list::<AppCard>(conn, &query)?)
    })
    .await?;
    render_list(req, viewer, owner, listing, result)
}

/// Renders the listing (whole page, or the results block for htmx).
fn render_list(
    req: &HttpRequest,
    viewer: &Viewer,
    owner: Owner,
    listing: Listing,
    result: AppPage<AppCard>,
) -> Result<HttpResponse, AppError> {
    let has_next = result.has_next;
    let cards = cards(viewer, result, &owner.handle, &listing);
    let view = viewer
        .user
        .as_ref()
        .map(|u| u.apps_view.clone())
        .unwrap_or_else(|| "grid".to_owned());
    let can_create = can(&viewer.actor, Action::CreateApp, Target::Owner(owner.id)).is_ok();
    let signed_in = viewer.user.is_some();
    if is_htmx(req)
        && req
            .headers()
            .get("hx-target")
            .is_some_and(|t| t == "app-results")
    {
        page(&ListResults {
            nav: Nav::new(viewer),
            owner,
            listing,
            cards,
            has_next,
            view,
            can_create,
            signed_in,
        })
    } else {
        page(&ListPage {
            nav: Nav::new(viewer),
            owner,
            listing,
            cards,
            has_next,
            view,
            can_create,
            signed_in,
        })
    }
}

/// `GET /{owner}/apps`: the viewer, the owner, the policy decision and the page
/// in one trip to the database (this is the busiest page).
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    visit: Visit,
    path: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let handle = path.into_inner();
    let parsed = Listing::parse(&params);
    let (viewer, (owner, listing, result)) = with_viewer(&state, visit, move |conn, actor| {
        let owner = Owner::find_by_handle(conn, &handle)?.ok_or(AppError::NotFound)?;
        let listing = parsed.map_err(AppError::BadRequest)?;
        can(actor, Action::ListApps, Target::Owner(owner.id)).map_err(denied)?;
        let result = app_list::list::<AppCard>(conn, &list_query(actor, owner.id, &listing))?;
        Ok((owner, listing, result))
    })
    .await?;
    render_list(&req, &viewer, owner, listing, result)
}

/// `GET /{owner}`: the owner's profile is their apps.
pub async fn owner_home(path: web::Path<String>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", format!("/{}/apps", path.into_inner())))
        .finish()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ViewForm {
    pub view: String,
    pub back: String,
}

/// `POST /settings/apps-view`: remembers grid or list for the user.
pub async fn set_view(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<ViewForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/")?.clone();
    let view = match form.view.as_str() {
        "grid" | "list" => form.view.clone(),
        _ => {
            return Err(AppError::BadRequest(
                "Choose the grid or the list view.".to_owned(),
            ))
        }
    };
    let id = user.id;
    crate::db::run(&state.pool, move |conn| {
        Ok(User::set_apps_view(conn, id, &view)?)
    })
    .await?;
    let back = crate::web::safe_next(Some(&form.back));
    let back = if back == "/" {
        format!("/{}/apps", user.active_handle())
    } else {
        back
    };
    Ok(redirect(&req, &back))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewAppForm {
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "apps/new.html")]
struct NewAppPage {
    nav: Nav,
    owner: String,
    form: NewAppForm,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "apps/new.html", block = "dialog")]
struct NewAppDialog {
    nav: Nav,
    owner: String,
    form: NewAppForm,
    errors: FieldErrors,
}

fn show_new_app(
    req: &HttpRequest,
    viewer: &Viewer,
    owner: String,
    form: NewAppForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let nav = Nav::new(viewer);
    if is_htmx(req) {
        render(
            status,
            &NewAppDialog {
                nav,
                owner,
                form,
                errors,
            },
        )
    } else {
        render(
            status,
            &NewAppPage {
                nav,
                owner,
                form,
                errors,
            },
        )
    }
}

/// `GET /{owner}/apps/new`: the **+ Create an App** dialog (or page).
pub async fn new_app(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    viewer.require(&format!("/{path}/apps/new"))?;
    let owner = find_owner(&state, &path).await?;
    can(&viewer.actor, Action::CreateApp, Target::Owner(owner.id)).map_err(denied)?;
    show_new_app(
        &req,
        &viewer,
        owner.handle,
        NewAppForm::default(),
        FieldErrors::new(),
    )
}

/// Validates the app form fields shared by create and edit.
pub fn validate_app_fields(
    errors: &mut FieldErrors,
    name: &str,
    description: &str,
    visibility: Visibility,
) -> Option<AppFields> {
    let name = errors.check("name", validate_name(name));
    let description = errors.check("description", validate_description(description));
    Some(AppFields {
        name: name?,
        description: description?,
        default_language: "en".to_owned(),
        visibility,
    })
}

/// `POST /{owner}/apps`
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<NewAppForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require(&format!("/{path}/apps"))?.clone();
    let owner = find_owner(&state, &path).await?;
    can(&viewer.actor, Action::CreateApp, Target::Owner(owner.id)).map_err(denied)?;
    let mut form = form.into_inner();
    let mut errors = FieldErrors::new();
    let handle = errors.check("id", validate_handle(&form.id, "an app ID"));
    if form.name.trim().is_empty() {
        form.name = form.id.trim().to_owned();
    }
    let fields = validate_app_fields(
        &mut errors,
        &form.name,
        &form.description,
        Visibility::Private,
    );
    let (Some(handle), Some(fields)) = (handle, fields) else {
        return show_new_app(&req, &viewer, owner.handle, form, errors);
    };
    let (owner_id, uid) = (owner.id, user.id);
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(App::create(conn, owner_id, &handle, &fields, Some(uid)))
    })
    .await?;
    match result {
        Ok(app) => {
            tracing::info!(user_id = uid.0, app_id = app.id, "app created");
            flash(&viewer.session, format!("App {} created.", app.name));
            Ok(redirect(&req, &format!("/{}/{}", owner.handle, app.handle)))
        }
        Err(AppWriteError::IdTaken) => {
            errors.add(
                "id",
                format!("{} already has an app with this ID.", owner.handle),
            );
            show_new_app(&req, &viewer, owner.handle, form, errors)
        }
        Err(AppWriteError::Db(e)) => Err(e.into()),
    }
}

/// Loads `/{owner}/{app}` and checks `action` on it.
pub async fn load_app(
    state: &AppState,
    viewer: &Viewer,
    owner: &str,
    app: &str,
    action: Action,
) -> Result<(Owner, App), AppError> {
    let (owner_h, app_h) = (owner.to_owned(), app.to_owned());
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(owner) = Owner::find_by_handle(conn, &owner_h)? else {
            return Ok(None);
        };
        Ok(App::find(conn, owner.id, &app_h)?.map(|a| (owner, a)))
    })
    .await?;
    let (owner, app) = found.ok_or(AppError::NotFound)?;
    match can(&viewer.actor, action, Target::App(&app)) {
        Ok(()) => Ok((owner, app)),
        Err(crate::auth::policy::Denied::NotFound) if viewer.user.is_none() => {
            Err(AppError::NotFound)
        }
        Err(d) => Err(denied(d)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PinForm {
    pub pinned: String,
}

/// `POST /{owner}/{app}/pin`: pins (`pinned=true`) or unpins; htmx gets the refreshed results.
pub async fn pin(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    params: web::Query<ListParams>,
    form: web::Form<PinForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a) = path.into_inner();
    let user = viewer.require(&format!("/{o}/apps"))?.clone();
    let (owner, app) = load_app(&state, &viewer, &o, &a, Action::PinApp).await?;
    let pinned = match form.pinned.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(AppError::BadRequest(
                "pinned must be true or false.".to_owned(),
            ))
        }
    };
    let (uid, app_id) = (user.id, app.app_id());
    crate::db::run(&state.pool, move |conn| {
        Ok(App::set_pinned(conn, uid, app_id, pinned)?)
    })
    .await?;
    let listing = Listing::parse(&params).map_err(AppError::BadRequest)?;
    if is_htmx(&req) {
        show_list(&req, &state, &viewer, owner, listing).await
    } else {
        Ok(redirect(&req, &listing.url(&owner.handle, listing.page)))
    }
}
