//! `GET /v2/roles?types=ORG|TEAM` (the organization and team roles with the
//! scopes each gives in an app) and `GET /v2/users/{U}/apps/{A}/myscopes` (what
//! the key may do in one app). Both are read off the policy module, so they say
//! exactly what the handlers enforce.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::status::{ok, ApiError};
use crate::api::{shorten, Params};
use crate::auth::policy::{can, decide, Action, Decision, Relation, Role, Target, TeamRole};

/// The app actions that make up "what one may do in an app", with the
/// platform's endpoint names each covers.
const APP_ACTIONS: [(Action, &[&str]); 11] = [
    (Action::ReadPrivateApp, &["GetApp"]),
    (Action::UpdateApp, &["PatchApps"]),
    (Action::DeleteApp, &["DeleteApp"]),
    (Action::DuplicateApp, &["PostAppDuplications"]),
    (Action::PinApp, &["PostAppPins"]),
    (
        Action::ReadContent,
        &[
            "ListInputs",
            "GetInput",
            "ListConcepts",
            "ListModels",
            "GetModel",
            "ListModelVersions",
        ],
    ),
    (
        Action::EditInputs,
        &[
            "PostInputs",
            "PatchInputs",
            "DeleteInputs",
            "PostConcepts",
            "PatchConcepts",
        ],
    ),
    (
        Action::EditModels,
        &["PostModels", "PatchModels", "DeleteModel"],
    ),
    (Action::TrainModel, &["PostModelVersions"]),
    (Action::Predict, &["PostModelOutputs"]),
    (Action::StarModel, &["PostModelStars", "DeleteModelStars"]),
];

/// Scopes of the allowed app actions, sorted, without repeats.
fn scopes_where(allowed: impl Fn(Action) -> bool) -> Vec<&'static str> {
    let mut scopes: Vec<&'static str> = APP_ACTIONS
        .iter()
        .filter(|(a, _)| allowed(*a))
        .map(|(a, _)| a.scope())
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes
}

fn role_json(id: &str, name: &str, kind: &str, relation: Relation) -> Value {
    json!({
        "id": id,
        "name": name,
        "type": kind,
        "scopes": scopes_where(|a| decide(relation, a) == Decision::Allow),
    })
}

/// `GET /v2/roles?types=ORG&types=TEAM` (both when no type is given). Any valid key.
pub async fn list(req: HttpRequest, _user: ApiUser) -> Result<HttpResponse, ApiError> {
    let params = Params::from_request(&req)?;
    let mut org = false;
    let mut team = false;
    for (k, v) in params.pairs() {
        if k != "types" && k != "type" {
            continue;
        }
        for t in v.split(',').map(|t| t.trim().to_ascii_uppercase()) {
            match t.as_str() {
                "ORG" | "ORGANIZATION" => org = true,
                "TEAM" => team = true,
                "" => {}
                other => {
                    return Err(ApiError::invalid(format!(
                        "\"{}\" is not a role type; use ORG or TEAM.",
                        shorten(other, 40)
                    )))
                }
            }
        }
    }
    if !org && !team {
        (org, team) = (true, true);
    }
    let mut roles = Vec::new();
    if org {
        for r in Role::ALL {
            roles.push(role_json(r.as_str(), r.label(), "ORG", Relation::Member(r)));
        }
    }
    if team {
        for r in TeamRole::ALL {
            roles.push(role_json(
                r.as_str(),
                r.label(),
                "TEAM",
                Relation::Granted(r),
            ));
        }
    }
    Ok(ok(json!({ "roles": roles })))
}

/// `GET /v2/users/{U}/apps/{A}/myscopes`: the scopes and endpoints the key may
/// use in the app (its own scopes, the org role, team grants and label
/// restrictions all counted). An app the key cannot read answers 11101.
pub async fn myscopes(
    state: web::Data<crate::state::AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (o, a) = path.into_inner();
    let (_, app) = crate::api::apps::load(&state, &user, &o, &a, Action::ReadPrivateApp).await?;
    let allowed = |action: Action| can(&user.actor, action, Target::App(&app)).is_ok();
    let endpoints: Vec<&str> = APP_ACTIONS
        .iter()
        .filter(|(action, _)| allowed(*action))
        .flat_map(|(_, names)| names.iter().copied())
        .collect();
    Ok(ok(json!({
        "scopes": scopes_where(allowed),
        "endpoints": endpoints,
    })))
}
