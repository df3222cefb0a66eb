//! Security → **Single sign-on** (admins only; 404 for everyone else): what to
//! give the identity provider (Atrium's SP entity id, ACS URL and metadata), the
//! organization's identity providers (create from metadata XML — pasted or
//! uploaded — or from entity id, SSO URL and certificate; enable, disable,
//! delete) and the "Require SSO" switch. Every change records an audit event in
//! the same transaction.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Role, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::identity_provider::{
    self as idp_model, CreateIdpError, IdentityProvider, NewIdp, DEFAULT_ROLES,
};
use crate::models::org::Org;
use crate::models::{AccountId, OrgId, UserId};
use crate::saml::{self, IdpSettings, SpUrls};
use crate::state::AppState;
use crate::web::forms::{self, Limits};
use crate::web::members::audit_actor;
use crate::web::{denied, flash, redirect, render, FieldErrors, Nav};

/// Largest metadata document accepted (pasted or uploaded).
const MAX_METADATA: usize = 512 * 1024;

/// The create form as typed.
#[derive(Debug, Default, Clone)]
pub struct IdpForm {
    pub name: String,
    pub default_role: String,
    pub email_domain: String,
    /// `metadata` or `fields`.
    pub source: String,
    pub metadata_xml: String,
    pub entity_id: String,
    pub sso_url: String,
    pub certificate: String,
}

impl IdpForm {
    fn from_data(d: &forms::FormData) -> IdpForm {
        let mut metadata_xml = d.get("metadata_xml").to_owned();
        if let Some(f) = d
            .files
            .iter()
            .find(|f| f.field == "metadata_file" && !f.bytes.is_empty())
        {
            metadata_xml = String::from_utf8_lossy(&f.bytes).into_owned();
        }
        IdpForm {
            name: d.get("name").to_owned(),
            default_role: d.get("default_role").to_owned(),
            email_domain: d.get("email_domain").to_owned(),
            source: d.get("source").to_owned(),
            metadata_xml,
            entity_id: d.get("entity_id").to_owned(),
            sso_url: d.get("sso_url").to_owned(),
            certificate: d.get("certificate").to_owned(),
        }
    }

    /// Checks the form; the problems are keyed by field.
    pub fn parse(&self) -> Result<NewIdp, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.check("name", idp_model::validate_name(&self.name));
        let role = errors.check(
            "default_role",
            idp_model::parse_default_role(&self.default_role),
        );
        let domain = errors.check(
            "email_domain",
            idp_model::validate_domain(&self.email_domain),
        );
        let (settings, metadata_xml) = if self.source == "fields" {
            let cert = errors.check("certificate", saml::parse_certificate(&self.certificate));
            let s = IdpSettings {
                entity_id: self.entity_id.trim().to_owned(),
                sso_url: self.sso_url.trim().to_owned(),
                certificate: cert.unwrap_or_default(),
            };
            if let Err(p) = saml::check_fields(&s) {
                errors.add(p.field, p.message);
            }
            (Some(s), None)
        } else if self.metadata_xml.len() > MAX_METADATA {
            errors.add("metadata_xml", "Metadata is at most 512 KB.");
            (None, None)
        } else {
            match saml::parse_metadata(&self.metadata_xml) {
                Ok(s) => (Some(s), Some(self.metadata_xml.trim().to_owned())),
                Err(p) => {
                    errors.add(p.field, p.message);
                    (None, None)
                }
            }
        };
        match (name, role, domain, settings, errors.is_empty()) {
            (Some(name), Some(default_role), Some(email_domain), Some(settings), true) => {
                Ok(NewIdp {
                    name,
                    settings,
                    metadata_xml,
                    email_domain,
                    default_role,
                    enabled: true,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A provider as the list shows it.
pub struct IdpRow {
    pub idp: IdentityProvider,
    pub role_label: &'static str,
    pub certificate: String,
}

#[derive(Template)]
#[template(path = "security/idp_index.html")]
struct SsoPage {
    nav: Nav,
    org: Org,
    show_members: bool,
    show_security: bool,
    show_teams: bool,
    can_manage: bool,
    sp: SpUrls,
    sp_metadata: String,
    require_sso: bool,
    providers: Vec<IdpRow>,
    form: IdpForm,
    errors: FieldErrors,
    roles: Vec<(&'static str, &'static str)>,
    require_error: Option<String>,
}

/// Loads the org named in the path after checking `action` (404 for non-admins).
async fn load(
    state: &AppState,
    viewer: &Viewer,
    handle: &str,
    action: Action,
) -> Result<Org, AppError> {
    viewer.require(&format!("/{handle}/account/security/sso"))?;
    let handle = handle.to_owned();
    let org = crate::db::run(&state.pool, move |conn| {
        Ok(Org::find_by_handle(conn, &handle)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    can(&viewer.actor, action, Target::Org(AccountId(org.id.0))).map_err(denied)?;
    Ok(org)
}

async fn show(
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    status: StatusCode,
    form: IdpForm,
    errors: FieldErrors,
    require_error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let org_id = org.id;
    let (providers, require_sso) = crate::db::run(&state.pool, move |conn| {
        Ok((
            IdentityProvider::list(conn, org_id)?,
            idp_model::require_sso(conn, org_id)?,
        ))
    })
    .await?;
    let target = Target::Org(AccountId(org.id.0));
    let sp = SpUrls::new(&state.config.public_url, &org.handle);
    let form = IdpForm {
        default_role: if form.default_role.is_empty() {
            Role::OrgUser.as_str().to_owned()
        } else {
            form.default_role
        },
        source: if form.source.is_empty() {
            "metadata".to_owned()
        } else {
            form.source
        },
        ..form
    };
    let page = SsoPage {
        nav: Nav::new(viewer),
        show_members: can(&viewer.actor, Action::ViewMembers, target).is_ok(),
        show_security: true,
        show_teams: can(&viewer.actor, Action::ViewTeams, target).is_ok(),
        can_manage: can(&viewer.actor, Action::ManageSecurity, target).is_ok(),
        sp_metadata: sp.metadata_xml(),
        sp,
        require_sso,
        providers: providers
            .into_iter()
            .map(|idp| IdpRow {
                role_label: idp.role().label(),
                certificate: saml::certificate_summary(&idp.certificate),
                idp,
            })
            .collect(),
        form,
        errors,
        roles: DEFAULT_ROLES
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        require_error,
        org,
    };
    render(status, &page)
}

/// `GET /{org}/account/security/sso`
pub async fn index(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let org = load(&state, &viewer, &path, Action::ViewSecurity).await?;
    show(
        &state,
        &viewer,
        org,
        StatusCode::OK,
        IdpForm::default(),
        FieldErrors::new(),
        None,
    )
    .await
}

fn actor_of(req: &HttpRequest, viewer: &Viewer) -> Result<(AuditActor, UserId), AppError> {
    let user = viewer.require("/")?;
    Ok((audit_actor(req, user), user.id))
}

/// `POST /{org}/account/security/sso/providers` (multipart: the metadata may be a file).
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let org = load(&state, &viewer, &path, Action::ManageSecurity).await?;
    let limits = Limits {
        total: MAX_METADATA * 2 + 64 * 1024,
        field: MAX_METADATA + 1,
        files: 1,
    };
    let data = match forms::read(&req, payload, limits).await {
        Ok(d) => d,
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.add("metadata_xml", message);
            return show(
                &state,
                &viewer,
                org,
                StatusCode::UNPROCESSABLE_ENTITY,
                IdpForm::default(),
                errors,
                None,
            )
            .await;
        }
    };
    let form = IdpForm::from_data(&data);
    let new = match form.parse() {
        Ok(n) => n,
        Err(errors) => {
            return show(
                &state,
                &viewer,
                org,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
                None,
            )
            .await
        }
    };
    let (actor, by) = actor_of(&req, &viewer)?;
    let org_id = org.id;
    let created = crate::db::run(&state.pool, move |conn| {
        Ok(create_recorded(conn, org_id, by, &actor, &new))
    })
    .await?;
    match created {
        Ok(idp) => {
            flash(
                &viewer.session,
                format!("Identity provider “{}” created and enabled.", idp.name),
            );
            Ok(redirect(
                &req,
                &format!("/{}/account/security/sso", org.handle),
            ))
        }
        Err(e) => {
            let mut errors = FieldErrors::new();
            match e {
                CreateIdpError::NameTaken => errors.add(
                    "name",
                    "This organization already has a provider with this name.",
                ),
                CreateIdpError::DomainTaken => errors.add(
                    "email_domain",
                    "Another identity provider already signs in this domain.",
                ),
                CreateIdpError::Db(e) => return Err(e.into()),
            }
            show(
                &state,
                &viewer,
                org,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
                None,
            )
            .await
        }
    }
}

/// Creates a provider and records it, in one transaction (the web form and the API).
pub fn create_recorded(
    conn: &mut crate::db::DbConn,
    org: OrgId,
    by: UserId,
    actor: &AuditActor,
    new: &NewIdp,
) -> Result<IdentityProvider, CreateIdpError> {
    crate::db::transaction(conn, |conn| {
        let idp = IdentityProvider::create(conn, org, Some(by), new)?;
        audit::record(
            conn,
            Some(org),
            actor,
            EventKind::IdentityProviderCreate,
            &AuditTarget::identity_provider(&idp.public_id, &idp.name),
            idp.summary_json(),
        )?;
        Ok(idp)
    })
}

/// Enables, disables or deletes a provider and records it, in one transaction.
pub fn change_recorded(
    conn: &mut crate::db::DbConn,
    idp: &IdentityProvider,
    actor: &AuditActor,
    change: IdpChange,
) -> diesel::QueryResult<usize> {
    crate::db::transaction(conn, |conn| {
        let (kind, others) = match change {
            IdpChange::Enable(on) => (
                EventKind::IdentityProviderUpdate,
                IdentityProvider::set_enabled(conn, idp, on)?,
            ),
            IdpChange::Delete => {
                IdentityProvider::delete(conn, idp)?;
                (EventKind::IdentityProviderDelete, 0)
            }
        };
        let mut details = idp.summary_json();
        if let IdpChange::Enable(on) = change {
            details["enabled"] = on.into();
        }
        audit::record(
            conn,
            Some(OrgId(idp.org_id)),
            actor,
            kind,
            &AuditTarget::identity_provider(&idp.public_id, &idp.name),
            details,
        )?;
        Ok(others)
    })
}

/// A change to one provider.
#[derive(Debug, Clone, Copy)]
pub enum IdpChange {
    Enable(bool),
    Delete,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ToggleForm {
    pub enabled: String,
}

async fn find_idp(
    state: &AppState,
    org: &Org,
    public_id: String,
) -> Result<IdentityProvider, AppError> {
    let org_id = org.id;
    crate::db::run(&state.pool, move |conn| {
        Ok(IdentityProvider::find(conn, org_id, &public_id)?)
    })
    .await?
    .ok_or(AppError::NotFound)
}

/// `POST /{org}/account/security/sso/providers/{id}/enabled` (`enabled=true|false`)
pub async fn toggle(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<ToggleForm>,
) -> Result<HttpResponse, AppError> {
    let (o, id) = path.into_inner();
    let org = load(&state, &viewer, &o, Action::ManageSecurity).await?;
    let idp = find_idp(&state, &org, id).await?;
    let on = form.enabled == "true";
    let (actor, _) = actor_of(&req, &viewer)?;
    let name = idp.name.clone();
    let others = crate::db::run(&state.pool, move |conn| {
        Ok(change_recorded(conn, &idp, &actor, IdpChange::Enable(on))?)
    })
    .await?;
    let message = match (on, others) {
        (false, _) => format!("“{name}” disabled."),
        (true, 0) => format!("“{name}” enabled."),
        (true, _) => format!("“{name}” enabled; the previously enabled provider was disabled (one signs in at a time)."),
    };
    flash(&viewer.session, message);
    Ok(redirect(
        &req,
        &format!("/{}/account/security/sso", org.handle),
    ))
}

/// `POST /{org}/account/security/sso/providers/{id}/delete`
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, id) = path.into_inner();
    let org = load(&state, &viewer, &o, Action::ManageSecurity).await?;
    let idp = find_idp(&state, &org, id).await?;
    let (actor, _) = actor_of(&req, &viewer)?;
    let name = idp.name.clone();
    crate::db::run(&state.pool, move |conn| {
        Ok(change_recorded(conn, &idp, &actor, IdpChange::Delete)?)
    })
    .await?;
    flash(&viewer.session, format!("“{name}” deleted."));
    Ok(redirect(
        &req,
        &format!("/{}/account/security/sso", org.handle),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequireForm {
    pub require_sso: Option<String>,
}

/// `POST /{org}/account/security/sso/require`: the "Require SSO" switch. It can be
/// turned on only while a provider is enabled.
pub async fn set_require(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<RequireForm>,
) -> Result<HttpResponse, AppError> {
    let org = load(&state, &viewer, &path, Action::ManageSecurity).await?;
    let on = form.require_sso.is_some();
    let (actor, by) = actor_of(&req, &viewer)?;
    let (org_id, handle) = (org.id, org.handle.clone());
    let saved = crate::db::run(&state.pool, move |conn| {
        crate::db::transaction::<bool, diesel::result::Error, _>(conn, |conn| {
            if on && IdentityProvider::enabled_for(conn, org_id)?.is_none() {
                return Ok(false);
            }
            idp_model::set_require_sso(conn, org_id, on, Some(by))?;
            audit::record(
                conn,
                Some(org_id),
                &actor,
                EventKind::SsoRequirementUpdate,
                &AuditTarget::org(org_id, &handle),
                serde_json::json!({ "require_sso": on }),
            )?;
            Ok(true)
        })
        .map_err(AppError::from)
    })
    .await?;
    if !saved {
        return show(
            &state,
            &viewer,
            org,
            StatusCode::UNPROCESSABLE_ENTITY,
            IdpForm::default(),
            FieldErrors::new(),
            Some("Enable an identity provider before requiring SSO.".to_owned()),
        )
        .await;
    }
    flash(
        &viewer.session,
        if on {
            "SSO is now required: members sign in through the identity provider (admins keep password sign-in)."
        } else {
            "SSO is no longer required: members may sign in with a password again."
        },
    );
    Ok(redirect(
        &req,
        &format!("/{}/account/security/sso", org.handle),
    ))
}
