//! Password screens around the policy: the live rule list under every new-password
//! field (`POST /password/rules`, swapped in by htmx as the user types) and the
//! forced change when a password is past its lifespan (`/password/expired`), and
//! "forgot password" (`/password/forgot` → e-mailed one-time link →
//! `/password/reset/{token}`). Every check goes through
//! `auth::password_policy::check`.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::password;
use crate::auth::password_policy::{self, RuleState, Who};
use crate::auth::session::{self, Viewer};
use crate::error::AppError;
use crate::models::password_policy::PasswordPolicy;
use crate::models::user::User;
use crate::models::{password_reset, throttle};
use crate::models::{OrgId, UserId};
use crate::state::AppState;
use crate::web::{invalid, invitations, page, redirect, safe_next, FieldErrors, Nav};

/// Session keys of a sign-in that waits for a new password.
const CHANGE_UID: &str = "pw_change_uid";
const CHANGE_EPOCH: &str = "pw_change_epoch";
const CHANGE_NEXT: &str = "pw_change_next";

/// The policy of `org` (the defaults for `None`).
pub async fn policy_for(state: &AppState, org: Option<OrgId>) -> Result<PasswordPolicy, AppError> {
    crate::db::run(&state.pool, move |conn| {
        Ok(PasswordPolicy::for_optional_org(conn, org)?)
    })
    .await
}

/// The rule list for a user's own new password (their organization's policy).
pub async fn rules_for_user(state: &AppState, id: UserId) -> Result<Vec<RuleState>, AppError> {
    crate::db::run(&state.pool, move |conn| {
        let user = User::find(conn, id)?;
        let who = Who::for_user(conn, &user)?;
        let policy = PasswordPolicy::for_optional_org(conn, who.org)?;
        Ok(password_policy::rule_states(&policy, &who, None))
    })
    .await
}

/// Puts the session in the "choose a new password" state: the user proved their
/// password but is not signed in until they replace it.
pub fn start_expired(session: &Session, user: &User, next: &str) -> Result<(), AppError> {
    session.renew();
    let put = |k: &str, v: serde_json::Value| {
        session
            .insert(k, v)
            .map_err(|e| AppError::internal(format!("session: {e}")))
    };
    put(CHANGE_UID, user.row.id.into())?;
    put(CHANGE_EPOCH, user.row.session_epoch.into())?;
    put(CHANGE_NEXT, next.into())?;
    put(session::CSRF, crate::auth::csrf::new_token().into())?;
    Ok(())
}

fn pending_change(session: &Session) -> Option<(UserId, i64)> {
    let uid = session.get::<i64>(CHANGE_UID).ok().flatten()?;
    let epoch = session.get::<i64>(CHANGE_EPOCH).ok().flatten()?;
    Some((UserId(uid), epoch))
}

/// The rule list, alone (the htmx swap target).
#[derive(Template)]
#[template(path = "account/password_rules.html")]
struct RulesFragment {
    rules: Vec<RuleState>,
}

/// What the live check reads from the surrounding form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RulesForm {
    pub password: String,
    pub new_password: String,
    pub handle: String,
    pub name: String,
    pub email: String,
    pub invitation: String,
    /// On the reset page: the link's token (the rules of its user apply).
    pub reset_token: String,
}

/// `POST /password/rules`: the rules that apply to whoever is setting a password
/// here, marked met or not for what was typed so far.
pub async fn rules(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<RulesForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let typed = if form.new_password.is_empty() {
        form.password.clone()
    } else {
        form.new_password.clone()
    };
    let mut who = Who {
        user: None,
        org: None,
        handle: form.handle.trim().to_lowercase(),
        name: form.name.trim().to_owned(),
        email: form.email.trim().to_lowercase(),
    };
    let mut existing = pending_change(&viewer.session)
        .map(|(u, _)| u)
        .or(viewer.user.as_ref().map(|u| u.id));
    if !form.reset_token.is_empty() {
        let token = form.reset_token.clone();
        existing = crate::db::run(&state.pool, move |conn| {
            Ok(password_reset::find_valid(conn, &token)?.map(|(_, u)| u.id()))
        })
        .await?;
    }
    if !form.invitation.is_empty() {
        if let Some(inv) = invitations::for_signup(&state, &form.invitation).await? {
            who.org = Some(inv.org_id);
            who.email = inv.email;
        }
    }
    let rules = crate::db::run(&state.pool, move |conn| {
        if let (Some(id), None) = (existing, who.org) {
            let user = User::find(conn, id)?;
            who = Who::for_user(conn, &user)?;
        }
        let policy = PasswordPolicy::for_optional_org(conn, who.org)?;
        Ok(password_policy::rule_states(&policy, &who, Some(&typed)))
    })
    .await?;
    page(&RulesFragment { rules })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExpiredForm {
    pub new_password: String,
    pub confirm_password: String,
}

#[derive(Template)]
#[template(path = "account/expired.html")]
struct ExpiredPage {
    nav: Nav,
    rules: Vec<RuleState>,
    errors: FieldErrors,
}

/// `GET /password/expired`
pub async fn expired_page(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, AppError> {
    let Some((uid, _)) = pending_change(&viewer.session) else {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", "/login"))
            .finish());
    };
    page(&ExpiredPage {
        nav: Nav::new(&viewer),
        rules: rules_for_user(&state, uid).await?,
        errors: FieldErrors::new(),
    })
}

/// `POST /password/expired`: sets the new password, then signs in.
pub async fn expired(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<ExpiredForm>,
) -> Result<HttpResponse, AppError> {
    let Some((uid, epoch)) = pending_change(&viewer.session) else {
        return Ok(redirect(&req, "/login"));
    };
    let form = form.into_inner();
    let new = form.new_password.clone();
    let confirm_ok = form.new_password == form.confirm_password;
    let result = crate::db::run(&state.pool, move |conn| {
        let user = User::find(conn, uid)?;
        if user.row.session_epoch != epoch {
            return Ok(Err(None));
        }
        let who = Who::for_user(conn, &user)?;
        let checked = password_policy::check(conn, &who, &new)?;
        if !checked.ok() {
            return Ok(Err(Some(("new_password", checked.message()))));
        }
        if password::verify(&new, &user.row.password_hash) {
            return Ok(Err(Some((
                "new_password",
                "Choose a password different from the expired one.".to_owned(),
            ))));
        }
        if !confirm_ok {
            return Ok(Err(Some((
                "confirm_password",
                "The two new passwords differ.".to_owned(),
            ))));
        }
        let hash = password::hash(&new).map_err(AppError::internal)?;
        User::set_password(conn, uid, &hash)?;
        Ok(Ok(User::find(conn, uid)?))
    })
    .await?;
    match result {
        Ok(user) => {
            let next = viewer
                .session
                .get::<String>(CHANGE_NEXT)
                .ok()
                .flatten()
                .unwrap_or_default();
            session::sign_in(&req, &state, &viewer.session, &user).await?;
            tracing::info!(
                user_id = user.row.id,
                "expired password replaced; signed in"
            );
            let to = if next.is_empty() {
                format!("/{}/apps", user.handle)
            } else {
                safe_next(Some(&next))
            };
            Ok(redirect(&req, &to))
        }
        // The password changed elsewhere meanwhile: sign in again.
        Err(None) => {
            session::sign_out(&state, &viewer.session).await;
            Ok(redirect(&req, "/login"))
        }
        Err(Some((field, message))) => {
            let mut errors = FieldErrors::new();
            errors.add(field, message);
            invalid(&ExpiredPage {
                nav: Nav::new(&viewer),
                rules: rules_for_user(&state, uid).await?,
                errors,
            })
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForgotForm {
    pub email: String,
}

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct ForgotPage {
    nav: Nav,
    email: String,
    sent: bool,
    error: Option<String>,
}

/// `GET /password/forgot`
pub async fn forgot_page(viewer: Viewer) -> Result<HttpResponse, AppError> {
    page(&ForgotPage {
        nav: Nav::new(&viewer),
        email: String::new(),
        sent: false,
        error: None,
    })
}

/// `POST /password/forgot`: e-mails a reset link when the address has an account.
/// The answer is the same either way, and the e-mail leaves in the background so
/// the response time does not tell either.
pub async fn forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let typed = form.into_inner().email;
    let email = match crate::models::user::validate_email(&typed) {
        Ok(e) => e,
        Err(m) => {
            return invalid(&ForgotPage {
                nav: Nav::new(&viewer),
                email: typed,
                sent: false,
                error: Some(m),
            })
        }
    };
    let ip = crate::web::client_ip(&req);
    let issued = crate::db::run(&state.pool, move |conn| {
        // Bounds the mail one address or one client can trigger.
        let keys = [
            throttle::key("reset", &email),
            throttle::key("reset-ip", &ip),
        ];
        for k in &keys {
            if throttle::locked_until(conn, k)?.is_some() {
                return Ok(None);
            }
        }
        for k in &keys {
            throttle::record_failure(conn, k)?;
        }
        let Some(user) = User::find_by_email(conn, &email)? else {
            return Ok(None);
        };
        let (token, expires) = password_reset::issue(conn, user.id())?;
        Ok(Some((user, token, expires)))
    })
    .await?;
    if let Some((user, token, expires)) = issued {
        let message = crate::mail::messages::PasswordResetEmail {
            handle: user.handle.clone(),
            link: format!("{}/password/reset/{token}", state.config.public_url),
            expires: crate::web::fmt_time(&expires),
            public_url: state.config.public_url.clone(),
        };
        match message.render() {
            Ok(email) => {
                let sending = state.mailer.dispatch(&user.row.email, &email);
                let uid = user.row.id;
                actix_web::rt::spawn(async move {
                    match sending.outcome().await {
                        Ok(()) => tracing::info!(user_id = uid, "password reset e-mail sent"),
                        Err(e) => {
                            tracing::warn!(user_id = uid, error = %e, "password reset e-mail not delivered")
                        }
                    }
                });
            }
            Err(e) => tracing::error!(error = %e, "password reset e-mail could not be rendered"),
        }
    }
    page(&ForgotPage {
        nav: Nav::new(&viewer),
        email: String::new(),
        sent: true,
        error: None,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    pub new_password: String,
    pub confirm_password: String,
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage {
    nav: Nav,
    token: String,
    /// `None` when the link is unknown, used or expired.
    handle: Option<String>,
    rules: Vec<RuleState>,
    errors: FieldErrors,
}

/// The link carries a secret: keep it out of `Referer` headers.
fn no_referrer(mut res: HttpResponse) -> HttpResponse {
    use actix_web::http::header::{HeaderValue, REFERRER_POLICY};
    res.headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

/// `GET /password/reset/{token}`
pub async fn reset_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let t = token.clone();
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(match password_reset::find_valid(conn, &t)? {
            Some((_, user)) => {
                let who = Who::for_user(conn, &user)?;
                let policy = PasswordPolicy::for_optional_org(conn, who.org)?;
                Some((
                    user.handle.clone(),
                    password_policy::rule_states(&policy, &who, None),
                ))
            }
            None => None,
        })
    })
    .await?;
    let status = if found.is_some() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::GONE
    };
    let (handle, rules) = match found {
        Some((h, r)) => (Some(h), r),
        None => (None, Vec::new()),
    };
    let res = crate::web::render(
        status,
        &ResetPage {
            nav: Nav::new(&viewer),
            token,
            handle,
            rules,
            errors: FieldErrors::new(),
        },
    )?;
    Ok(no_referrer(res))
}

/// `POST /password/reset/{token}`: sets the new password (ending every session),
/// uses up the link, and asks the user to sign in.
pub async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let form = form.into_inner();
    let (t, new) = (token.clone(), form.new_password.clone());
    let confirm_ok = form.new_password == form.confirm_password;
    let result = crate::db::run(&state.pool, move |conn| {
        let Some((id, user)) = password_reset::find_valid(conn, &t)? else {
            return Ok(Err(None));
        };
        let who = Who::for_user(conn, &user)?;
        let checked = password_policy::check(conn, &who, &new)?;
        let refusal = if !checked.ok() {
            Some(("new_password", checked.message()))
        } else if !confirm_ok {
            Some((
                "confirm_password",
                "The two new passwords differ.".to_owned(),
            ))
        } else {
            None
        };
        if let Some(r) = refusal {
            let rules = password_policy::rule_states(&checked.policy, &who, None);
            return Ok(Err(Some((user.handle, rules, r))));
        }
        let hash = password::hash(&new).map_err(AppError::internal)?;
        let done = crate::db::transaction(conn, |conn| {
            if !password_reset::consume(conn, id)? {
                return Ok(false);
            }
            User::set_password(conn, user.id(), &hash)?;
            Ok::<_, diesel::result::Error>(true)
        })?;
        Ok(if done { Ok(user.row.id) } else { Err(None) })
    })
    .await?;
    match result {
        Ok(uid) => {
            tracing::info!(user_id = uid, "password reset through an e-mailed link");
            session::sign_out(&state, &viewer.session).await;
            crate::web::flash(
                &viewer.session,
                "Your password was reset. Sign in with the new one.",
            );
            Ok(redirect(&req, "/login"))
        }
        Err(None) => {
            let res = crate::web::render(
                actix_web::http::StatusCode::GONE,
                &ResetPage {
                    nav: Nav::new(&viewer),
                    token,
                    handle: None,
                    rules: Vec::new(),
                    errors: FieldErrors::new(),
                },
            )?;
            Ok(no_referrer(res))
        }
        Err(Some((handle, rules, (field, message)))) => {
            let mut errors = FieldErrors::new();
            errors.add(field, message);
            Ok(no_referrer(invalid(&ResetPage {
                nav: Nav::new(&viewer),
                token,
                handle: Some(handle),
                rules,
                errors,
            })?))
        }
    }
}
