//! Account → **Security** of an organization (admins only; 404 for everyone
//! else): the password policy its members' passwords must meet, editable by
//! those who may manage security. Saving records an audit event in the same
//! transaction.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::audit::{self, AuditTarget, EventKind};
use crate::models::org::Org;
use crate::models::password_policy::{PasswordPolicy, MAX_LIFE_SPAN_DAYS, MAX_REUSE_EPOCH};
use crate::models::AccountId;
use crate::state::AppState;
use crate::web::members::audit_actor;
use crate::web::{denied, flash, redirect, render, FieldErrors, Nav};

/// The policy form as typed (numbers stay text so a bad value is shown back).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PolicyForm {
    pub minimum_length: String,
    pub maximum_length: String,
    pub upper_case_needed: Option<String>,
    pub lower_case_needed: Option<String>,
    pub numeric_needed: Option<String>,
    pub non_alphanumeric_needed: Option<String>,
    pub password_life_span_days: String,
    pub password_reuse_epoch: String,
    pub exclude_names: Option<String>,
    pub exclude_email: Option<String>,
    pub no_common_vocabs: Option<String>,
}

impl PolicyForm {
    fn from_policy(p: &PasswordPolicy) -> PolicyForm {
        let on = |b: bool| b.then(|| "on".to_owned());
        PolicyForm {
            minimum_length: p.minimum_length.to_string(),
            maximum_length: p.maximum_length.to_string(),
            upper_case_needed: on(p.upper_case_needed),
            lower_case_needed: on(p.lower_case_needed),
            numeric_needed: on(p.numeric_needed),
            non_alphanumeric_needed: on(p.non_alphanumeric_needed),
            password_life_span_days: p.password_life_span_days.to_string(),
            password_reuse_epoch: p.password_reuse_epoch.to_string(),
            exclude_names: on(p.exclude_names),
            exclude_email: on(p.exclude_email),
            no_common_vocabs: on(p.no_common_vocabs),
        }
    }

    /// The checkboxes: (field, label, checked).
    fn switches(&self) -> Vec<(&'static str, &'static str, bool)> {
        vec![
            (
                "upper_case_needed",
                "Require an upper-case letter",
                self.upper_case_needed.is_some(),
            ),
            (
                "lower_case_needed",
                "Require a lower-case letter",
                self.lower_case_needed.is_some(),
            ),
            (
                "numeric_needed",
                "Require a digit",
                self.numeric_needed.is_some(),
            ),
            (
                "non_alphanumeric_needed",
                "Require a symbol (not a letter or digit)",
                self.non_alphanumeric_needed.is_some(),
            ),
            (
                "exclude_names",
                "Refuse passwords containing the user's ID or name",
                self.exclude_names.is_some(),
            ),
            (
                "exclude_email",
                "Refuse passwords containing the user's email address",
                self.exclude_email.is_some(),
            ),
            (
                "no_common_vocabs",
                "Refuse common passwords (a list of 20,000)",
                self.no_common_vocabs.is_some(),
            ),
        ]
    }

    /// Parses and checks the form; errors are keyed by field.
    fn parse(&self) -> Result<PasswordPolicy, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut number = |field: &'static str, raw: &str| -> i32 {
            match raw.trim().parse::<i32>() {
                Ok(n) => n,
                Err(_) => {
                    errors.add(field, "Enter a whole number.");
                    0
                }
            }
        };
        let policy = PasswordPolicy {
            minimum_length: number("minimum_length", &self.minimum_length),
            maximum_length: number("maximum_length", &self.maximum_length),
            upper_case_needed: self.upper_case_needed.is_some(),
            lower_case_needed: self.lower_case_needed.is_some(),
            numeric_needed: self.numeric_needed.is_some(),
            non_alphanumeric_needed: self.non_alphanumeric_needed.is_some(),
            password_life_span_days: number(
                "password_life_span_days",
                &self.password_life_span_days,
            ),
            password_reuse_epoch: number("password_reuse_epoch", &self.password_reuse_epoch),
            exclude_names: self.exclude_names.is_some(),
            exclude_email: self.exclude_email.is_some(),
            no_common_vocabs: self.no_common_vocabs.is_some(),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        policy.validate().map_err(|(field, message)| {
            let mut e = FieldErrors::new();
            e.add(field, message);
            e
        })?;
        Ok(policy)
    }
}

#[derive(Template)]
#[template(path = "security/index.html")]
struct SecurityPage {
    nav: Nav,
    org: Org,
    show_members: bool,
    show_security: bool,
    show_teams: bool,
    can_manage: bool,
    form: PolicyForm,
    switches: Vec<(&'static str, &'static str, bool)>,
    errors: FieldErrors,
    max_life_span: i32,
    max_reuse: i32,
    /// The "Require two-factor" card (`web::two_factor_policy`).
    two_factor: crate::web::two_factor_policy::Card,
}

/// Loads the org named in the path after checking `action` (404 for non-admins).
async fn load(
    state: &AppState,
    viewer: &Viewer,
    handle: &str,
    action: Action,
) -> Result<Org, AppError> {
    viewer.require(&format!("/{handle}/account/security"))?;
    let handle = handle.to_owned();
    let org = crate::db::run(&state.pool, move |conn| {
        Ok(Org::find_by_handle(conn, &handle)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    can(&viewer.actor, action, Target::Org(AccountId(org.id.0))).map_err(denied)?;
    Ok(org)
}

fn security_page(
    viewer: &Viewer,
    org: Org,
    form: PolicyForm,
    errors: FieldErrors,
    two_factor: crate::web::two_factor_policy::Card,
) -> SecurityPage {
    let target = Target::Org(AccountId(org.id.0));
    SecurityPage {
        nav: Nav::new(viewer),
        show_members: can(&viewer.actor, Action::ViewMembers, target).is_ok(),
        show_security: true,
        show_teams: can(&viewer.actor, Action::ViewTeams, target).is_ok(),
        can_manage: can(&viewer.actor, Action::ManageSecurity, target).is_ok(),
        switches: form.switches(),
        form,
        errors,
        org,
        max_life_span: MAX_LIFE_SPAN_DAYS,
        max_reuse: MAX_REUSE_EPOCH,
        two_factor,
    }
}

/// The page with the saved password policy and this two-factor card (the card's
/// form was refused).
pub(crate) async fn page_with_card(
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    card: crate::web::two_factor_policy::Card,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let org_id = org.id;
    let policy = crate::db::run(&state.pool, move |conn| {
        Ok(PasswordPolicy::for_org(conn, org_id)?)
    })
    .await?;
    let page = security_page(
        viewer,
        org,
        PolicyForm::from_policy(&policy),
        FieldErrors::new(),
        card,
    );
    render(status, &page)
}

/// `GET /{org}/account/security`
pub async fn index(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let org = load(&state, &viewer, &path, Action::ViewSecurity).await?;
    let org_id = org.id;
    let policy = crate::db::run(&state.pool, move |conn| {
        Ok(PasswordPolicy::for_org(conn, org_id)?)
    })
    .await?;
    let card = crate::web::two_factor_policy::card(&state, org_id).await?;
    let page = security_page(
        &viewer,
        org,
        PolicyForm::from_policy(&policy),
        FieldErrors::new(),
        card,
    );
    render(StatusCode::OK, &page)
}

/// `POST /{org}/account/security/password-policy`
pub async fn save_policy(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<PolicyForm>,
) -> Result<HttpResponse, AppError> {
    let org = load(&state, &viewer, &path, Action::ManageSecurity).await?;
    let form = form.into_inner();
    let policy = match form.parse() {
        Ok(p) => p,
        Err(errors) => {
            let card = crate::web::two_factor_policy::card(&state, org.id).await?;
            let page = security_page(&viewer, org, form, errors, card);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let user = viewer.require("/")?;
    let actor = audit_actor(&req, user);
    let (org_id, handle, by) = (org.id, org.handle.clone(), user.id);
    crate::db::run(&state.pool, move |conn| {
        crate::db::transaction(conn, |conn| {
            policy.save(conn, org_id, Some(by))?;
            audit::record(
                conn,
                Some(org_id),
                &actor,
                EventKind::PasswordPolicyUpdate,
                &AuditTarget::org(org_id, &handle),
                policy_json(&policy),
            )
        })?;
        Ok(())
    })
    .await?;
    flash(&viewer.session, "Password policy saved.");
    Ok(redirect(&req, &format!("/{}/account/security", org.handle)))
}

/// The policy as the API and the audit trail show it.
pub fn policy_json(p: &PasswordPolicy) -> serde_json::Value {
    serde_json::json!({
        "minimum_length": p.minimum_length,
        "maximum_length": p.maximum_length,
        "upper_case_needed": p.upper_case_needed,
        "lower_case_needed": p.lower_case_needed,
        "numeric_needed": p.numeric_needed,
        "non_alphanumeric_needed": p.non_alphanumeric_needed,
        "password_life_span_days": p.password_life_span_days,
        "password_reuse_epoch": p.password_reuse_epoch,
        "exclude_names": p.exclude_names,
        "exclude_email": p.exclude_email,
        "no_common_vocabs": p.no_common_vocabs,
    })
}
