//! The **Require two-factor** card of an organization's Security page: members
//! without two-factor get a grace period (counted from when the rule is switched
//! on, or from when they join), see a banner with the deadline, and after it are
//! sent to enrolment before anything else (`auth::session::Viewer`). Saving is
//! `ManageSecurity` and is recorded in the audit log.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::auth::policy::{can, Action, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::audit::{self, AuditTarget, EventKind};
use crate::models::org::Org;
use crate::models::two_factor::{self, MAX_GRACE_DAYS};
use crate::models::{AccountId, OrgId};
use crate::state::AppState;
use crate::web::members::audit_actor;
use crate::web::{denied, flash, redirect, FieldErrors};

/// Grace period offered before anything is saved.
const DEFAULT_GRACE_DAYS: i32 = 7;

/// The form as typed (the number stays text so a bad value is shown back).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TwoFactorForm {
    pub require_two_factor: Option<String>,
    pub grace_days: String,
}

/// What the card shows.
pub struct Card {
    pub required: bool,
    pub grace_days: String,
    pub errors: FieldErrors,
    pub max_grace: i32,
}

/// The card for the org's saved setting.
pub async fn card(state: &AppState, org: OrgId) -> Result<Card, AppError> {
    let saved = crate::db::run(&state.pool, move |conn| {
        Ok(two_factor::policy_for(conn, org)?)
    })
    .await?;
    Ok(Card {
        required: saved.as_ref().is_some_and(|p| p.required),
        grace_days: saved
            .map(|p| p.grace_days)
            .unwrap_or(DEFAULT_GRACE_DAYS)
            .to_string(),
        errors: FieldErrors::new(),
        max_grace: MAX_GRACE_DAYS,
    })
}

/// `POST /{org}/account/security/two-factor`
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<TwoFactorForm>,
) -> Result<HttpResponse, AppError> {
    let user = viewer
        .require(&format!("/{}/account/security", path.as_str()))?
        .clone();
    let h = path.into_inner();
    let org = crate::db::run(&state.pool, move |conn| Ok(Org::find_by_handle(conn, &h)?))
        .await?
        .ok_or(AppError::NotFound)?;
    can(
        &viewer.actor,
        Action::ManageSecurity,
        Target::Org(AccountId(org.id.0)),
    )
    .map_err(denied)?;
    let form = form.into_inner();
    let required = form.require_two_factor.is_some();
    let grace = match form.grace_days.trim().parse::<i32>() {
        Ok(n) if (0..=MAX_GRACE_DAYS).contains(&n) => n,
        Ok(_) => {
            return refuse(
                &state,
                &viewer,
                org,
                form,
                format!("Between 0 and {MAX_GRACE_DAYS} days."),
            )
            .await
        }
        Err(_) => {
            return refuse(
                &state,
                &viewer,
                org,
                form,
                "Enter a whole number of days.".to_owned(),
            )
            .await
        }
    };
    let actor = audit_actor(&req, &user);
    let (org_id, handle, by) = (org.id, org.handle.clone(), user.id);
    crate::db::run(&state.pool, move |conn| {
        crate::db::transaction(conn, |conn| {
            let saved = two_factor::save_policy(conn, org_id, required, grace, by)?;
            audit::record(
                conn,
                Some(org_id),
                &actor,
                EventKind::TwoFactorPolicyUpdate,
                &AuditTarget::org(org_id, &handle),
                serde_json::json!({
                    "required": saved.required,
                    "grace_days": saved.grace_days,
                    "required_since": saved.required_since.and_utc().to_rfc3339(),
                }),
            )
        })?;
        Ok(())
    })
    .await?;
    flash(
        &viewer.session,
        if required {
            "Two-factor is now required for members."
        } else {
            "Two-factor is no longer required."
        },
    );
    Ok(redirect(&req, &format!("/{}/account/security", org.handle)))
}

async fn refuse(
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    form: TwoFactorForm,
    message: String,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::new();
    errors.add("grace_days", message);
    let card = Card {
        required: form.require_two_factor.is_some(),
        grace_days: form.grace_days,
        errors,
        max_grace: MAX_GRACE_DAYS,
    };
    crate::web::security::page_with_card(state, viewer, org, card, StatusCode::UNPROCESSABLE_ENTITY)
        .await
}
