//! An organization's SAML identity providers over the API (admins only; everyone
//! else gets 11101 as if the organization did not exist):
//! `GET /v2/organizations/{U}/identity_providers`, `POST` (`identity_providers[]`
//! from `saml_metadata_xml`, or `entity_id` + `sso_url` + `certificate`), `PATCH`
//! (`identity_providers[]{id, name, enabled, default_role_id}`) and `DELETE`
//! (`ids[]`). Each request is all or none, and each change is audited, as on the
//! Security page (the same validation and the same model functions).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::auth::ApiUser;
use crate::api::orgs::load_org;
use crate::api::status::{ok, ApiError};
use crate::api::{audit_actor, parse_body, shorten, timestamp};
use crate::auth::policy::Action;
use crate::models::identity_provider::{self as model, CreateIdpError, IdentityProvider};
use crate::saml::{self, SpUrls};
use crate::state::AppState;
use crate::web::sso_admin::{change_recorded, create_recorded, IdpChange, IdpForm};

/// Most providers one request creates, changes or deletes.
const MAX_BATCH: usize = 10;

/// Why a PATCH or DELETE transaction rolled back.
enum TxError {
    Db(diesel::result::Error),
    /// No provider of the organization has this id.
    Missing(String),
    NameTaken,
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

impl From<TxError> for ApiError {
    fn from(e: TxError) -> ApiError {
        match e {
            TxError::Db(e) => e.into(),
            TxError::Missing(id) => ApiError::not_found(format!(
                "No identity provider has the id \"{}\".",
                shorten(&id, 60)
            )),
            TxError::NameTaken => ApiError::duplicate(
                "The organization already has an identity provider with this name.",
            ),
        }
    }
}

fn idp_json(idp: &IdentityProvider) -> Value {
    json!({
        "id": idp.public_id,
        "name": idp.name,
        "type": "saml",
        "enabled": idp.enabled,
        "entity_id": idp.entity_id,
        "sso_url": idp.sso_url,
        "email_domain": idp.email_domain,
        "default_role_id": idp.default_role,
        "certificate": saml::certificate_summary(&idp.certificate),
        "has_metadata_xml": idp.metadata_xml.is_some(),
        "created_at": timestamp(&idp.created_at),
        "modified_at": timestamp(&idp.updated_at),
    })
}

fn sp_json(state: &AppState, org_handle: &str) -> Value {
    let sp = SpUrls::new(&state.config.public_url, org_handle);
    json!({ "entity_id": sp.entity_id, "acs_url": sp.acs_url, "metadata_url": sp.entity_id })
}

/// `GET /v2/organizations/{U}/identity_providers`
pub async fn list(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ViewSecurity).await?;
    let org_id = org.id;
    let (all, require) = crate::db::run(&state.pool, move |conn| {
        Ok((
            IdentityProvider::list(conn, org_id)?,
            model::require_sso(conn, org_id)?,
        ))
    })
    .await?;
    Ok(ok(json!({
        "identity_providers": all.iter().map(idp_json).collect::<Vec<_>>(),
        "service_provider": sp_json(&state, &org.handle),
        "require_sso": require,
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdpIn {
    id: Option<String>,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    enabled: Option<bool>,
    default_role_id: Option<String>,
    email_domain: Option<String>,
    saml_metadata_xml: Option<String>,
    saml_metadata_url: Option<String>,
    entity_id: Option<String>,
    sso_url: Option<String>,
    certificate: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdpsBody {
    identity_providers: Vec<IdpIn>,
    ids: Vec<String>,
}

fn batch<T>(items: &[T], what: &str) -> Result<(), ApiError> {
    if items.is_empty() {
        return Err(ApiError::invalid(format!("give {what}.")));
    }
    if items.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "at most {MAX_BATCH} identity providers per request."
        )));
    }
    Ok(())
}

/// `POST /v2/organizations/{U}/identity_providers`
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ManageSecurity).await?;
    let body: IdpsBody = parse_body(&body)?;
    batch(&body.identity_providers, "identity_providers[]")?;
    let mut news = Vec::new();
    for (i, p) in body.identity_providers.into_iter().enumerate() {
        let at = format!("identity_providers[{i}]");
        if p.kind
            .as_deref()
            .is_some_and(|k| !k.eq_ignore_ascii_case("saml"))
        {
            return Err(ApiError::invalid(format!(
                "{at}.type: only \"saml\" is supported."
            )));
        }
        if p.saml_metadata_url.is_some() && p.saml_metadata_xml.is_none() {
            return Err(ApiError::invalid(format!(
                "{at}.saml_metadata_url: Atrium does not fetch metadata from URLs; send the document as saml_metadata_xml."
            )));
        }
        let fields = p.saml_metadata_xml.is_none();
        let form = IdpForm {
            name: p.name.unwrap_or_default(),
            default_role: p.default_role_id.unwrap_or_else(|| "org_user".to_owned()),
            email_domain: p.email_domain.unwrap_or_default(),
            source: if fields { "fields" } else { "metadata" }.to_owned(),
            metadata_xml: p.saml_metadata_xml.unwrap_or_default(),
            entity_id: p.entity_id.unwrap_or_default(),
            sso_url: p.sso_url.unwrap_or_default(),
            certificate: p.certificate.unwrap_or_default(),
        };
        let mut new = form.parse().map_err(|errors| {
            let (field, message) = errors.first().unwrap_or(("", "invalid"));
            ApiError::invalid(format!("{at}.{field}: {message}"))
        })?;
        new.enabled = p.enabled.unwrap_or(true);
        news.push(new);
    }
    let actor = audit_actor(&req, &user);
    let (org_id, by) = (org.id, user.id);
    let created = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction(conn, |conn| {
            news.iter()
                .map(|n| create_recorded(conn, org_id, by, &actor, n))
                .collect::<Result<Vec<_>, CreateIdpError>>()
        }))
    })
    .await?;
    match created {
        Ok(list) => Ok(ok(json!({
            "identity_providers": list.iter().map(idp_json).collect::<Vec<_>>(),
            "service_provider": sp_json(&state, &org.handle),
        }))),
        Err(CreateIdpError::NameTaken) => Err(ApiError::duplicate(
            "The organization already has an identity provider with this name.",
        )),
        Err(CreateIdpError::DomainTaken) => Err(ApiError::duplicate(
            "Another identity provider already signs in this email domain.",
        )),
        Err(CreateIdpError::Db(e)) => Err(e.into()),
    }
}

/// `PATCH /v2/organizations/{U}/identity_providers`
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ManageSecurity).await?;
    let body: IdpsBody = parse_body(&body)?;
    batch(&body.identity_providers, "identity_providers[]")?;
    let mut changes = Vec::new();
    for (i, p) in body.identity_providers.into_iter().enumerate() {
        let at = format!("identity_providers[{i}]");
        let id =
            p.id.filter(|s| !s.trim().is_empty())
                .ok_or_else(|| ApiError::invalid(format!("{at}.id: give the provider's id.")))?;
        let name = p
            .name
            .map(|n| model::validate_name(&n))
            .transpose()
            .map_err(|m| ApiError::invalid(format!("{at}.name: {m}")))?;
        let role = p
            .default_role_id
            .map(|r| model::parse_default_role(&r))
            .transpose()
            .map_err(|m| ApiError::invalid(format!("{at}.default_role_id: {m}")))?;
        changes.push((id, name, role, p.enabled));
    }
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<_, TxError, _>(conn, |conn| {
            let mut rows = Vec::new();
            for (id, name, role, enabled) in &changes {
                let idp = IdentityProvider::find(conn, org_id, id)?
                    .ok_or_else(|| TxError::Missing(id.clone()))?;
                if name.is_some() || role.is_some() {
                    let n = name.clone().unwrap_or_else(|| idp.name.clone());
                    let r = role.unwrap_or_else(|| idp.role());
                    IdentityProvider::update_details(conn, &idp, &n, r).map_err(|e| match e {
                        CreateIdpError::Db(e) => TxError::Db(e),
                        _ => TxError::NameTaken,
                    })?;
                    crate::models::audit::record(
                        conn,
                        Some(org_id),
                        &actor,
                        crate::models::audit::EventKind::IdentityProviderUpdate,
                        &crate::models::audit::AuditTarget::identity_provider(&idp.public_id, &n),
                        json!({ "name": n, "default_role_id": r.as_str() }),
                    )?;
                }
                if let Some(on) = enabled {
                    change_recorded(conn, &idp, &actor, IdpChange::Enable(*on))?;
                }
                rows.push(idp.public_id.clone());
            }
            let mut out = Vec::new();
            for id in rows {
                out.extend(IdentityProvider::find(conn, org_id, &id)?);
            }
            Ok(out)
        }))
    })
    .await?;
    let rows = result?;
    Ok(ok(json!({
        "identity_providers": rows.iter().map(idp_json).collect::<Vec<_>>(),
    })))
}

/// `DELETE /v2/organizations/{U}/identity_providers` with `{"ids": [...]}`.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org = load_org(&state, &user, &path, Action::ManageSecurity).await?;
    let body: IdpsBody = parse_body(&body)?;
    batch(&body.ids, "ids[]")?;
    let actor = audit_actor(&req, &user);
    let org_id = org.id;
    let ids = body.ids;
    let result = crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction::<_, TxError, _>(conn, |conn| {
            // Nothing is deleted when one id is unknown: the error rolls back.
            for id in &ids {
                let idp = IdentityProvider::find(conn, org_id, id)?
                    .ok_or_else(|| TxError::Missing(id.clone()))?;
                change_recorded(conn, &idp, &actor, IdpChange::Delete)?;
            }
            Ok(())
        }))
    })
    .await?;
    result?;
    Ok(ok(json!({})))
}
