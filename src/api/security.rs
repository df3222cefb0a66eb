//! Security over the API: `POST /v2/users/{U}/validate_password` answers which
//! rules of the caller's password policy a candidate password breaks, with the
//! same checker every password-setting path uses (reuse included).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::auth::ApiUser;
use crate::api::find_owner;
use crate::api::parse_body;
use crate::api::status::{code, ok, status_value, ApiError};
use crate::auth::password_policy::{self, Rule, Who};
use crate::auth::policy::can_self;
use crate::models::user::User;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordIn {
    plaintext: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ValidateBody {
    password: PasswordIn,
}

/// `POST /v2/users/{U}/validate_password`: `{"password": {"plaintext"}}` →
/// `password_violations{rule: bool}` (true = broken) for every rule the policy
/// applies. Success when none is broken; 61001 otherwise. Only for oneself.
pub async fn validate_password(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let owner = find_owner(&state, user.resolve(&path)).await?;
    can_self(&user.actor, owner.id, "orgs:read")?;
    let body: ValidateBody = parse_body(&body)?;
    if body.password.plaintext.is_empty() {
        return Err(ApiError::invalid(
            "password.plaintext: give the password to check.",
        ));
    }
    let uid = user.id;
    let pw = body.password.plaintext;
    let checked = crate::db::run(&state.pool, move |conn| {
        let me = User::find(conn, uid)?;
        let who = Who::for_user(conn, &me)?;
        Ok(password_policy::check(conn, &who, &pw)?)
    })
    .await?;
    let mut violations = Map::new();
    for rule in Rule::ALL.into_iter().filter(|r| r.applies(&checked.policy)) {
        violations.insert(
            rule.api_name().to_owned(),
            Value::Bool(checked.violations.contains(&rule)),
        );
    }
    let payload = json!({ "password_violations": violations });
    if checked.ok() {
        return Ok(ok(payload));
    }
    let mut body = match payload {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    body.insert(
        "status".to_owned(),
        status_value(code::PASSWORD_VALIDATION_FAILED, &checked.message()),
    );
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-store"))
        .json(Value::Object(body)))
}
