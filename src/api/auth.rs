//! Authentication of `/v2` requests: the [`ApiUser`] extractor reads
//! `Authorization: Key <personal access token>`, finds the token by the hash of its
//! secret, refuses unknown (or revoked) and expired ones, records the use, and
//! resolves the actor once (the user, their membership, the token's scopes). The
//! API never looks at cookies or sessions.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::api::key_load::{load_key, LoadedKey};
use crate::api::status::ApiError;
use crate::auth::policy::{Actor, ActorUser};
use crate::auth::teams::TeamAccessCache;
use crate::db::DbConn;
use crate::models::token::ApiKey;
use crate::models::{AccountId, UserId};
use crate::state::AppState;

/// The path segment that stands for the key's own user.
pub const ME: &str = "me";

/// The user a valid key belongs to, as the API handlers need them.
#[derive(Debug, Clone)]
pub struct ApiUser {
    /// The actor the policy decides for (with `scopes: Some(..)`).
    pub actor: Actor,
    pub id: UserId,
    pub handle: String,
    /// The public id of the key used (never its secret).
    pub key_id: String,
}

impl ApiUser {
    /// The key's scopes.
    pub fn scopes(&self) -> &[String] {
        self.actor
            .user
            .as_ref()
            .and_then(|u| u.scopes.as_deref())
            .unwrap_or(&[])
    }

    /// The user's own account id.
    pub fn account(&self) -> AccountId {
        AccountId(self.id.0)
    }

    /// A `user_id` path segment with `me` replaced by the key's user.
    pub fn resolve<'a>(&'a self, segment: &'a str) -> &'a str {
        if segment == ME {
            &self.handle
        } else {
            segment
        }
    }
}

/// Reads the secret from `Authorization: Key <secret>` (`Bearer` is accepted too).
fn secret_from(req: &HttpRequest) -> Result<String, ApiError> {
    let missing = || {
        ApiError::key_invalid(
            "Send a personal access token as `Authorization: Key <token>`. \
             Create one under Settings → API Keys.",
        )
    };
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?
        .trim();
    let (scheme, secret) = value.split_once(' ').ok_or_else(missing)?;
    let secret = secret.trim();
    if !(scheme.eq_ignore_ascii_case("key") || scheme.eq_ignore_ascii_case("bearer"))
        || secret.is_empty()
        || secret.len() > 256
    {
        return Err(missing());
    }
    Ok(secret.to_owned())
}

/// The secret of `Authorization: Key <secret>`, read without the database. A
/// handler that does all its database work in one trip to the database threads takes
/// this instead of [`ApiUser`] and calls [`ApiUser::load`] inside that trip.
pub struct ApiKeySecret(String);

impl FromRequest for ApiKeySecret {
    type Error = ApiError;
    type Future = std::future::Ready<Result<ApiKeySecret, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(secret_from(req).map(ApiKeySecret))
    }
}

impl ApiKeySecret {
    /// The user the key belongs to (see [`ApiUser::load`]).
    pub fn load(&self, conn: &mut DbConn, cache: &TeamAccessCache) -> Result<ApiUser, ApiError> {
        ApiUser::load(conn, cache, &self.0)
    }
}

impl ApiUser {
    /// Finds the key by its secret, refuses unknown and expired ones, records the
    /// use and resolves the actor: the extractor's work, inside a caller's trip.
    pub fn load(
        conn: &mut DbConn,
        cache: &TeamAccessCache,
        secret: &str,
    ) -> Result<ApiUser, ApiError> {
        let Some(LoadedKey {
            key,
            handle,
            membership,
            teams_version,
        }) = load_key(conn, secret)?
        else {
            return Err(ApiError::key_not_found(
                "No key has this secret (it may have been revoked). \
                 Create a new one under Settings → API Keys.",
            ));
        };
        if key.is_expired() {
            return Err(ApiError::key_invalid(format!(
                "This key expired at {}. Create a new one under Settings → API Keys.",
                key.expires_at
                    .map(|t| super::timestamp(&t))
                    .unwrap_or_default()
            )));
        }
        let id = UserId(key.user_id);
        // Admins see everything: their team access is not looked at (version 0).
        let version = match &membership {
            Some(m) if m.role != crate::auth::policy::Role::Admin => teams_version.unwrap_or(0),
            _ => 0,
        };
        let teams =
            crate::auth::session::team_access(conn, cache, id, membership.as_ref(), version)?;
        ApiKey::touch(conn, &key)?;
        tracing::debug!(user_id = id.0, key_id = %key.key_id, "API request");
        Ok(ApiUser {
            actor: Actor {
                user: Some(ActorUser {
                    id,
                    handle: handle.clone(),
                    membership,
                    scopes: Some(key.scope_list()),
                    teams,
                }),
            },
            id,
            handle,
            key_id: key.key_id,
        })
    }
}

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiUser, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let secret = secret_from(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let secret = secret?;
            let state = state.ok_or_else(|| ApiError::internal("app state missing"))?;
            let cache = state.teams.clone();
            crate::db::run(&state.pool, move |conn| {
                Ok(ApiUser::load(conn, &cache, &secret))
            })
            .await
            .map_err(ApiError::from)?
        })
    }
}
