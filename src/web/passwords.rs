//! Password screens around the policy: the live rule list under every new-password
//! field (`POST /password/rules`, swapped in by htmx as the user types) and the
//! forced change when a password is past its lifespan (`/password/expired`).
//! Every check goes through `auth::password_policy::check`.

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
    let existing = pending_change(&viewer.session)
        .map(|(u, _)| u)
        .or(viewer.user.as_ref().map(|u| u.id));
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
            session::sign_in(&viewer.session, &user)?;
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
            session::sign_out(&viewer.session);
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
