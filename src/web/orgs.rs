//! Organizations in the browser: the **+ Add an Organization** dialog, the profile
//! switcher, and the org **Account** page (edit, leave, delete).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Role, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::account::validate_handle;
use crate::models::org::{CreateOrgError, LeaveError, Member, Membership, Org};
use crate::models::user::validate_email;
use crate::models::AccountId;
use crate::state::AppState;
use crate::web::{denied, flash, invalid, is_htmx, page, redirect, FieldErrors, Nav};

/// Longest organization name accepted.
const MAX_ORG_NAME_LEN: usize = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewOrgForm {
    pub name: String,
    pub id: String,
    pub billing_email: String,
}

#[derive(Template)]
#[template(path = "orgs/new.html")]
struct NewOrgPage {
    nav: Nav,
    form: NewOrgForm,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "orgs/new.html", block = "dialog")]
struct NewOrgDialog {
    nav: Nav,
    form: NewOrgForm,
    errors: FieldErrors,
}

/// Checks an organization's display name; the message is shown next to the field.
pub(crate) fn validate_org_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Enter the organization's name.".to_owned());
    }
    if name.chars().count() > MAX_ORG_NAME_LEN {
        return Err(format!("Names are at most {MAX_ORG_NAME_LEN} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("Names cannot contain control characters.".to_owned());
    }
    Ok(name.to_owned())
}

fn show_new(
    req: &HttpRequest,
    viewer: &Viewer,
    form: NewOrgForm,
    errors: FieldErrors,
    ok: bool,
) -> Result<HttpResponse, AppError> {
    let nav = Nav::new(viewer);
    match (is_htmx(req), ok) {
        (true, true) => page(&NewOrgDialog { nav, form, errors }),
        (true, false) => invalid(&NewOrgDialog { nav, form, errors }),
        (false, true) => page(&NewOrgPage { nav, form, errors }),
        (false, false) => invalid(&NewOrgPage { nav, form, errors }),
    }
}

/// `GET /organizations/new`: the dialog (htmx) or the same form as a page.
pub async fn new_page(req: HttpRequest, viewer: Viewer) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/organizations/new")?;
    let mut errors = FieldErrors::new();
    if let Some(m) = &user.membership {
        errors.add(
            "form",
            format!(
                "You already belong to {}. A user can belong to one organization at a time: leave it first.",
                m.org_name
            ),
        );
    }
    show_new(&req, &viewer, NewOrgForm::default(), errors, true)
}

/// `POST /organizations`: creates the org, makes the creator its admin and switches to it.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<NewOrgForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/organizations/new")?.clone();
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let name = errors.check("name", validate_org_name(&form.name));
    let handle = errors.check("id", validate_handle(&form.id, "an organization ID"));
    let email = errors.check("billing_email", validate_email(&form.billing_email));
    let (Some(name), Some(handle), Some(email)) = (name, handle, email) else {
        return show_new(&req, &viewer, form, errors, false);
    };
    let uid = user.id;
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(Org::create(conn, uid, &handle, &name, &email))
    })
    .await?;
    match result {
        Ok(org) => {
            viewer.set_acting_as_org(true)?;
            tracing::info!(user_id = uid.0, org_id = org.id.0, "organization created");
            flash(
                &viewer.session,
                format!(
                    "Organization {} created. You are now acting as it.",
                    org.name
                ),
            );
            Ok(redirect(&req, &format!("/{}/apps", org.handle)))
        }
        Err(CreateOrgError::HandleTaken) => {
            errors.add(
                "id",
                "This ID is taken by a user or an organization. Choose another.",
            );
            show_new(&req, &viewer, form, errors, false)
        }
        Err(CreateOrgError::AlreadyMember) => {
            errors.add(
                "form",
                "You already belong to an organization. A user can belong to one organization at a time: leave it first.",
            );
            show_new(&req, &viewer, form, errors, false)
        }
        Err(CreateOrgError::Db(e)) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SwitchForm {
    /// `personal` or `org`.
    pub profile: String,
}

/// `POST /switch`: the profile menu's switcher.
pub async fn switch(
    req: HttpRequest,
    viewer: Viewer,
    form: web::Form<SwitchForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/")?.clone();
    let to_org = match form.profile.as_str() {
        "org" => true,
        "personal" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Choose the personal or the organization profile.".to_owned(),
            ))
        }
    };
    let target = match (&user.membership, to_org) {
        (Some(m), true) => m.org_handle.clone(),
        (None, true) => {
            return Err(AppError::BadRequest(
                "You do not belong to an organization.".to_owned(),
            ))
        }
        _ => user.handle.clone(),
    };
    viewer.set_acting_as_org(to_org)?;
    Ok(redirect(&req, &format!("/{target}/apps")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrgForm {
    pub name: String,
    pub billing_email: String,
}

#[derive(Template)]
#[template(path = "orgs/account.html")]
struct AccountPage {
    nav: Nav,
    org: Org,
    role: Role,
    can_edit: bool,
    can_delete: bool,
    /// The settings menu links to Members (admins only).
    show_members: bool,
    /// The settings menu links to Security (admins only).
    show_security: bool,
    show_teams: bool,
    is_last_admin: bool,
    successors: Vec<Member>,
    form: OrgForm,
    errors: FieldErrors,
    leave_error: Option<String>,
    delete_error: Option<String>,
}

struct OrgContext {
    org: Org,
    membership: Membership,
    members: Vec<Member>,
}

/// Loads the org named in the path, checking that the viewer may see its Account page.
async fn load(
    state: &AppState,
    viewer: &Viewer,
    handle: &str,
    action: Action,
) -> Result<OrgContext, AppError> {
    let user = viewer.require(&format!("/{handle}/account"))?;
    let handle = handle.to_owned();
    let org = crate::db::run(&state.pool, move |conn| {
        Ok(Org::find_by_handle(conn, &handle)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    can(&viewer.actor, action, Target::Org(AccountId(org.id.0))).map_err(denied)?;
    let membership = user.membership.clone().ok_or(AppError::NotFound)?;
    let org_id = org.id;
    let members = crate::db::run(&state.pool, move |conn| {
        Ok(crate::models::member_list::all_members(conn, org_id)?)
    })
    .await?;
    Ok(OrgContext {
        org,
        membership,
        members,
    })
}

fn account_page(
    viewer: &Viewer,
    ctx: OrgContext,
    form: Option<OrgForm>,
    errors: FieldErrors,
) -> AccountPage {
    let actor = &viewer.actor;
    let target = Target::Org(AccountId(ctx.org.id.0));
    let admins = ctx.members.iter().filter(|m| m.role == Role::Admin).count();
    let me = viewer.user.as_ref().map(|u| u.id);
    AccountPage {
        nav: Nav::new(viewer),
        can_edit: can(actor, Action::UpdateOrg, target).is_ok(),
        can_delete: can(actor, Action::DeleteOrg, target).is_ok(),
        show_members: can(actor, Action::ViewMembers, target).is_ok(),
        show_security: can(actor, Action::ViewSecurity, target).is_ok(),
        show_teams: can(actor, Action::ViewTeams, target).is_ok(),
        is_last_admin: ctx.membership.role == Role::Admin && admins <= 1,
        successors: ctx
            .members
            .into_iter()
            .filter(|m| Some(m.user_id) != me)
            .collect(),
        form: form.unwrap_or_else(|| OrgForm {
            name: ctx.org.name.clone(),
            billing_email: ctx.org.billing_email.clone(),
        }),
        role: ctx.membership.role,
        org: ctx.org,
        errors,
        leave_error: None,
        delete_error: None,
    }
}

/// `GET /{org}/account`
pub async fn account(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let ctx = load(&state, &viewer, &path, Action::ViewOrg).await?;
    page(&account_page(&viewer, ctx, None, FieldErrors::new()))
}

/// `POST /{org}/account`: edit name and billing e-mail (admins).
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<OrgForm>,
) -> Result<HttpResponse, AppError> {
    let ctx = load(&state, &viewer, &path, Action::UpdateOrg).await?;
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let name = errors.check("name", validate_org_name(&form.name));
    let email = errors.check("billing_email", validate_email(&form.billing_email));
    let (Some(name), Some(email)) = (name, email) else {
        return invalid(&account_page(&viewer, ctx, Some(form), errors));
    };
    let id = ctx.org.id;
    crate::db::run(&state.pool, move |conn| {
        Ok(Org::update(conn, id, &name, &email)?)
    })
    .await?;
    flash(&viewer.session, "Organization saved.");
    Ok(redirect(&req, &format!("/{}/account", ctx.org.handle)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LeaveForm {
    /// Handle of the member who becomes admin when the last admin leaves.
    pub successor: String,
}

/// `POST /{org}/account/leave`
pub async fn leave(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<LeaveForm>,
) -> Result<HttpResponse, AppError> {
    let ctx = load(&state, &viewer, &path, Action::LeaveOrg).await?;
    let user = viewer.require("/")?.clone();
    let (org_id, uid) = (ctx.org.id, user.id);
    let successor = form.successor.clone();
    let actor = crate::web::members::audit_actor(&req, &user);
    let result = crate::db::run(&state.pool, move |conn| {
        let successor = (!successor.trim().is_empty()).then_some(successor.as_str());
        Ok(Membership::leave_recorded(
            conn, org_id, uid, successor, &actor,
        ))
    })
    .await?;
    let message = match result {
        Ok(()) => {
            viewer.set_acting_as_org(false)?;
            tracing::info!(user_id = uid.0, org_id = org_id.0, "left organization");
            flash(&viewer.session, format!("You left {}.", ctx.org.name));
            return Ok(redirect(&req, &format!("/{}/apps", user.handle)));
        }
        Err(LeaveError::LastAdmin) => {
            "You are the organization's only admin. Choose a member to make admin before you leave, or delete the organization."
        }
        Err(LeaveError::BadSuccessor) => "Choose a member of this organization to hand over to.",
        Err(LeaveError::NotMember) => return Err(AppError::NotFound),
        Err(LeaveError::Db(e)) => return Err(e.into()),
    };
    let mut page_ = account_page(&viewer, ctx, None, FieldErrors::new());
    page_.leave_error = Some(message.to_owned());
    crate::web::render(actix_web::http::StatusCode::CONFLICT, &page_)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeleteForm {
    /// The org ID typed again, to confirm.
    pub confirm: String,
}

/// `POST /{org}/account/delete`: admins only, confirmed by typing the org ID.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let ctx = load(&state, &viewer, &path, Action::DeleteOrg).await?;
    if form.confirm.trim() != ctx.org.handle {
        let mut page_ = account_page(&viewer, ctx, None, FieldErrors::new());
        page_.delete_error = Some("Type the organization ID exactly to confirm.".to_owned());
        return invalid(&page_);
    }
    let user = viewer.require("/")?.clone();
    let org_id = ctx.org.id;
    crate::db::run(&state.pool, move |conn| Ok(Org::delete(conn, org_id)?)).await?;
    viewer.set_acting_as_org(false)?;
    tracing::info!(
        user_id = user.id.0,
        org_id = org_id.0,
        "organization deleted"
    );
    flash(
        &viewer.session,
        format!("Organization {} deleted.", ctx.org.name),
    );
    Ok(redirect(&req, &format!("/{}/apps", user.handle)))
}
