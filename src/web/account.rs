//! Sign up, sign in (throttled) and sign out; the profile and the password change
//! are in `web::profile`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::password;
use crate::auth::password_policy::{self, RuleState, Who};
use crate::auth::session::{self, Viewer};
use crate::error::AppError;
use crate::models::account::validate_handle;
use crate::models::org::Membership;
use crate::models::password_policy::PasswordPolicy;
use crate::models::throttle;
use crate::models::two_factor;
use crate::models::user::{validate_email, CreateUserError, NewUser, User};
use crate::state::AppState;
use crate::web::{
    invalid, invitations, page, passwords, redirect, render, safe_next, FieldErrors, Nav,
};

/// Longest display name accepted.
const MAX_NAME_LEN: usize = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignupForm {
    pub email: String,
    pub handle: String,
    pub name: String,
    pub password: String,
    pub next: String,
    /// The token of the invitation being answered: the e-mail is then its address.
    pub invitation: String,
}

#[derive(Template)]
#[template(path = "account/signup.html")]
struct SignupPage {
    nav: Nav,
    form: SignupForm,
    errors: FieldErrors,
    /// Name of the organization the invitation joins (the e-mail is locked then).
    invited_to: Option<String>,
    /// The password rules that apply (the inviting organization's policy).
    rules: Vec<RuleState>,
}

/// `GET /signup`
pub async fn signup_page(
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.invitation.clone().unwrap_or_default();
    if let Some(u) = &viewer.user {
        let to = if token.is_empty() {
            format!("/{}/apps", u.active_handle())
        } else {
            format!("/invitations/{token}")
        };
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", to))
            .finish());
    }
    let mut form = SignupForm {
        next: query.next.clone().unwrap_or_default(),
        ..SignupForm::default()
    };
    let mut invited_to = None;
    let mut org = None;
    if !token.is_empty() {
        // A closed or unknown invitation: its page says why.
        let Some(inv) = invitations::for_signup(&state, &token).await? else {
            return Ok(HttpResponse::SeeOther()
                .insert_header(("Location", format!("/invitations/{token}")))
                .finish());
        };
        form.email = inv.email;
        // "Already have an account? Sign in" comes back to the invitation.
        form.next = format!("/invitations/{token}");
        form.invitation = token;
        invited_to = Some(inv.org_name);
        org = Some(inv.org_id);
    }
    let policy = passwords::policy_for(&state, org).await?;
    page(&SignupPage {
        nav: Nav::new(&viewer),
        rules: password_policy::rule_states(&policy, &Who::default(), None),
        form,
        errors: FieldErrors::new(),
        invited_to,
    })
}

pub(crate) fn validate_display_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("Names are at most {MAX_NAME_LEN} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("Names cannot contain control characters.".to_owned());
    }
    Ok(name.to_owned())
}

/// `POST /signup`
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let mut form = form.into_inner();
    let mut invited_to = None;
    let mut org = None;
    if !form.invitation.is_empty() {
        // The invitation fixes the address: whatever the form says is ignored.
        let Some(inv) = invitations::for_signup(&state, &form.invitation).await? else {
            return Ok(redirect(&req, &format!("/invitations/{}", form.invitation)));
        };
        form.email = inv.email;
        invited_to = Some(inv.org_name);
        org = Some(inv.org_id);
    }
    let mut errors = FieldErrors::new();
    let email = errors.check("email", validate_email(&form.email));
    let handle = errors.check("handle", validate_handle(&form.handle, "a user ID"));
    let name = errors.check("name", validate_display_name(&form.name));
    let who = Who {
        user: None,
        org,
        handle: form.handle.trim().to_lowercase(),
        name: form.name.trim().to_owned(),
        email: form.email.trim().to_lowercase(),
    };
    let (pw, fields_ok) = (form.password.clone(), errors.is_empty());
    let result = crate::db::run(&state.pool, move |conn| {
        // The one checker, with the inviting organization's policy.
        let checked = password_policy::check(conn, &who, &pw)?;
        let (Some(email), Some(handle), Some(name), true, true) =
            (email, handle, name, fields_ok, checked.ok())
        else {
            return Ok(Err(checked));
        };
        let hash = password::hash(&pw).map_err(AppError::internal)?;
        Ok(Ok(User::create(
            conn,
            NewUser {
                handle: &handle,
                email: &email,
                name: &name,
                password_hash: &hash,
            },
        )))
    })
    .await?;
    let result = match result {
        Ok(r) => r,
        Err(checked) => {
            if !checked.ok() {
                errors.add("password", checked.message());
            }
            let typed = Who {
                handle: form.handle.clone(),
                name: form.name.clone(),
                email: form.email.clone(),
                ..Who::default()
            };
            form.password.clear();
            return invalid(&SignupPage {
                nav: Nav::new(&viewer),
                rules: password_policy::rule_states(&checked.policy, &typed, None),
                form,
                errors,
                invited_to,
            });
        }
    };
    match result {
        Ok(user) => {
            session::sign_in(&req, &state, &viewer.session, &user).await?;
            tracing::info!(user_id = user.row.id, "signed up");
            if !form.invitation.is_empty() {
                let to =
                    invitations::join_after_signup(&req, &state, &viewer, &user, &form.invitation)
                        .await?;
                return Ok(redirect(&req, &to));
            }
            let next = if form.next.is_empty() {
                format!("/{}/apps", user.handle)
            } else {
                safe_next(Some(&form.next))
            };
            Ok(redirect(&req, &next))
        }
        Err(CreateUserError::HandleTaken) => {
            errors.add("handle", "This user ID is taken. Choose another.");
            invalid(&SignupPage {
                nav: Nav::new(&viewer),
                rules: password_policy::rule_states(
                    &passwords::policy_for(&state, org).await?,
                    &Who::default(),
                    None,
                ),
                form,
                errors,
                invited_to,
            })
        }
        Err(CreateUserError::EmailTaken) => {
            errors.add(
                "email",
                "An account with this email already exists. Sign in instead.",
            );
            invalid(&SignupPage {
                nav: Nav::new(&viewer),
                rules: password_policy::rule_states(
                    &passwords::policy_for(&state, org).await?,
                    &Who::default(),
                    None,
                ),
                form,
                errors,
                invited_to,
            })
        }
        Err(CreateUserError::Db(e)) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
    /// On `/signup`: the invitation link's token (the e-mail is prefilled and locked).
    pub invitation: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub login: String,
    pub password: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    nav: Nav,
    form: LoginForm,
    error: Option<String>,
}

/// `GET /login`
pub async fn login_page(
    viewer: Viewer,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    if let Some(u) = &viewer.user {
        let to = query
            .next
            .as_deref()
            .map(|n| safe_next(Some(n)))
            .unwrap_or_else(|| format!("/{}/apps", u.active_handle()));
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", to))
            .finish());
    }
    page(&LoginPage {
        nav: Nav::new(&viewer),
        form: LoginForm {
            next: query.next.clone().unwrap_or_default(),
            ..LoginForm::default()
        },
        error: None,
    })
}

enum LoginOutcome {
    Ok(User),
    /// Right password, but past the policy's lifespan: a new one first.
    Expired(User),
    /// Right password; the user's second factor comes next.
    TwoFactor(User),
    Wrong,
    Locked(i64),
    /// Right password, but the user's organization requires SSO (its handle).
    SsoRequired(String),
}

/// `POST /login`: throttled per login name and per client IP.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let mut form = form.into_inner();
    if form.login.trim().is_empty() || form.password.is_empty() {
        let error = Some("Enter your email or user ID and your password.".to_owned());
        form.password.clear();
        return invalid(&LoginPage {
            nav: Nav::new(&viewer),
            form,
            error,
        });
    }
    let ip = crate::web::client_ip(&req);
    let login = form.login.trim().to_owned();
    let pw = std::mem::take(&mut form.password);
    let ip_for_audit = ip.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let keys = [throttle::key("login", &login), throttle::key("ip", &ip)];
        for k in &keys {
            if let Some(until) = throttle::locked_until(conn, k)? {
                let minutes = ((until - crate::models::now()).num_seconds() + 59) / 60;
                return Ok(LoginOutcome::Locked(minutes.max(1)));
            }
        }
        let user = User::find_for_login(conn, &login)?;
        let ok = match &user {
            Some(u) => password::verify(&pw, &u.row.password_hash),
            None => {
                // Same work whether or not the account exists.
                let _ = password::verify(&pw, password::dummy_hash());
                false
            }
        };
        match (ok, user) {
            (true, Some(u)) => {
                throttle::clear(conn, &keys[0])?;
                let membership = Membership::for_user(conn, u.id())?;
                // "Require SSO": members (not admins, the break-glass path) use the IdP.
                if let Some(m) = &membership {
                    if crate::models::sso::password_refused(conn, m)? {
                        return Ok(LoginOutcome::SsoRequired(m.org_handle.clone()));
                    }
                }
                if two_factor::totp_for(conn, u.id())?.is_some_and(|t| t.enabled()) {
                    return Ok(LoginOutcome::TwoFactor(u));
                }
                let org = membership.map(|m| m.org_id);
                let policy = PasswordPolicy::for_optional_org(conn, org)?;
                if policy.is_expired(u.row.password_changed_at) {
                    return Ok(LoginOutcome::Expired(u));
                }
                Ok(LoginOutcome::Ok(u))
            }
            (_, user) => {
                let mut locked = None;
                for k in &keys {
                    if let Some(until) = throttle::record_failure(conn, k)? {
                        locked = Some(until);
                    }
                }
                if let Some(u) = &user {
                    crate::web::two_factor::record_failed_sign_in(
                        conn,
                        u,
                        &ip_for_audit,
                        "wrong password",
                    )?;
                }
                match locked {
                    Some(_) => Ok(LoginOutcome::Locked(throttle::LOCK_MINUTES)),
                    None => Ok(LoginOutcome::Wrong),
                }
            }
        }
    })
    .await?;
    match outcome {
        LoginOutcome::Ok(user) => {
            session::sign_in(&req, &state, &viewer.session, &user).await?;
            tracing::info!(user_id = user.row.id, "signed in");
            let next = if form.next.is_empty() {
                format!("/{}/apps", user.handle)
            } else {
                safe_next(Some(&form.next))
            };
            Ok(redirect(&req, &next))
        }
        LoginOutcome::TwoFactor(user) => {
            crate::web::two_factor::start_challenge(&viewer.session, &user, &form.next)?;
            Ok(redirect(&req, crate::web::two_factor::CHALLENGE))
        }
        LoginOutcome::Expired(user) => {
            passwords::start_expired(&viewer.session, &user, &form.next)?;
            tracing::info!(user_id = user.row.id, "password expired; change required");
            Ok(redirect(&req, "/password/expired"))
        }
        LoginOutcome::SsoRequired(org) => {
            tracing::info!("password sign-in refused: the organization requires SSO");
            Ok(redirect(
                &req,
                &format!("/sso?required=1&org={}", crate::web::urlencode(&org)),
            ))
        }
        LoginOutcome::Wrong => {
            tracing::info!("failed sign-in");
            invalid(&LoginPage {
                nav: Nav::new(&viewer),
                form,
                error: Some("That email or user ID and password do not match.".to_owned()),
            })
        }
        LoginOutcome::Locked(minutes) => {
            tracing::warn!("sign-in throttled");
            render(
                StatusCode::TOO_MANY_REQUESTS,
                &LoginPage {
                    nav: Nav::new(&viewer),
                    form,
                    error: Some(format!(
                        "Too many failed sign-ins. Wait {minutes} minute{} and try again.",
                        if minutes == 1 { "" } else { "s" }
                    )),
                },
            )
        }
    }
}

/// `POST /logout`
pub async fn logout(state: web::Data<AppState>, viewer: Viewer) -> HttpResponse {
    session::sign_out(&state, &viewer.session).await;
    HttpResponse::SeeOther()
        .insert_header(("Location", "/login"))
        .finish()
}
