//! Account → **Members** of an organization (admins only; 404 for everyone
//! else): the **Invite Member** dialog, **Pending Invitations** (resend,
//! rescind, delivery state) and **Current Members** (search, reassign role,
//! remove). E-mail goes out after the commit that created the invitation; a
//! failed delivery is recorded on the invitation and shown, never a 500.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Role, Target};
use crate::auth::session::{SignedIn, Viewer};
use crate::error::AppError;
use crate::mail::messages::InvitationEmail;
use crate::models::audit::AuditActor;
use crate::models::invitation::{
    self, AdminChangeError, Created, DeliveryState, Invitation, InviteError, NewInvitations,
    MAX_BATCH,
};
use crate::models::org::{MemberChangeError, Membership, Org};
use crate::models::user::validate_email;
use crate::models::{now, AccountId};
use crate::state::AppState;
use crate::web::{
    denied, flash, fmt_time, invalid, is_htmx, page, redirect, render, FieldErrors, Nav,
};

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

/// The request's source address, as the audit trail records it.
pub(crate) fn client_ip(req: &HttpRequest) -> String {
    req.connection_info()
        .realip_remote_addr()
        .unwrap_or("unknown")
        .to_owned()
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

async fn listing(
    state: &AppState,
    viewer: &Viewer,
    org: &Org,
    q: &str,
    page: i64,
    ipage: i64,
) -> Result<Listing, AppError> {
    let (org_id, q) = (org.id, q.to_owned());
    let (members, invitations, admins) = crate::db::run(&state.pool, move |conn| {
        let members = Org::members_page(conn, org_id, &q, (page - 1) * PER_PAGE, PER_PAGE + 1)?;
        let invitations =
            invitation::pending_for_org(conn, org_id, (ipage - 1) * PER_PAGE, PER_PAGE + 1)?;
        let admins = Org::admins(conn, org_id)?;
        Ok((members, invitations, admins))
    })
    .await?;
    let me = viewer.user.as_ref().map(|u| u.id);
    let sole_admin = (admins.len() == 1).then(|| admins[0].clone());
    let has_next = members.len() as i64 > PER_PAGE;
    let ihas_next = invitations.len() as i64 > PER_PAGE;
    Ok(Listing {
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
    })
}

/// Renders the Members screen (or, for the live search, its results block).
async fn show(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    query: &MembersQuery,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let q = query.q.trim().to_owned();
    if q.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "Search for at most 100 characters.".to_owned(),
        ));
    }
    let (page, ipage) = (page_number(&query.page)?, page_number(&query.ipage)?);
    let l = listing(state, viewer, &org, &q, page, ipage).await?;
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
    render(
        status,
        &MembersPage {
            nav: Nav::new(viewer),
            org,
            show_members: true,
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

/// `GET /{org}/account/members`
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    query: web::Query<MembersQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, org) = load(&state, &viewer, &path, Action::ViewMembers).await?;
    show(&req, &state, &viewer, org, &query, StatusCode::OK, None).await
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
pub struct InviteForm {
    /// One or more addresses, separated by commas or new lines.
    pub emails: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "members/invite.html")]
struct InvitePage {
    nav: Nav,
    org: Org,
    form: InviteForm,
    errors: FieldErrors,
    email_errors: Vec<String>,
    roles: Vec<RoleOption>,
}

#[derive(Template)]
#[template(path = "members/invite.html", block = "dialog")]
struct InviteDialog {
    nav: Nav,
    org: Org,
    form: InviteForm,
    errors: FieldErrors,
    email_errors: Vec<String>,
    roles: Vec<RoleOption>,
}

fn show_invite(
    req: &HttpRequest,
    viewer: &Viewer,
    org: Org,
    form: InviteForm,
    errors: FieldErrors,
    email_errors: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let ok = errors.is_empty() && email_errors.is_empty();
    let (nav, roles) = (Nav::new(viewer), role_options());
    match (is_htmx(req), ok) {
        (true, true) => page(&InviteDialog {
            nav,
            org,
            form,
            errors,
            email_errors,
            roles,
        }),
        (true, false) => invalid(&InviteDialog {
            nav,
            org,
            form,
            errors,
            email_errors,
            roles,
        }),
        (false, true) => page(&InvitePage {
            nav,
            org,
            form,
            errors,
            email_errors,
            roles,
        }),
        (false, false) => invalid(&InvitePage {
            nav,
            org,
            form,
            errors,
            email_errors,
            roles,
        }),
    }
}

/// `GET /{org}/account/members/invite`: the dialog (htmx) or the same form as a page.
pub async fn invite_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (_, org) = load(&state, &viewer, &path, Action::ManageMembers).await?;
    show_invite(
        &req,
        &viewer,
        org,
        InviteForm::default(),
        FieldErrors::new(),
        Vec::new(),
    )
}

/// Splits the typed addresses (commas, semicolons, new lines), validates each on
/// its own and drops repeats. Returns the addresses and one message per bad one.
pub fn parse_emails(raw: &str) -> (Vec<String>, Vec<String>) {
    let mut emails: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for part in raw
        .split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match validate_email(part) {
            Ok(e) if !emails.contains(&e) => emails.push(e),
            Ok(_) => {}
            Err(_) => errors.push(format!(
                "“{}” is not a valid email address.",
                part.chars().take(80).collect::<String>()
            )),
        }
    }
    (emails, errors)
}

/// `POST /{org}/account/members/invite`
pub async fn invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    let (user, org) = load(&state, &viewer, &path, Action::ManageMembers).await?;
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let (emails, mut email_errors) = parse_emails(&form.emails);
    if emails.is_empty() && email_errors.is_empty() {
        errors.add("emails", "Enter the invitee's email address.");
    } else if emails.len() > MAX_BATCH {
        errors.add(
            "emails",
            format!("Invite at most {MAX_BATCH} addresses at a time."),
        );
    }
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.add("role", "Choose a role for the invitee.");
    }
    let Some(role) = role.filter(|_| errors.is_empty() && email_errors.is_empty()) else {
        return show_invite(&req, &viewer, org, form, errors, email_errors);
    };
    let actor = audit_actor(&req, &user);
    let (org_id, uid) = (org.id, user.id);
    let (ttl, limit) = (
        state.config.invitation_ttl_days,
        state.config.invite_rate_limit,
    );
    let list = emails.clone();
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(invitation::create_many(
            conn,
            &NewInvitations {
                org: org_id,
                emails: &list,
                role,
                invited_by: uid,
                ttl_days: ttl,
                hourly_limit: limit,
            },
            &actor,
        ))
    })
    .await?;
    let created = match result {
        Ok(c) => c,
        Err(InviteError::Refused(list)) => {
            email_errors.extend(list.into_iter().map(|(e, why)| format!("{e} {why}")));
            return show_invite(&req, &viewer, org, form, errors, email_errors);
        }
        Err(InviteError::RateLimited { remaining }) => {
            return Err(AppError::TooManyRequests(rate_message(limit, remaining)));
        }
        Err(InviteError::Db(e)) => return Err(e.into()),
    };
    tracing::info!(
        org_id = org.id.0,
        count = created.len(),
        "invitations created"
    );
    let outcomes = deliver(&state, &user, created).await;
    flash(&viewer.session, summary(&outcomes));
    Ok(redirect(&req, &format!("/{}/account/members", org.handle)))
}

fn rate_message(limit: i64, remaining: i64) -> String {
    format!(
        "This organization can send {limit} invitations per hour, and {remaining} remain for now. \
         Try again later, or invite fewer addresses."
    )
}

/// The flash message after sending: who got mail, and who did not and why.
fn summary(outcomes: &[(String, Result<(), String>)]) -> String {
    let sent: Vec<&str> = outcomes
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(e, _)| e.as_str())
        .collect();
    let mut parts = Vec::new();
    match sent.len() {
        0 => {}
        1 => parts.push(format!("Invitation sent to {}.", sent[0])),
        _ => parts.push(format!("Invitations sent to {}.", sent.join(", "))),
    }
    for (email, r) in outcomes {
        if let Err(e) = r {
            parts.push(format!(
                "The invitation to {email} was saved but the email was not delivered ({e}). \
                 You can resend it from Pending Invitations."
            ));
        }
    }
    parts.join(" ")
}

/// Sends the e-mail of each invitation (after the commit), in parallel, and
/// records every outcome on its invitation. Runs as a task of its own so that a
/// client hanging up does not leave deliveries unrecorded. Never fails.
async fn deliver(
    state: &web::Data<AppState>,
    inviter: &SignedIn,
    created: Vec<Created>,
) -> Vec<(String, Result<(), String>)> {
    let state = state.clone();
    let inviter = if inviter.name.trim().is_empty() {
        inviter.handle.clone()
    } else {
        format!("{} ({})", inviter.name.trim(), inviter.handle)
    };
    let emails: Vec<String> = created.iter().map(|c| c.invitation.email.clone()).collect();
    let task = actix_web::rt::spawn(async move {
        let mut pending = Vec::with_capacity(created.len());
        for c in &created {
            let inv = &c.invitation;
            let message = InvitationEmail {
                org_name: inv.org_name.clone(),
                org_handle: inv.org_handle.clone(),
                inviter: inviter.clone(),
                role_label: inv.role.label().to_owned(),
                link: format!("{}/invitations/{}", state.config.public_url, c.token),
                expires: fmt_time(&inv.expires_at),
                public_url: state.config.public_url.clone(),
            };
            pending.push(match message.render() {
                Ok(email) => Ok(state.mailer.dispatch(&inv.email, &email)),
                Err(e) => Err(format!("the message could not be rendered: {e}")),
            });
        }
        let mut outcomes = Vec::with_capacity(created.len());
        for (c, p) in created.iter().zip(pending) {
            let r = match p {
                Ok(sending) => sending.outcome().await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match &r {
                Ok(()) => {
                    tracing::info!(invitation = %c.invitation.public_id, "invitation e-mail sent")
                }
                Err(e) => {
                    tracing::warn!(invitation = %c.invitation.public_id, error = %e, "invitation e-mail not delivered")
                }
            }
            outcomes.push((c.invitation.id, c.token.clone(), r));
        }
        let records: Vec<_> = outcomes.clone();
        let saved = crate::db::run(&state.pool, move |conn| {
            for (id, token, r) in records {
                invitation::record_delivery(conn, id, &token, r)?;
            }
            Ok(())
        })
        .await;
        if let Err(e) = saved {
            tracing::error!(error = %e, "could not record invitation deliveries");
        }
        outcomes.into_iter().map(|(_, _, r)| r).collect::<Vec<_>>()
    });
    match task.await {
        Ok(results) => emails.into_iter().zip(results).collect(),
        Err(e) => emails
            .into_iter()
            .map(|m| (m, Err(format!("sending stopped: {e}"))))
            .collect(),
    }
}

/// `POST /{org}/account/invitations/{id}/resend`: a new link (the old one dies) and a new expiry.
pub async fn resend(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (handle, id) = path.into_inner();
    let (user, org) = load(&state, &viewer, &handle, Action::ManageMembers).await?;
    let actor = audit_actor(&req, &user);
    let (org_id, ttl, limit) = (
        org.id,
        state.config.invitation_ttl_days,
        state.config.invite_rate_limit,
    );
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(invitation::resend(conn, org_id, &id, ttl, limit, &actor))
    })
    .await?;
    let created = match result {
        Ok(c) => c,
        Err(e) => return admin_change_error(&req, &state, &viewer, org, e, limit).await,
    };
    let outcomes = deliver(&state, &user, vec![created]).await;
    let message = match outcomes.first() {
        Some((email, Ok(()))) => {
            format!("Invitation resent to {email}. The previous link no longer works.")
        }
        _ => summary(&outcomes),
    };
    flash(&viewer.session, message);
    Ok(redirect(&req, &format!("/{}/account/members", org.handle)))
}

async fn admin_change_error(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    e: AdminChangeError,
    limit: i64,
) -> Result<HttpResponse, AppError> {
    match e {
        AdminChangeError::NotFound => Err(AppError::NotFound),
        AdminChangeError::NotPending(status) => {
            refuse(
                req,
                state,
                viewer,
                org,
                format!(
                    "This invitation is no longer pending ({}).",
                    status.label().to_lowercase()
                ),
            )
            .await
        }
        AdminChangeError::RateLimited => Err(AppError::TooManyRequests(rate_message(limit, 0))),
        AdminChangeError::Db(e) => Err(e.into()),
    }
}

/// `POST /{org}/account/invitations/{id}/rescind`
pub async fn rescind(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (handle, id) = path.into_inner();
    let (user, org) = load(&state, &viewer, &handle, Action::ManageMembers).await?;
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(invitation::cancel(conn, org_id, &id, &actor))
    })
    .await?;
    match result {
        Ok(inv) => {
            flash(
                &viewer.session,
                format!(
                    "Invitation to {} rescinded: its link no longer works.",
                    inv.email
                ),
            );
            Ok(redirect(&req, &format!("/{}/account/members", org.handle)))
        }
        Err(e) => {
            let limit = state.config.invite_rate_limit;
            admin_change_error(&req, &state, &viewer, org, e, limit).await
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_split_on_commas_and_lines_each_checked() {
        let (ok, bad) = parse_emails("a@x.co, B@x.co\nbad\r\n\n a@x.co ; c@y.org,");
        assert_eq!(ok, ["a@x.co", "b@x.co", "c@y.org"]);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].contains("bad"));
        assert_eq!(parse_emails("  ,\n"), (vec![], vec![]));
    }

    #[test]
    fn summary_names_failures() {
        let s = summary(&[
            ("a@x.co".to_owned(), Ok(())),
            ("b@x.co".to_owned(), Err("SMTP: refused".to_owned())),
        ]);
        assert!(s.starts_with("Invitation sent to a@x.co."));
        assert!(s.contains("b@x.co was saved but the email was not delivered (SMTP: refused)"));
    }
}
