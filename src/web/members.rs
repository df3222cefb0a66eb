//! Account → **Members** of an organization (admins only; 404 for everyone
//! else): **Pending Invitations** (with their delivery state) and **Current
//! Members** (search, reassign role, remove, the last-admin rules). The
//! invitations the organization sends (the **Invite Member** dialog, resend,
//! rescind) live in [`outgoing`].

mod outgoing;

pub use outgoing::{
    deliver, invite, invite_form, inviter_label, inviter_label_of, parse_emails, rescind, resend,
    InviteForm,
};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Role, Target};
use crate::auth::session::{with_viewer, SignedIn, Viewer, Visit};
use crate::error::AppError;
use crate::models::audit::AuditActor;
use crate::models::invitation::{self, DeliveryState, Invitation};
use crate::models::org::{MemberChangeError, Membership, Org};
use crate::models::{now, AccountId};
use crate::state::AppState;
use crate::web::{client_ip, denied, flash, fmt_time, is_htmx, page, redirect, render, Nav};

/// Rows per page in both tables.
pub const PER_PAGE: i64 = 50;

/// The roles in the order the invite dialog offers them.
pub const ROLE_CHOICES: [Role; 5] = [
    Role::TeamContributor,
    Role::OrgContributor,
    Role::OrgUser,
    Role::FinancialManager,
    Role::Admin,
];

/// A role as the select boxes show it.
pub struct RoleOption {
    pub id: &'static str,
    pub label: &'static str,
    pub help: &'static str,
}

fn role_options() -> Vec<RoleOption> {
    ROLE_CHOICES
        .into_iter()
        .map(|r| RoleOption {
            id: r.as_str(),
            label: r.label(),
            help: match r {
                Role::TeamContributor => "Works only in the apps granted to their teams.",
                Role::OrgContributor => {
                    "Works in every app of the organization, creates and deletes apps, manages teams."
                }
                Role::OrgUser => "Reads every app of the organization; changes nothing.",
                Role::FinancialManager => "Sees billing and usage only.",
                Role::Admin => "Everything, including members, billing and security.",
            },
        })
        .collect()
}

/// Who is acting, for the audit trail: the user and the request's source address.
pub(crate) fn audit_actor(req: &HttpRequest, user: &SignedIn) -> AuditActor {
    AuditActor {
        user_id: Some(user.id),
        label: user.handle.clone(),
        ip: client_ip(req),
    }
}

/// Loads the org named in the path after checking the action (404 for non-admins).
async fn load(
    state: &AppState,
    viewer: &Viewer,
    handle: &str,
    action: Action,
) -> Result<(SignedIn, Org), AppError> {
    let user = viewer
        .require(&format!("/{handle}/account/members"))?
        .clone();
    let handle = handle.to_owned();
    let org = crate::db::run(&state.pool, move |conn| {
        Ok(Org::find_by_handle(conn, &handle)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    can(&viewer.actor, action, Target::Org(AccountId(org.id.0))).map_err(denied)?;
    Ok((user, org))
}

/// A member as the table shows them.
pub struct MemberRow {
    pub handle: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub joined: String,
    pub is_me: bool,
    pub is_last_admin: bool,
}

/// A pending invitation as the table shows it.
pub struct InvitationRow {
    pub inv: Invitation,
    pub inviter: String,
    pub sent: String,
    pub expires: String,
    pub delivery: &'static str,
    pub expired: bool,
}

impl InvitationRow {
    fn from(inv: Invitation) -> InvitationRow {
        let stale = inv.updated_at < now() - chrono::Duration::minutes(2);
        let delivery = match inv.delivery {
            DeliveryState::Sending if stale => "Unconfirmed",
            d => d.label(),
        };
        InvitationRow {
            inviter: inv
                .inviter_handle
                .clone()
                .unwrap_or_else(|| "(deleted user)".to_owned()),
            sent: inv.sent_at.as_ref().map(fmt_time).unwrap_or_default(),
            expires: fmt_time(&inv.expires_at),
            expired: inv.status == invitation::InvitationStatus::Expired,
            delivery,
            inv,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MembersQuery {
    pub q: String,
    pub page: String,
    pub ipage: String,
}

fn page_number(raw: &str) -> Result<i64, AppError> {
    match raw.trim() {
        "" => Ok(1),
        s => match s.parse::<i64>() {
            Ok(n) if (1..=100_000).contains(&n) => Ok(n),
            _ => Err(AppError::BadRequest(format!(
                "\"{}\" is not a page number: pages start at 1.",
                s.chars().take(20).collect::<String>()
            ))),
        },
    }
}

#[derive(Template)]
#[template(path = "members/index.html")]
struct MembersPage {
    nav: Nav,
    org: Org,
    show_members: bool,
    show_security: bool,
    show_teams: bool,
    q: String,
    members: Vec<MemberRow>,
    page: i64,
    has_next: bool,
    invitations: Vec<InvitationRow>,
    ipage: i64,
    ihas_next: bool,
    roles: Vec<RoleOption>,
    sole_admin: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "members/index.html", block = "results")]
struct MembersResults {
    nav: Nav,
    org: Org,
    q: String,
    members: Vec<MemberRow>,
    page: i64,
    has_next: bool,
    roles: Vec<RoleOption>,
}

struct Listing {
    members: Vec<MemberRow>,
    has_next: bool,
    invitations: Vec<InvitationRow>,
    ihas_next: bool,
    sole_admin: Option<String>,
}

/// The screen's parameters, checked.
struct Params {
    q: String,
    page: i64,
    ipage: i64,
}

impl Params {
    fn parse(query: &MembersQuery) -> Result<Params, AppError> {
        let q = query.q.trim().to_owned();
        if q.chars().count() > 100 {
            return Err(AppError::BadRequest(
                "Search for at most 100 characters.".to_owned(),
            ));
        }
        Ok(Params {
            q,
            page: page_number(&query.page)?,
            ipage: page_number(&query.ipage)?,
        })
    }
}

/// What the screen reads from the database (three statements, whatever the
/// number of members).
struct Fetched {
    members: Vec<crate::models::org::Member>,
    invitations: Vec<Invitation>,
    admins: Vec<String>,
}

fn fetch(conn: &mut crate::db::DbConn, org: &Org, p: &Params) -> Result<Fetched, AppError> {
    Ok(Fetched {
        members: crate::models::member_list::members_page(
            conn,
            org.id,
            &p.q,
            (p.page - 1) * PER_PAGE,
            PER_PAGE + 1,
        )?,
        invitations: invitation::pending_for_org(
            conn,
            org.id,
            (p.ipage - 1) * PER_PAGE,
            PER_PAGE + 1,
        )?,
        admins: Org::admins(conn, org.id)?,
    })
}

fn listing(viewer: &Viewer, f: Fetched) -> Listing {
    let me = viewer.user.as_ref().map(|u| u.id);
    let Fetched {
        members,
        invitations,
        admins,
    } = f;
    let sole_admin = (admins.len() == 1).then(|| admins[0].clone());
    let has_next = members.len() as i64 > PER_PAGE;
    let ihas_next = invitations.len() as i64 > PER_PAGE;
    Listing {
        members: members
            .into_iter()
            .take(PER_PAGE as usize)
            .map(|m| MemberRow {
                is_me: Some(m.user_id) == me,
                is_last_admin: m.role == Role::Admin && sole_admin.as_deref() == Some(&m.handle),
                joined: fmt_time(&m.joined_at),
                handle: m.handle,
                name: m.name,
                email: m.email,
                role: m.role,
            })
            .collect(),
        has_next,
        invitations: invitations
            .into_iter()
            .take(PER_PAGE as usize)
            .map(InvitationRow::from)
            .collect(),
        ihas_next,
        sole_admin,
    }
}

/// Loads and renders the Members screen (or, for the live search, its results
/// block).
async fn show(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    query: &MembersQuery,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let p = Params::parse(query)?;
    let (org, p, fetched) = crate::db::run(&state.pool, move |conn| {
        let fetched = fetch(conn, &org, &p)?;
        Ok((org, p, fetched))
    })
    .await?;
    render_members(req, viewer, org, p, fetched, status, error)
}

fn render_members(
    req: &HttpRequest,
    viewer: &Viewer,
    org: Org,
    p: Params,
    fetched: Fetched,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let l = listing(viewer, fetched);
    let Params { q, page, ipage } = p;
    let results_only = is_htmx(req)
        && req
            .headers()
            .get("hx-target")
            .is_some_and(|t| t == "member-results");
    if results_only {
        return render(
            status,
            &MembersResults {
                nav: Nav::new(viewer),
                org,
                q,
                members: l.members,
                page,
                has_next: l.has_next,
                roles: role_options(),
            },
        );
    }
    let show_security = can(
        &viewer.actor,
        Action::ViewSecurity,
        Target::Org(AccountId(org.id.0)),
    )
    .is_ok();
    render(
        status,
        &MembersPage {
            nav: Nav::new(viewer),
            org,
            show_members: true,
            show_teams: true,
            show_security,
            q,
            members: l.members,
            page,
            has_next: l.has_next,
            invitations: l.invitations,
            ipage,
            ihas_next: l.ihas_next,
            roles: role_options(),
            sole_admin: l.sole_admin,
            error,
        },
    )
}

/// `GET /{org}/account/members`: the viewer, the org, the policy decision and
/// the screen's rows in one trip to the database.
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    visit: Visit,
    path: web::Path<String>,
    query: web::Query<MembersQuery>,
) -> Result<HttpResponse, AppError> {
    let handle = path.into_inner();
    let query = query.into_inner();
    let (viewer, (org, p, fetched)) = with_viewer(&state, visit, move |conn, actor| {
        if actor.user.is_none() {
            return Err(AppError::sign_in(format!("/{handle}/account/members")));
        }
        let org = Org::find_by_handle(conn, &handle)?.ok_or(AppError::NotFound)?;
        can(actor, Action::ViewMembers, Target::Org(AccountId(org.id.0))).map_err(denied)?;
        let p = Params::parse(&query)?;
        let fetched = fetch(conn, &org, &p)?;
        Ok((org, p, fetched))
    })
    .await?;
    render_members(&req, &viewer, org, p, fetched, StatusCode::OK, None)
}

/// Shows the Members screen with a refusal at the top (409).
async fn refuse(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    message: impl Into<String>,
) -> Result<HttpResponse, AppError> {
    let query = MembersQuery::default();
    show(
        req,
        state,
        viewer,
        org,
        &query,
        StatusCode::CONFLICT,
        Some(message.into()),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    pub role: String,
}

const HANDOVER: &str = "An organization always keeps at least one admin. To hand over, make another member Admin first; then this member's role can change, they can be removed, or they can leave from the Account page.";

/// `POST /{org}/account/members/{member}/role`
pub async fn change_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let (handle, member) = path.into_inner();
    let (user, org) = load(&state, &viewer, &handle, Action::ManageMembers).await?;
    let Some(role) = Role::parse(&form.role) else {
        return Err(AppError::BadRequest(
            "Choose one of the listed roles.".to_owned(),
        ));
    };
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(Membership::change_role(conn, org_id, &member, role, &actor))
    })
    .await?;
    match result {
        Ok(change) => {
            if change.from == change.to {
                flash(
                    &viewer.session,
                    format!("{} already is {}.", change.handle, role.label()),
                );
            } else {
                flash(
                    &viewer.session,
                    format!("{} is now {}.", change.handle, role.label()),
                );
            }
            tracing::info!(
                org_id = org.id.0,
                user_id = change.user_id.0,
                "member role changed"
            );
            // Admins who gave up their own admin role no longer see this screen.
            let to = if change.user_id == user.id && role != Role::Admin {
                format!("/{}/account", org.handle)
            } else {
                format!("/{}/account/members", org.handle)
            };
            Ok(redirect(&req, &to))
        }
        Err(MemberChangeError::LastAdmin) => {
            refuse(
                &req,
                &state,
                &viewer,
                org,
                format!(
                "This is the organization's only admin, so their role cannot change. {HANDOVER}"
            ),
            )
            .await
        }
        // `Myself` is only about removal; a role change never reports it.
        Err(MemberChangeError::NotMember | MemberChangeError::Myself) => Err(AppError::NotFound),
        Err(MemberChangeError::Db(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "members/remove.html")]
struct RemovePage {
    nav: Nav,
    org: Org,
    member: String,
}

#[derive(Template)]
#[template(path = "members/remove.html", block = "dialog")]
struct RemoveDialog {
    nav: Nav,
    org: Org,
    member: String,
}

/// `GET /{org}/account/members/{member}/remove`: the confirmation.
pub async fn remove_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (handle, member) = path.into_inner();
    let (_, org) = load(&state, &viewer, &handle, Action::ManageMembers).await?;
    let nav = Nav::new(&viewer);
    if is_htmx(&req) {
        page(&RemoveDialog { nav, org, member })
    } else {
        page(&RemovePage { nav, org, member })
    }
}

/// `POST /{org}/account/members/{member}/remove`: the member's sessions end at once.
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (handle, member) = path.into_inner();
    let (user, org) = load(&state, &viewer, &handle, Action::ManageMembers).await?;
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let target = member.clone();
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(Membership::remove(conn, org_id, &target, &actor))
    })
    .await?;
    match result {
        Ok(uid) => {
            tracing::info!(org_id = org.id.0, user_id = uid.0, "member removed");
            flash(
                &viewer.session,
                format!("{member} was removed from {}.", org.name),
            );
            Ok(redirect(&req, &format!("/{}/account/members", org.handle)))
        }
        Err(MemberChangeError::LastAdmin) => {
            refuse(
                &req,
                &state,
                &viewer,
                org,
                format!(
                    "This is the organization's only admin, so they cannot be removed. {HANDOVER}"
                ),
            )
            .await
        }
        Err(MemberChangeError::Myself) => refuse(
            &req,
            &state,
            &viewer,
            org,
            "You cannot remove yourself. To leave the organization, use Leave on the Account page.",
        )
        .await,
        Err(MemberChangeError::NotMember) => Err(AppError::NotFound),
        Err(MemberChangeError::Db(e)) => Err(e.into()),
    }
}
