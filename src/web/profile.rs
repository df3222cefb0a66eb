//! The profile page: edit the display name and e-mail, change the password (which
//! ends the user's other sessions).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::password;
use crate::auth::password_policy::{self, RuleState, Who};
use crate::auth::session::{self, Viewer};
use crate::error::AppError;
use crate::models::user::{validate_email, User};
use crate::models::user_session;
use crate::state::AppState;
use crate::web::account::validate_display_name;
use crate::web::{flash, invalid, page, passwords, redirect, FieldErrors, Nav};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub current_password: String,
    pub new_password: String,
    pub confirm_password: String,
}

#[derive(Template)]
#[template(path = "account/profile.html")]
struct ProfilePage {
    nav: Nav,
    handle: String,
    profile: ProfileForm,
    profile_errors: FieldErrors,
    password_errors: FieldErrors,
    /// The password rules of the user's organization.
    rules: Vec<RuleState>,
    /// The user's signed-in browsers.
    sessions: Vec<crate::web::sessions::SessionView>,
}

/// `GET /settings/profile`
pub async fn profile_page(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/settings/profile")?;
    page(&ProfilePage {
        rules: passwords::rules_for_user(&state, user.id).await?,
        handle: user.handle.clone(),
        profile: ProfileForm {
            name: user.name.clone(),
            email: user.email.clone(),
        },
        nav: Nav::new(&viewer),
        profile_errors: FieldErrors::new(),
        password_errors: FieldErrors::new(),
        sessions: crate::web::sessions::for_profile(&state, &viewer).await?,
    })
}

/// `POST /settings/profile`
pub async fn update_profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/settings/profile")?.clone();
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    let name = errors.check("name", validate_display_name(&form.name));
    let email = errors.check("email", validate_email(&form.email));
    let (Some(name), Some(email)) = (name, email) else {
        return invalid(&ProfilePage {
            nav: Nav::new(&viewer),
            rules: passwords::rules_for_user(&state, user.id).await?,
            handle: user.handle,
            profile: form,
            profile_errors: errors,
            password_errors: FieldErrors::new(),
            sessions: crate::web::sessions::for_profile(&state, &viewer).await?,
        });
    };
    let id = user.id;
    let saved = crate::db::run(&state.pool, move |conn| {
        Ok(User::update_profile(conn, id, &name, &email)?)
    })
    .await?;
    if !saved {
        errors.add("email", "Another account uses this email address.");
        return invalid(&ProfilePage {
            nav: Nav::new(&viewer),
            rules: passwords::rules_for_user(&state, user.id).await?,
            handle: user.handle,
            profile: form,
            profile_errors: errors,
            password_errors: FieldErrors::new(),
            sessions: crate::web::sessions::for_profile(&state, &viewer).await?,
        });
    }
    flash(&viewer.session, "Profile saved.");
    Ok(redirect(&req, "/settings/profile"))
}

/// `POST /settings/password`: ends every other session of the user.
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/settings/profile")?.clone();
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    if form.new_password != form.confirm_password {
        errors.add("confirm_password", "The two new passwords differ.");
    }
    let id = user.id;
    let (current, new) = (form.current_password.clone(), form.new_password.clone());
    let confirm_ok = errors.is_empty();
    let this_session = viewer.session_hash.clone();
    let result = crate::db::run(&state.pool, move |conn| {
        let stored = User::find(conn, id)?;
        if !password::verify(&current, &stored.row.password_hash) {
            return Ok(Err(PasswordRefusal::Current));
        }
        let who = Who::for_user(conn, &stored)?;
        let checked = password_policy::check(conn, &who, &new)?;
        if !checked.ok() {
            return Ok(Err(PasswordRefusal::Policy(checked.message())));
        }
        if !confirm_ok {
            return Ok(Err(PasswordRefusal::Confirm));
        }
        let hash = password::hash(&new).map_err(AppError::internal)?;
        let epoch = User::set_password(conn, id, &hash)?;
        // This session lives on at the new epoch; the others end.
        if let Some(h) = &this_session {
            user_session::set_epoch(conn, h, epoch)?;
        }
        Ok(Ok(epoch))
    })
    .await?;
    match result {
        Ok(epoch) => {
            session::set_epoch(&viewer.session, epoch)?;
            tracing::info!(user_id = id.0, "password changed; other sessions ended");
            flash(
                &viewer.session,
                "Password changed. Your other sessions were signed out.",
            );
            Ok(redirect(&req, "/settings/profile"))
        }
        Err(why) => {
            match why {
                PasswordRefusal::Current => {
                    errors.add("current_password", "This is not your current password.")
                }
                PasswordRefusal::Policy(m) => errors.add("new_password", m),
                PasswordRefusal::Confirm => {}
            }
            invalid(&ProfilePage {
                nav: Nav::new(&viewer),
                profile: ProfileForm {
                    name: user.name.clone(),
                    email: user.email.clone(),
                },
                rules: passwords::rules_for_user(&state, user.id).await?,
                handle: user.handle,
                profile_errors: FieldErrors::new(),
                password_errors: errors,
                sessions: crate::web::sessions::for_profile(&state, &viewer).await?,
            })
        }
    }
}

/// Why a password change was refused.
enum PasswordRefusal {
    Current,
    Policy(String),
    Confirm,
}
