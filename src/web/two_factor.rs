//! Two-factor authentication (TOTP, `auth::totp`): the sign-in step that asks for a
//! code (or a single-use recovery code) after the password, throttled like the
//! password; and Settings → **Two-factor**: enrol with a QR code and the secret as
//! text, confirm with a code, see the 10 recovery codes once, turn it off with the
//! password or a code. Every change is recorded in the user's organization's audit
//! log (sign-in failures too).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::session::{self, Viewer};
use crate::auth::{password, totp};
use crate::db::DbConn;
use crate::error::AppError;
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::org::Membership;
use crate::models::password_policy::PasswordPolicy;
use crate::models::user::User;
use crate::models::{now, throttle, two_factor, UserId};
use crate::state::AppState;
use crate::web::{flash, invalid, page, passwords, redirect, render, safe_next, FieldErrors, Nav};

/// The sign-in step's path.
pub const CHALLENGE: &str = "/login/two-factor";
/// How long a proven password waits for its second factor.
const CHALLENGE_MINUTES: i64 = 10;
/// Session keys of a sign-in that waits for its second factor.
const TFA_UID: &str = "tfa_uid";
const TFA_EPOCH: &str = "tfa_epoch";
const TFA_NEXT: &str = "tfa_next";
const TFA_AT: &str = "tfa_at";

/// Puts the session in the "enter your code" state: the password was right, the
/// user is not signed in yet.
pub fn start_challenge(session: &Session, user: &User, next: &str) -> Result<(), AppError> {
    session.renew();
    let put = |k: &str, v: serde_json::Value| {
        session
            .insert(k, v)
            .map_err(|e| AppError::internal(format!("session: {e}")))
    };
    put(TFA_UID, user.row.id.into())?;
    put(TFA_EPOCH, user.row.session_epoch.into())?;
    put(TFA_NEXT, next.into())?;
    put(TFA_AT, now().and_utc().timestamp().into())?;
    put(session::CSRF, crate::auth::csrf::new_token().into())?;
    Ok(())
}

fn clear_challenge(session: &Session) {
    for k in [TFA_UID, TFA_EPOCH, TFA_NEXT, TFA_AT] {
        session.remove(k);
    }
}

/// The waiting sign-in: (user, epoch, next), unless it is too old.
fn pending(session: &Session) -> Option<(UserId, i64, String)> {
    let uid = session.get::<i64>(TFA_UID).ok().flatten()?;
    let epoch = session.get::<i64>(TFA_EPOCH).ok().flatten()?;
    let at = session.get::<i64>(TFA_AT).ok().flatten()?;
    if now().and_utc().timestamp() - at > CHALLENGE_MINUTES * 60 {
        return None;
    }
    let next = session
        .get::<String>(TFA_NEXT)
        .ok()
        .flatten()
        .unwrap_or_default();
    Some((UserId(uid), epoch, next))
}

/// Records an event about the user's own account in their organization's log
/// (nothing for users outside any organization: there is no log to show it in).
fn record_own(
    conn: &mut DbConn,
    (user, handle): (UserId, &str),
    actor: Option<&AuditActor>,
    ip: &str,
    kind: EventKind,
    details: serde_json::Value,
    success: bool,
) -> diesel::QueryResult<()> {
    let Some(m) = Membership::for_user(conn, user)? else {
        return Ok(());
    };
    let anonymous = AuditActor {
        user_id: None,
        label: "(not signed in)".to_owned(),
        ip: ip.to_owned(),
    };
    audit::record_outcome(
        conn,
        Some(m.org_id),
        actor.unwrap_or(&anonymous),
        kind,
        &AuditTarget::user(user, handle),
        details,
        success,
    )
}

/// A refused sign-in of an organization member (wrong password or code).
pub fn record_failed_sign_in(
    conn: &mut DbConn,
    user: &User,
    ip: &str,
    reason: &str,
) -> diesel::QueryResult<()> {
    record_own(
        conn,
        (user.id(), &user.handle),
        None,
        ip,
        EventKind::SignInFailed,
        serde_json::json!({ "reason": reason }),
        false,
    )
}

#[derive(Template)]
#[template(path = "account/two_factor_challenge.html")]
struct ChallengePage {
    nav: Nav,
    error: Option<String>,
}

/// `GET /login/two-factor`
pub async fn challenge_page(req: HttpRequest, viewer: Viewer) -> Result<HttpResponse, AppError> {
    if pending(&viewer.session).is_none() {
        return Ok(redirect(&req, "/login"));
    }
    page(&ChallengePage {
        nav: Nav::new(&viewer),
        error: None,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    pub code: String,
    pub password: String,
}

enum Step {
    SignIn(User),
    Expired(User),
    Wrong,
    Locked(i64),
    Gone,
}

/// Checks a typed code for the user: a 6-digit TOTP code (each time step accepted
/// once) or an unused recovery code (then used up). Records a recovery-code use.
fn check_code(
    conn: &mut DbConn,
    key: &[u8],
    user: &User,
    code: &str,
    ip: &str,
) -> Result<bool, AppError> {
    let Some(t) = two_factor::totp_for(conn, user.id())?.filter(|t| t.enabled()) else {
        return Ok(false);
    };
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == totp::DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit()) {
        let secret = totp::open(key, &t.secret)
            .ok_or_else(|| AppError::internal("a two-factor secret cannot be decrypted"))?;
        let Some(step) = totp::verify(&secret, &digits, now().and_utc().timestamp()) else {
            return Ok(false);
        };
        return Ok(two_factor::accept_step(conn, user.id(), step)?);
    }
    if code.trim().is_empty() || code.len() > 64 {
        return Ok(false);
    }
    if !two_factor::use_recovery_code(conn, user.id(), code)? {
        return Ok(false);
    }
    let left = two_factor::codes_left(conn, user.id())?;
    record_own(
        conn,
        (user.id(), &user.handle),
        None,
        ip,
        EventKind::RecoveryCodeUse,
        serde_json::json!({ "codes_left": left }),
        true,
    )?;
    Ok(true)
}

/// `POST /login/two-factor`: throttled per user and per client address.
pub async fn challenge(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let Some((uid, epoch, next)) = pending(&viewer.session) else {
        return Ok(redirect(&req, "/login"));
    };
    let code = form.into_inner().code;
    if code.trim().is_empty() {
        return invalid(&ChallengePage {
            nav: Nav::new(&viewer),
            error: Some("Enter the code from your authenticator app, or a recovery code.".into()),
        });
    }
    let ip = crate::web::client_ip(&req);
    let key = state.config.session_key.clone();
    let step = crate::db::run(&state.pool, move |conn| {
        let keys = [
            throttle::key("2fa", &uid.0.to_string()),
            throttle::key("ip", &ip),
        ];
        for k in &keys {
            if let Some(until) = throttle::locked_until(conn, k)? {
                let minutes = ((until - now()).num_seconds() + 59) / 60;
                return Ok(Step::Locked(minutes.max(1)));
            }
        }
        let user = User::find(conn, uid)?;
        if user.row.session_epoch != epoch {
            return Ok(Step::Gone);
        }
        if !check_code(conn, &key, &user, &code, &ip)? {
            let mut locked = false;
            for k in &keys {
                locked |= throttle::record_failure(conn, k)?.is_some();
            }
            record_failed_sign_in(conn, &user, &ip, "wrong two-factor code")?;
            return Ok(if locked {
                Step::Locked(throttle::LOCK_MINUTES)
            } else {
                Step::Wrong
            });
        }
        throttle::clear(conn, &keys[0])?;
        let org = Membership::for_user(conn, uid)?.map(|m| m.org_id);
        let policy = PasswordPolicy::for_optional_org(conn, org)?;
        Ok(if policy.is_expired(user.row.password_changed_at) {
            Step::Expired(user)
        } else {
            Step::SignIn(user)
        })
    })
    .await?;
    match step {
        Step::SignIn(user) => {
            clear_challenge(&viewer.session);
            session::sign_in(&req, &state, &viewer.session, &user).await?;
            tracing::info!(user_id = user.row.id, "signed in with two-factor");
            let to = if next.is_empty() {
                format!("/{}/apps", user.handle)
            } else {
                safe_next(Some(&next))
            };
            Ok(redirect(&req, &to))
        }
        Step::Expired(user) => {
            clear_challenge(&viewer.session);
            passwords::start_expired(&viewer.session, &user, &next)?;
            Ok(redirect(&req, "/password/expired"))
        }
        Step::Gone => {
            clear_challenge(&viewer.session);
            Ok(redirect(&req, "/login"))
        }
        Step::Wrong => invalid(&ChallengePage {
            nav: Nav::new(&viewer),
            error: Some("That code is not right. Try the current code, or a recovery code.".into()),
        }),
        Step::Locked(minutes) => render(
            StatusCode::TOO_MANY_REQUESTS,
            &ChallengePage {
                nav: Nav::new(&viewer),
                error: Some(format!(
                    "Too many wrong codes. Wait {minutes} minute{} and try again.",
                    if minutes == 1 { "" } else { "s" }
                )),
            },
        ),
    }
}

/// An enrolment waiting for its first code: the QR code and the secret as text.
struct Enrolment {
    qr_svg: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "account/two_factor.html")]
struct SettingsPage {
    nav: Nav,
    enabled: bool,
    codes_left: i64,
    enrolment: Option<Enrolment>,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "account/two_factor_codes.html")]
struct CodesPage {
    nav: Nav,
    codes: Vec<String>,
}

async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    errors: FieldErrors,
) -> Result<SettingsPage, AppError> {
    let user = viewer.require(session::TWO_FACTOR_SETUP)?;
    let (uid, email) = (user.id, user.email.clone());
    let key = state.config.session_key.clone();
    let (totp_row, codes_left) = crate::db::run(&state.pool, move |conn| {
        Ok((
            two_factor::totp_for(conn, uid)?,
            two_factor::codes_left(conn, uid)?,
        ))
    })
    .await?;
    let enabled = totp_row.as_ref().is_some_and(|t| t.enabled());
    let enrolment = match totp_row.filter(|t| !t.enabled()) {
        Some(t) => {
            let secret = totp::open(&key, &t.secret)
                .ok_or_else(|| AppError::internal("a two-factor secret cannot be decrypted"))?;
            let uri = totp::otpauth_uri("Atrium", &email, &secret);
            Some(Enrolment {
                qr_svg: totp::qr_svg(&uri).map_err(AppError::internal)?,
                secret: totp::base32_encode(&secret),
            })
        }
        None => None,
    };
    Ok(SettingsPage {
        nav: Nav::new(viewer),
        enabled,
        codes_left,
        enrolment,
        errors,
    })
}

/// `GET /settings/two-factor`
pub async fn settings(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, AppError> {
    let p = settings_page(&state, &viewer, FieldErrors::new()).await?;
    Ok(no_store(page(&p)?))
}

fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    res
}

/// `POST /settings/two-factor/setup`: a new secret, waiting for its first code.
pub async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, AppError> {
    let uid = viewer.require(session::TWO_FACTOR_SETUP)?.id;
    let sealed =
        totp::seal(&state.config.session_key, &totp::new_secret()).map_err(AppError::internal)?;
    let started = crate::db::run(&state.pool, move |conn| {
        Ok(two_factor::start_enrolment(conn, uid, &sealed)?)
    })
    .await?;
    if !started {
        flash(&viewer.session, "Two-factor authentication is already on.");
    }
    Ok(redirect(&req, session::TWO_FACTOR_SETUP))
}

/// `POST /settings/two-factor/confirm`: the first code turns it on; the recovery
/// codes are shown once.
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require(session::TWO_FACTOR_SETUP)?.clone();
    let code = form.into_inner().code;
    let key = state.config.session_key.clone();
    let actor = crate::web::members::audit_actor(&req, &user);
    let codes = two_factor::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| two_factor::hash_recovery_code(c))
        .collect();
    let uid = user.id;
    let done = crate::db::run(&state.pool, move |conn| {
        let Some(t) = two_factor::totp_for(conn, uid)?.filter(|t| !t.enabled()) else {
            return Ok(None);
        };
        let secret = totp::open(&key, &t.secret)
            .ok_or_else(|| AppError::internal("a two-factor secret cannot be decrypted"))?;
        let Some(step) = totp::verify(&secret, &code, now().and_utc().timestamp()) else {
            return Ok(Some(false));
        };
        let ok = crate::db::transaction(conn, |conn| {
            if !two_factor::confirm(conn, uid, step, &hashes)? {
                return Ok::<_, diesel::result::Error>(false);
            }
            record_own(
                conn,
                (uid, &actor.label),
                Some(&actor),
                &actor.ip,
                EventKind::TwoFactorEnable,
                serde_json::json!({}),
                true,
            )?;
            Ok(true)
        })?;
        Ok(Some(ok))
    })
    .await?;
    match done {
        Some(true) => Ok(no_store(page(&CodesPage {
            nav: Nav::new(&viewer),
            codes,
        })?)),
        Some(false) => {
            let mut errors = FieldErrors::new();
            errors.add(
                "code",
                "That code is not right. Enter the 6 digits your app shows now.",
            );
            let p = settings_page(&state, &viewer, errors).await?;
            Ok(no_store(invalid(&p)?))
        }
        None => Ok(redirect(&req, session::TWO_FACTOR_SETUP)),
    }
}

/// `POST /settings/two-factor/disable`: needs the password or a current code.
pub async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require(session::TWO_FACTOR_SETUP)?.clone();
    let form = form.into_inner();
    let key = state.config.session_key.clone();
    let actor = crate::web::members::audit_actor(&req, &user);
    let uid = user.id;
    let outcome = crate::db::run(&state.pool, move |conn| {
        let k = throttle::key("2fa", &uid.0.to_string());
        if throttle::locked_until(conn, &k)?.is_some() {
            return Ok(Err("Too many wrong attempts. Wait a few minutes and try again."));
        }
        let me = User::find(conn, uid)?;
        let by_password =
            !form.password.is_empty() && password::verify(&form.password, &me.row.password_hash);
        let ok = by_password
            || (!form.code.trim().is_empty() && check_code(conn, &key, &me, &form.code, &actor.ip)?);
        if !ok {
            throttle::record_failure(conn, &k)?;
            return Ok(Err("Enter your password or a current code to turn two-factor off."));
        }
        crate::db::transaction(conn, |conn| {
            two_factor::disable(conn, uid)?;
            record_own(
                conn,
                (uid, &actor.label),
                Some(&actor),
                &actor.ip,
                EventKind::TwoFactorDisable,
                serde_json::json!({ "confirmed_with": if by_password { "password" } else { "code" } }),
                true,
            )
        })?;
        Ok(Ok(()))
    })
    .await?;
    match outcome {
        Ok(()) => {
            flash(&viewer.session, "Two-factor authentication is off.");
            Ok(redirect(&req, session::TWO_FACTOR_SETUP))
        }
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.add("disable", message);
            let p = settings_page(&state, &viewer, errors).await?;
            Ok(no_store(invalid(&p)?))
        }
    }
}

/// `POST /settings/two-factor/recovery-codes`: new codes (shown once) replace the
/// old ones; needs the password.
pub async fn regenerate(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require(session::TWO_FACTOR_SETUP)?.clone();
    let pw = form.into_inner().password;
    let actor = crate::web::members::audit_actor(&req, &user);
    let codes = two_factor::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| two_factor::hash_recovery_code(c))
        .collect();
    let uid = user.id;
    let outcome = crate::db::run(&state.pool, move |conn| {
        let k = throttle::key("2fa", &uid.0.to_string());
        if throttle::locked_until(conn, &k)?.is_some() {
            return Ok(Err(
                "Too many wrong attempts. Wait a few minutes and try again.",
            ));
        }
        let me = User::find(conn, uid)?;
        if pw.is_empty() || !password::verify(&pw, &me.row.password_hash) {
            throttle::record_failure(conn, &k)?;
            return Ok(Err("Enter your password to make new recovery codes."));
        }
        let done = crate::db::transaction(conn, |conn| {
            if !two_factor::replace_recovery_codes(conn, uid, &hashes)? {
                return Ok::<_, diesel::result::Error>(false);
            }
            record_own(
                conn,
                (uid, &actor.label),
                Some(&actor),
                &actor.ip,
                EventKind::RecoveryCodesReplace,
                serde_json::json!({}),
                true,
            )?;
            Ok(true)
        })?;
        Ok(if done {
            Ok(())
        } else {
            Err("Two-factor authentication is off.")
        })
    })
    .await?;
    match outcome {
        Ok(()) => Ok(no_store(page(&CodesPage {
            nav: Nav::new(&viewer),
            codes,
        })?)),
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.add("regenerate", message);
            let p = settings_page(&state, &viewer, errors).await?;
            Ok(no_store(invalid(&p)?))
        }
    }
}
