//! The invitations an organization sends: the **Invite Member** dialog (one
//! or several addresses, each validated on its own, and a role), resend (a new
//! link; the old one dies) and rescind. E-mail goes out after the commit that
//! created the invitation, in parallel and bounded by the SMTP timeout; each
//! outcome is recorded on its invitation, and a failed delivery is shown to
//! the admin, never turned into a 500.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{audit_actor, load, refuse, role_options, RoleOption};
use crate::auth::policy::{Action, Role};
use crate::auth::session::{SignedIn, Viewer};
use crate::error::AppError;
use crate::mail::messages::InvitationEmail;
use crate::models::invitation::{
    self, AdminChangeError, Created, InviteError, NewInvitations, MAX_BATCH,
};
use crate::models::org::Org;
use crate::models::user::validate_email;
use crate::state::AppState;
use crate::web::{flash, fmt_time, invalid, is_htmx, page, redirect, FieldErrors, Nav};

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
/// Reads at most one more than [`MAX_BATCH`] entries (the caller refuses more).
pub fn parse_emails(raw: &str) -> (Vec<String>, Vec<String>) {
    let mut emails: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for part in raw
        .split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .take(MAX_BATCH + 1)
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
    } else if emails.len() + email_errors.len() > MAX_BATCH {
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
    let outcomes = deliver(&state, &inviter_label(&user), created).await;
    flash(&viewer.session, summary(&outcomes));
    Ok(redirect(&req, &format!("/{}/account/members", org.handle)))
}

/// How the e-mail names the inviter: "Name (handle)", or the handle.
pub fn inviter_label(user: &SignedIn) -> String {
    inviter_label_of(&user.name, &user.handle)
}

/// [`inviter_label`] from a name and a handle (the API has no session).
pub fn inviter_label_of(name: &str, handle: &str) -> String {
    if name.trim().is_empty() {
        handle.to_owned()
    } else {
        format!("{} ({handle})", name.trim())
    }
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
/// client hanging up does not leave deliveries unrecorded. Never fails: each
/// address comes back with its outcome. The `/v2` API sends through here too.
pub async fn deliver(
    state: &web::Data<AppState>,
    inviter: &str,
    created: Vec<Created>,
) -> Vec<(String, Result<(), String>)> {
    let state = state.clone();
    let inviter = inviter.to_owned();
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
    let outcomes = deliver(&state, &inviter_label(&user), vec![created]).await;
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
        let many: Vec<String> = (0..500).map(|i| format!("u{i}@x.co")).collect();
        assert_eq!(parse_emails(&many.join(",")).0.len(), MAX_BATCH + 1);
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
