//! The invitee's side. `/invitations/{token}` is the page the e-mailed link
//! opens: it explains every case (not signed in, signed in as someone else,
//! already in an organization, expired, rescinded, used, forged) and offers
//! Accept / Decline only when they can work; nothing changes until the invitee
//! confirms. `/invitations` lists the invitations bound to the signed-in account
//! (the banner links there). Sign-up through an invitation lives in
//! `web::account`, helped by [`for_signup`] and [`join_after_signup`].

use actix_web::http::header::{HeaderValue, REFERRER_POLICY};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::policy::{self, InviteeProof};
use crate::auth::session::{SignedIn, Viewer};
use crate::error::AppError;
use crate::models::audit::AuditActor;
use crate::models::invitation::{self, Accepted, AnswerError, Invitation, InvitationStatus, Via};
use crate::models::org::Membership;
use crate::models::user::User;
use crate::state::AppState;
use crate::web::members::audit_actor;
use crate::web::{client_ip, flash, fmt_time, redirect, render, Nav};

/// What the invitation page can say.
pub enum Case {
    /// No invitation has this link (mistyped, forged, or replaced by a resend).
    Invalid,
    /// Accepted, declined, rescinded or expired: the message says which.
    Closed(String),
    /// Signed out: sign in, or create an account with the invited address.
    SignedOut,
    /// Signed in with another address.
    WrongUser { signed_in_as: String },
    /// A member of another organization: leave it first.
    InAnotherOrg {
        org_name: String,
        org_handle: String,
    },
    /// Already a member of the inviting organization.
    AlreadyMember,
    /// Accept or decline.
    Open,
}

#[derive(Template)]
#[template(path = "invitations/show.html")]
struct ShowPage {
    nav: Nav,
    token: String,
    inv: Option<Invitation>,
    expires: String,
    case: Case,
}

fn closed_message(inv: &Invitation) -> Option<String> {
    Some(match inv.status {
        InvitationStatus::Pending => return None,
        InvitationStatus::Accepted => {
            "This invitation was already accepted: an invitation link works once.".to_owned()
        }
        InvitationStatus::Declined => "This invitation was declined.".to_owned(),
        InvitationStatus::Cancelled => format!(
            "This invitation was rescinded by {}. Ask one of its admins if you think this is a mistake.",
            inv.org_name
        ),
        InvitationStatus::Expired => format!(
            "This invitation expired on {}. Ask an admin of {} to resend it.",
            fmt_time(&inv.expires_at),
            inv.org_name
        ),
    })
}

/// Which case applies to `viewer` opening `inv`'s link.
fn case_for(viewer: &Viewer, inv: &Invitation) -> Case {
    if let Some(m) = closed_message(inv) {
        return Case::Closed(m);
    }
    let Some(user) = &viewer.user else {
        return Case::SignedOut;
    };
    let proof = InviteeProof::Link {
        user_email: &user.email,
        invited_email: &inv.email,
    };
    if policy::may_answer_invitation(proof).is_err() {
        return Case::WrongUser {
            signed_in_as: format!("{} ({})", user.handle, user.email),
        };
    }
    match &user.membership {
        Some(m) if m.org_id == inv.org_id => Case::AlreadyMember,
        Some(m) => Case::InAnotherOrg {
            org_name: m.org_name.clone(),
            org_handle: m.org_handle.clone(),
        },
        None => Case::Open,
    }
}

fn status_of(case: &Case) -> StatusCode {
    match case {
        Case::Invalid => StatusCode::NOT_FOUND,
        Case::Closed(_) => StatusCode::GONE,
        Case::WrongUser { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    }
}

/// The link carries a secret: keep it out of `Referer` headers.
fn no_referrer(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

fn show_page(
    viewer: &Viewer,
    token: String,
    inv: Option<Invitation>,
    case: Case,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let expires = inv
        .as_ref()
        .map(|i| fmt_time(&i.expires_at))
        .unwrap_or_default();
    render(
        status,
        &ShowPage {
            nav: Nav::new(viewer),
            token,
            inv,
            expires,
            case,
        },
    )
    .map(no_referrer)
}

async fn find(state: &AppState, token: &str) -> Result<Option<Invitation>, AppError> {
    let token = token.to_owned();
    crate::db::run(&state.pool, move |conn| {
        Ok(invitation::find_by_token(conn, &token)?)
    })
    .await
}

/// `GET /invitations/{token}`: the page the e-mailed link opens. Changes nothing.
pub async fn show(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let inv = find(&state, &token).await?;
    let case = match &inv {
        None => Case::Invalid,
        Some(i) => case_for(&viewer, i),
    };
    let status = status_of(&case);
    show_page(&viewer, token, inv, case, status)
}

/// Turns a refused answer into the case to show and its status.
async fn refused_case(
    state: &AppState,
    user: &SignedIn,
    e: AnswerError,
    inv: Option<&Invitation>,
) -> Result<(Case, StatusCode), AppError> {
    Ok(match e {
        AnswerError::NotFound => (Case::Invalid, StatusCode::NOT_FOUND),
        AnswerError::Expired | AnswerError::Answered(_) => {
            let message = inv
                .and_then(closed_message)
                .unwrap_or_else(|| "This invitation is no longer open.".to_owned());
            (Case::Closed(message), StatusCode::GONE)
        }
        AnswerError::WrongUser(_) => (
            Case::WrongUser {
                signed_in_as: format!("{} ({})", user.handle, user.email),
            },
            StatusCode::FORBIDDEN,
        ),
        AnswerError::AlreadyMember => (Case::AlreadyMember, StatusCode::CONFLICT),
        AnswerError::InAnotherOrg(_) => {
            // Named from a fresh read: the membership may be seconds old.
            let uid = user.id;
            let m = crate::db::run(&state.pool, move |conn| {
                Ok(Membership::for_user(conn, uid)?)
            })
            .await?;
            let (org_name, org_handle) = m
                .map(|m| (m.org_name, m.org_handle))
                .unwrap_or_else(|| ("another organization".to_owned(), String::new()));
            (
                Case::InAnotherOrg {
                    org_name,
                    org_handle,
                },
                StatusCode::CONFLICT,
            )
        }
        AnswerError::Db(e) => return Err(e.into()),
    })
}

fn joined(req: &HttpRequest, viewer: &Viewer, acc: &Accepted) -> Result<HttpResponse, AppError> {
    viewer.set_acting_as_org(true)?;
    tracing::info!(org_id = acc.org_id.0, "invitation accepted");
    flash(
        &viewer.session,
        format!(
            "Welcome to {}! You joined as {}.",
            acc.org_name,
            acc.role.label()
        ),
    );
    Ok(redirect(req, &format!("/{}/apps", acc.org_handle)))
}

async fn answer_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    token: String,
    accept: bool,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require(&format!("/invitations/{token}"))?.clone();
    let actor = audit_actor(&req, &user);
    let (t, uid) = (token.clone(), user.id);
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(if accept {
            invitation::accept(conn, Via::Link(&t), uid, &actor).map(Some)
        } else {
            invitation::decline(conn, Via::Link(&t), uid, &actor).map(|_| None)
        })
    })
    .await?;
    match result {
        Ok(Some(acc)) => joined(&req, &viewer, &acc).map(no_referrer),
        Ok(None) => {
            flash(&viewer.session, "You declined the invitation.");
            Ok(no_referrer(redirect(
                &req,
                &format!("/{}/apps", user.active_handle()),
            )))
        }
        Err(e) => {
            let inv = find(&state, &token).await?;
            let (case, status) = refused_case(&state, &user, e, inv.as_ref()).await?;
            show_page(&viewer, token, inv, case, status)
        }
    }
}

/// `POST /invitations/{token}/accept`
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    answer_link(req, state, viewer, path.into_inner(), true).await
}

/// `POST /invitations/{token}/decline`
pub async fn decline(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    answer_link(req, state, viewer, path.into_inner(), false).await
}

#[derive(Template)]
#[template(path = "invitations/mine.html")]
struct MinePage {
    nav: Nav,
    error: Option<String>,
}

/// `GET /invitations`: the signed-in user's open invitations (those bound to their account).
pub async fn mine(viewer: Viewer) -> Result<HttpResponse, AppError> {
    viewer.require("/invitations")?;
    render(
        StatusCode::OK,
        &MinePage {
            nav: Nav::new(&viewer),
            error: None,
        },
    )
}

async fn answer_bound(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    id: String,
    accept: bool,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/invitations")?.clone();
    let actor = audit_actor(&req, &user);
    let uid = user.id;
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(if accept {
            invitation::accept(conn, Via::Bound(&id), uid, &actor).map(Some)
        } else {
            invitation::decline(conn, Via::Bound(&id), uid, &actor).map(|_| None)
        })
    })
    .await?;
    let error = match result {
        Ok(Some(acc)) => return joined(&req, &viewer, &acc),
        Ok(None) => {
            flash(&viewer.session, "You declined the invitation.");
            return Ok(redirect(&req, "/invitations"));
        }
        Err(AnswerError::Db(e)) => return Err(e.into()),
        Err(AnswerError::NotFound) => return Err(AppError::NotFound),
        Err(e) => {
            let (case, status) = refused_case(&state, &user, e, None).await?;
            let message = match case {
                Case::InAnotherOrg { org_name, .. } => format!(
                    "You already belong to {org_name}. A user can belong to one organization at a time: leave it first."
                ),
                Case::AlreadyMember => "You already are a member of this organization.".to_owned(),
                Case::Closed(m) => m,
                _ => "This invitation is not addressed to you.".to_owned(),
            };
            (message, status)
        }
    };
    // Nothing changed, so the invitations the viewer loaded are still current.
    render(
        error.1,
        &MinePage {
            nav: Nav::new(&viewer),
            error: Some(error.0),
        },
    )
}

/// `POST /invitations/received/{id}/accept`
pub async fn accept_bound(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    answer_bound(req, state, viewer, path.into_inner(), true).await
}

/// `POST /invitations/received/{id}/decline`
pub async fn decline_bound(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    answer_bound(req, state, viewer, path.into_inner(), false).await
}

/// The open invitation a sign-up link names, if it is still open.
pub(crate) async fn for_signup(
    state: &AppState,
    token: &str,
) -> Result<Option<Invitation>, AppError> {
    Ok(find(state, token)
        .await?
        .filter(|i| i.status == InvitationStatus::Pending))
}

/// After a sign-up through an invitation link: joins the organization and says
/// where to go next (the org's apps, or the invitation page explaining why not).
pub(crate) async fn join_after_signup(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    user: &User,
    token: &str,
) -> Result<String, AppError> {
    let actor = AuditActor {
        user_id: Some(user.id()),
        label: user.handle.clone(),
        ip: client_ip(req),
    };
    let (t, uid) = (token.to_owned(), user.id());
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(invitation::accept(conn, Via::Link(&t), uid, &actor))
    })
    .await?;
    match result {
        Ok(acc) => {
            joined(req, viewer, &acc)?;
            Ok(format!("/{}/apps", acc.org_handle))
        }
        Err(AnswerError::Db(e)) => Err(e.into()),
        Err(_) => Ok(format!("/invitations/{token}")),
    }
}
