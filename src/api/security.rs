//! Security over the API: `POST /v2/users/{U}/validate_password` answers which
//! rules of the caller's password policy a candidate password breaks, with the
//! same checker every password-setting path uses (reuse included); and
//! `GET/POST/PATCH /v2/users/{U}/password_policies`, the organization's policy.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::auth::ApiUser;
use crate::api::orgs::load_org;
use crate::api::status::{code, ok, status_value, ApiError};
use crate::api::{audit_actor, find_owner, parse_body, shorten};
use crate::auth::password_policy::{self, Rule, Who};
use crate::auth::policy::{can_self, Action};
use crate::models::audit::{self, AuditTarget, EventKind};
use crate::models::org::Membership;
use crate::models::password_policy::PasswordPolicy;
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

/// A policy as a request gives it: absent fields keep the starting value (the
/// defaults for `POST` and `action: overwrite`, the saved policy for `merge`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PolicyIn {
    minimum_length: Option<i32>,
    maximum_length: Option<i32>,
    upper_case_needed: Option<bool>,
    lower_case_needed: Option<bool>,
    numeric_needed: Option<bool>,
    non_alphanumeric_needed: Option<bool>,
    password_life_span_days: Option<i32>,
    password_reuse_epoch: Option<i32>,
    exclude_names: Option<bool>,
    exclude_email: Option<bool>,
    no_common_vocabs: Option<bool>,
}

impl PolicyIn {
    fn apply(self, mut p: PasswordPolicy) -> PasswordPolicy {
        macro_rules! set {
            ($($f:ident),*) => {$( if let Some(v) = self.$f { p.$f = v; } )*};
        }
        set!(
            minimum_length,
            maximum_length,
            upper_case_needed,
            lower_case_needed,
            numeric_needed,
            non_alphanumeric_needed,
            password_life_span_days,
            password_reuse_epoch,
            exclude_names,
            exclude_email,
            no_common_vocabs
        );
        p
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PoliciesBody {
    password_policies: Vec<PolicyIn>,
    action: String,
}

/// The policy as the API shows it, with the organization it belongs to.
fn policy_out(owner: &str, p: &PasswordPolicy) -> Value {
    let mut v = crate::web::security::policy_json(p);
    if let Value::Object(m) = &mut v {
        m.insert("id".to_owned(), Value::String(owner.to_owned()));
    }
    json!({ "password_policies": [v] })
}

/// `GET /v2/users/{U}/password_policies`: an organization's policy (its admins,
/// `orgs:read`), or for oneself the policy one's passwords must meet.
pub async fn get_policies(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let handle = user.resolve(&path).to_owned();
    if handle == user.handle {
        can_self(&user.actor, user.account(), "orgs:read")?;
        let uid = user.id;
        let policy = crate::db::run(&state.pool, move |conn| {
            let org = Membership::for_user(conn, uid)?.map(|m| m.org_id);
            Ok(PasswordPolicy::for_optional_org(conn, org)?)
        })
        .await?;
        return Ok(ok(policy_out(&handle, &policy)));
    }
    let org = load_org(&state, &user, &handle, Action::ViewSecurity).await?;
    let org_id = org.id;
    let policy = crate::db::run(&state.pool, move |conn| {
        Ok(PasswordPolicy::for_org(conn, org_id)?)
    })
    .await?;
    Ok(ok(policy_out(&org.handle, &policy)))
}

/// `POST` and `PATCH /v2/users/{U}/password_policies` (U = the organization;
/// admins, `orgs:write`): `password_policies: [one policy]`. `POST` and
/// `action: overwrite` start from the defaults, `merge` (PATCH's default) from the
/// saved policy. Bounds as on the Security page (11102); audited.
pub async fn set_policies(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, user.resolve(&path), Action::ManageSecurity).await?;
    let body: PoliciesBody = parse_body(&body)?;
    let mut given = body.password_policies;
    if given.len() != 1 {
        return Err(ApiError::invalid(
            "password_policies: give exactly one policy (an organization has one).",
        ));
    }
    let merge = match (
        req.method() == actix_web::http::Method::PATCH,
        body.action.trim(),
    ) {
        (false, "") => false,
        (true, "" | "merge") => true,
        (true, "overwrite") => false,
        (_, other) => {
            return Err(ApiError::invalid(format!(
                "action must be merge or overwrite, not \"{}\".",
                shorten(other, 40)
            )))
        }
    };
    let input = given.remove(0);
    let actor = audit_actor(&req, &user);
    let (org_id, handle, by) = (org.id, org.handle.clone(), user.id);
    let saved = crate::db::run(&state.pool, move |conn| {
        let start = if merge {
            PasswordPolicy::for_org(conn, org_id)?
        } else {
            PasswordPolicy::default()
        };
        let policy = input.apply(start);
        if let Err((field, message)) = policy.validate() {
            return Ok(Err(format!("password_policies[0].{field}: {message}")));
        }
        crate::db::transaction(conn, |conn| {
            policy.save(conn, org_id, Some(by))?;
            audit::record(
                conn,
                Some(org_id),
                &actor,
                EventKind::PasswordPolicyUpdate,
                &AuditTarget::org(org_id, &handle),
                crate::web::security::policy_json(&policy),
            )
        })?;
        Ok(Ok(policy))
    })
    .await?;
    match saved {
        Ok(policy) => Ok(ok(policy_out(&org.handle, &policy))),
        Err(message) => Err(ApiError::invalid(message)),
    }
}
