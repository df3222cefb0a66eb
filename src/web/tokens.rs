//! **API Keys** under the profile: personal access tokens for the `/v2` API.
//! Create one (description, scopes, optional expiry) and see its secret once,
//! list them with their last use, revoke. Only the secret's hash is stored.

use actix_web::http::header::{HeaderValue, CACHE_CONTROL};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Duration, NaiveDate, NaiveDateTime};

use crate::auth::policy::{can_self, SCOPES};
use crate::auth::session::{SignedIn, Viewer};
use crate::error::AppError;
use crate::models::token::{validate_description, validate_expiry, validate_scopes, ApiKey};
use crate::models::AccountId;
use crate::state::AppState;
use crate::web::{denied, flash, fmt_time, invalid, page, redirect, FieldErrors, Nav};

const PATH: &str = "/settings/tokens";

/// The expiry choices of the form: value, label, days.
pub const EXPIRY_CHOICES: &[(&str, &str, Option<i64>)] = &[
    ("7", "7 days", Some(7)),
    ("30", "30 days", Some(30)),
    ("90", "90 days", Some(90)),
    ("365", "1 year", Some(365)),
    ("never", "No expiry", None),
    ("date", "On a date…", None),
];

/// The expiry the form starts with.
const DEFAULT_EXPIRY: &str = "90";

/// The create form, as typed.
#[derive(Debug, Clone)]
pub struct TokenForm {
    pub description: String,
    pub scopes: Vec<String>,
    pub expires: String,
    pub expires_on: String,
}

impl Default for TokenForm {
    fn default() -> TokenForm {
        TokenForm {
            description: String::new(),
            scopes: SCOPES.iter().map(|(s, _)| (*s).to_owned()).collect(),
            expires: DEFAULT_EXPIRY.to_owned(),
            expires_on: String::new(),
        }
    }
}

impl TokenForm {
    /// Reads the urlencoded body (scopes repeat their key).
    fn parse(body: &[u8]) -> Result<TokenForm, AppError> {
        let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))?;
        let mut form = TokenForm {
            scopes: Vec::new(),
            expires: String::new(),
            ..TokenForm::default()
        };
        for (k, v) in pairs {
            match k.as_str() {
                "description" => form.description = v,
                "scopes" => form.scopes.push(v),
                "expires" => form.expires = v,
                "expires_on" => form.expires_on = v,
                _ => {}
            }
        }
        Ok(form)
    }

    /// True when the form has `scope` checked.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// When the token expires, validated; `Ok(None)` for no expiry.
    fn expiry(&self) -> Result<Option<NaiveDateTime>, String> {
        let now = crate::models::now();
        match self.expires.trim() {
            "never" => Ok(None),
            "date" => {
                let day = NaiveDate::parse_from_str(self.expires_on.trim(), "%Y-%m-%d")
                    .map_err(|_| "Pick the day the token expires.".to_owned())?;
                // Valid through the whole chosen day (UTC).
                let end = day
                    .succ_opt()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .ok_or_else(|| "Pick an earlier day.".to_owned())?;
                validate_expiry(end)
                    .map(Some)
                    .map_err(|_| "Pick today or a later day.".to_owned())
            }
            other => match EXPIRY_CHOICES.iter().find(|(v, _, _)| *v == other) {
                Some((_, _, Some(days))) => Ok(Some(now + Duration::days(*days))),
                _ => Err("Choose when the token expires.".to_owned()),
            },
        }
    }
}

/// One token in the list.
pub struct TokenRow {
    pub key_id: String,
    pub description: String,
    pub scopes: String,
    pub created: String,
    pub expires: String,
    pub expired: bool,
    pub last_used: String,
}

impl TokenRow {
    fn from_key(k: &ApiKey) -> TokenRow {
        TokenRow {
            key_id: k.key_id.clone(),
            description: k.description.clone(),
            scopes: k.scope_list().join(", "),
            created: fmt_time(&k.created_at),
            expires: k
                .expires_at
                .as_ref()
                .map(fmt_time)
                .unwrap_or_else(|| "Never".to_owned()),
            expired: k.is_expired(),
            last_used: k
                .last_used_at
                .as_ref()
                .map(fmt_time)
                .unwrap_or_else(|| "Never".to_owned()),
        }
    }
}

/// A token just created: its secret, shown this once.
pub struct Created {
    pub description: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "tokens/list.html")]
struct TokensPage {
    nav: Nav,
    handle: String,
    rows: Vec<TokenRow>,
    form: TokenForm,
    errors: FieldErrors,
    created: Option<Created>,
}

impl TokensPage {
    fn scopes(&self) -> &'static [(&'static str, &'static str)] {
        SCOPES
    }

    fn expiry_choices(&self) -> &'static [(&'static str, &'static str, Option<i64>)] {
        EXPIRY_CHOICES
    }
}

fn own_account(user: &SignedIn) -> AccountId {
    AccountId(user.id.0)
}

async fn rows(state: &AppState, user: &SignedIn) -> Result<Vec<TokenRow>, AppError> {
    let uid = user.id;
    let keys = crate::db::run(&state.pool, move |conn| {
        Ok(ApiKey::list_for_user(conn, uid)?)
    })
    .await?;
    Ok(keys.iter().map(TokenRow::from_key).collect())
}

fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /settings/tokens`
pub async fn list(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, AppError> {
    let user = viewer.require(PATH)?.clone();
    can_self(&viewer.actor, own_account(&user), "keys:read").map_err(denied)?;
    page(&TokensPage {
        rows: rows(&state, &user).await?,
        handle: user.handle,
        nav: Nav::new(&viewer),
        form: TokenForm::default(),
        errors: FieldErrors::new(),
        created: None,
    })
}

/// `POST /settings/tokens`: creates the token and shows its secret once (the
/// response is not stored by the browser; the secret is kept nowhere else).
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require(PATH)?.clone();
    can_self(&viewer.actor, own_account(&user), "keys:write").map_err(denied)?;
    let form = TokenForm::parse(&body)?;
    let mut errors = FieldErrors::new();
    let description = errors.check("description", validate_description(&form.description));
    let scopes = errors.check("scopes", validate_scopes(&form.scopes));
    let expires_at = errors.check("expires", form.expiry());
    let (Some(description), Some(scopes), Some(expires_at)) = (description, scopes, expires_at)
    else {
        return invalid(&TokensPage {
            rows: rows(&state, &user).await?,
            handle: user.handle,
            nav: Nav::new(&viewer),
            form,
            errors,
            created: None,
        });
    };
    let uid = user.id;
    let actor = crate::web::members::audit_actor(&req, &user);
    let created = crate::db::run(&state.pool, move |conn| {
        Ok(crate::models::token::create_audited(
            conn,
            &actor,
            uid,
            &description,
            &scopes,
            expires_at,
        )?)
    })
    .await?;
    tracing::info!(user_id = uid.0, key_id = %created.key.key_id, "personal access token created");
    let res = page(&TokensPage {
        rows: rows(&state, &user).await?,
        handle: user.handle,
        nav: Nav::new(&viewer),
        form: TokenForm::default(),
        errors: FieldErrors::new(),
        created: Some(Created {
            description: created.key.description,
            secret: created.secret,
        }),
    })?;
    Ok(no_store(res))
}

/// `POST /settings/tokens/{key_id}/revoke`
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = viewer.require(PATH)?.clone();
    can_self(&viewer.actor, own_account(&user), "keys:write").map_err(denied)?;
    let (uid, key_id) = (user.id, path.into_inner());
    let actor = crate::web::members::audit_actor(&req, &user);
    let revoked = crate::db::run(&state.pool, move |conn| {
        Ok(crate::models::token::revoke_audited(
            conn, &actor, uid, &key_id,
        )?)
    })
    .await?;
    if !revoked {
        return Err(AppError::NotFound);
    }
    tracing::info!(user_id = uid.0, "personal access token revoked");
    flash(
        &viewer.session,
        "Token revoked. Programs using it can no longer reach the API.",
    );
    Ok(redirect(&req, PATH))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(expires: &str, on: &str) -> TokenForm {
        TokenForm {
            expires: expires.to_owned(),
            expires_on: on.to_owned(),
            ..TokenForm::default()
        }
    }

    #[test]
    fn expiry_choices() {
        assert_eq!(form("never", "").expiry(), Ok(None));
        let in_a_week = form("7", "").expiry().expect("7 days").expect("some");
        assert!(in_a_week > crate::models::now() + Duration::days(6));
        assert!(form("date", "2001-01-01").expiry().is_err());
        assert!(form("date", "not a date").expiry().is_err());
        assert!(form("date", "2999-12-31")
            .expiry()
            .expect("future")
            .is_some());
        assert!(form("forever", "").expiry().is_err());
    }

    #[test]
    fn repeated_scopes_are_read() {
        let f =
            TokenForm::parse(b"description=ci&scopes=apps%3Aread&scopes=keys%3Aread&expires=never")
                .expect("form");
        assert_eq!(f.scopes, ["apps:read", "keys:read"]);
        assert!(f.has_scope("keys:read"));
        assert!(!f.has_scope("apps:write"));
    }
}
