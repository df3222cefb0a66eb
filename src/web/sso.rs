//! "Sign in with SSO": the form (organization ID or e-mail address → the
//! organization's enabled identity provider), the AuthnRequest (HTTP-Redirect
//! binding; its id is stored so that only answers to requests Atrium issued are
//! accepted), the assertion consumer service and the SP metadata.
//!
//! The ACS is posted to by the identity provider's page, cross-site, so it carries
//! no CSRF token (the CSRF middleware exempts it): what protects it is that the
//! response must be signed by the provider and answer a stored request.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::session::{self, Viewer};
use crate::error::AppError;
use crate::models::identity_provider::IdentityProvider;
use crate::models::org::Org;
use crate::models::sso::{self, SsoOutcome};
use crate::models::user::User;
use crate::saml::{self, verify, SpUrls};
use crate::state::AppState;
use crate::web::{flash, invalid, page, safe_next, Nav};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SsoQuery {
    /// Prefills the form (the sign-in page sends members of an org that requires SSO here).
    pub org: String,
    pub next: String,
    /// Set when password sign-in was refused because the org requires SSO.
    pub required: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SsoForm {
    /// An organization ID or an e-mail address.
    pub org: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "account/sso.html")]
struct SsoPage {
    nav: Nav,
    form: SsoForm,
    error: Option<String>,
    notice: Option<String>,
}

/// `GET /sso`
pub async fn form_page(viewer: Viewer, q: web::Query<SsoQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let notice = (!q.required.is_empty()).then(|| {
        format!(
            "{} requires single sign-on: password sign-in is turned off for its members. Continue with your organization's identity provider.",
            if q.org.is_empty() { "Your organization" } else { &q.org }
        )
    });
    page(&SsoPage {
        nav: Nav::new(&viewer),
        form: SsoForm {
            org: q.org,
            next: q.next,
        },
        error: None,
        notice,
    })
}

/// The enabled provider an organization handle or e-mail address leads to.
fn resolve(
    conn: &mut crate::db::DbConn,
    raw: &str,
) -> Result<Option<(IdentityProvider, String)>, AppError> {
    let raw = raw.trim().to_lowercase();
    if let Some((_, domain)) = raw.rsplit_once('@') {
        return Ok(IdentityProvider::for_domain(conn, domain)?.filter(|(i, _)| i.enabled));
    }
    let Some(org) = Org::find_by_handle(conn, &raw)? else {
        return Ok(None);
    };
    Ok(IdentityProvider::enabled_for(conn, org.id)?.map(|i| (i, org.handle)))
}

/// Issues an AuthnRequest for `idp` and returns the URL that carries it.
fn start(
    conn: &mut crate::db::DbConn,
    state: &AppState,
    idp: &IdentityProvider,
    org_handle: &str,
    next: &str,
) -> Result<String, AppError> {
    let sp = SpUrls::new(&state.config.public_url, org_handle);
    let request_id = saml::new_request_id();
    let url =
        saml::authn_request_url(&sp, &idp.sso_url, &request_id).map_err(AppError::internal)?;
    sso::issue_request(conn, idp, &request_id, next)?;
    Ok(url)
}

fn to_idp(url: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", url))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

/// `POST /sso`: organization ID or e-mail → the identity provider.
pub async fn submit(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<SsoForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if form.org.trim().is_empty() {
        return invalid(&SsoPage {
            nav: Nav::new(&viewer),
            form,
            error: Some("Enter your organization's ID or your work email address.".to_owned()),
            notice: None,
        });
    }
    let (raw, next) = (form.org.clone(), safe_next(Some(&form.next)));
    let st = state.clone();
    let url = crate::db::run(&state.pool, move |conn| match resolve(conn, &raw)? {
        Some((idp, handle)) => {
            let next = if next == "/" {
                format!("/{handle}/apps")
            } else {
                next
            };
            start(conn, &st, &idp, &handle, &next).map(Some)
        }
        None => Ok(None),
    })
    .await?;
    match url {
        Some(url) => Ok(to_idp(&url)),
        None => invalid(&SsoPage {
            nav: Nav::new(&viewer),
            form,
            error: Some(
                "No organization with single sign-on matches this. Check the organization ID or address, or sign in with your password."
                    .to_owned(),
            ),
            notice: None,
        }),
    }
}

/// `GET /sso/{org}`: starts SSO for an organization directly (a bookmarkable link).
pub async fn start_for_org(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<SsoQuery>,
) -> Result<HttpResponse, AppError> {
    let handle = path.into_inner();
    let next = safe_next(Some(&q.next));
    let st = state.clone();
    let url = crate::db::run(&state.pool, move |conn| {
        let Some(org) = Org::find_by_handle(conn, &handle)? else {
            return Ok(None);
        };
        let Some(idp) = IdentityProvider::enabled_for(conn, org.id)? else {
            return Ok(None);
        };
        let next = if next == "/" {
            format!("/{}/apps", org.handle)
        } else {
            next
        };
        start(conn, &st, &idp, &org.handle, &next).map(Some)
    })
    .await?;
    url.map(|u| to_idp(&u)).ok_or(AppError::NotFound)
}

/// `GET /sso/{org}/metadata`: the organization's SP metadata (`?download=1` as a file).
pub async fn metadata(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let handle = path.into_inner();
    let h = handle.clone();
    let org = crate::db::run(&state.pool, move |conn| Ok(Org::find_by_handle(conn, &h)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let xml = SpUrls::new(&state.config.public_url, &org.handle).metadata_xml();
    let mut res = HttpResponse::Ok();
    res.content_type("application/samlmetadata+xml");
    if req.query_string().contains("download=1") {
        res.insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"atrium-{}-sp-metadata.xml\"",
                org.handle
            ),
        ));
    }
    Ok(res.body(xml))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    pub saml_response: String,
    #[serde(rename = "RelayState")]
    pub relay_state: String,
}

/// What the ACS decided.
enum Acs {
    SignedIn {
        user: Box<User>,
        next: String,
        joined: bool,
        idp_name: String,
    },
    Rejected,
    InAnotherOrg(String),
    ExistingAccount,
}

/// `POST /sso/{org}/acs`: verifies the identity provider's response and signs the user in.
pub async fn acs(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<AcsForm>,
) -> Result<HttpResponse, AppError> {
    let handle = path.into_inner();
    let ip = crate::web::client_ip(&req);
    let encoded = form.into_inner().saml_response;
    let public_url = state.config.public_url.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let Some(org) = Org::find_by_handle(conn, &handle)? else {
            return Err(AppError::NotFound);
        };
        let idp = IdentityProvider::enabled_for(conn, org.id)?;
        let sp = SpUrls::new(&public_url, &org.handle);
        let checked = idp
            .as_ref()
            .ok_or_else(|| "the organization has no enabled identity provider".to_owned())
            .and_then(|idp| {
                let xml = verify::decode(&encoded)?;
                let claimed = verify::claimed_request_id(&xml)
                    .ok_or_else(|| "the response answers no request (no InResponseTo)".to_owned())?;
                let next = sso::consume_request(conn, idp, &claimed)
                    .map_err(|e| format!("database: {e}"))?
                    .ok_or_else(|| "InResponseTo names no request Atrium issued (unknown, expired or already answered)".to_owned())?;
                let verified = verify::verify(&xml, &sp, &idp.settings(), &claimed)?;
                Ok((idp, next, verified))
            });
        let (idp, next, verified) = match checked {
            Ok(v) => v,
            Err(reason) => {
                tracing::warn!(org = %org.handle, %reason, "SAML response refused");
                sso::record_failure(conn, &org, idp.as_ref(), &ip, &reason)?;
                return Ok(Acs::Rejected);
            }
        };
        let refused = |conn: &mut crate::db::DbConn, reason: &str| {
            tracing::warn!(org = %org.handle, %reason, "SSO sign-in refused");
            sso::record_failure(conn, &org, Some(idp), &ip, reason)
        };
        Ok(match sso::sign_in_verified(conn, idp, &org, &verified, &ip)? {
            SsoOutcome::SignedIn { user, joined, .. } => Acs::SignedIn {
                user: Box::new(user),
                next,
                joined,
                idp_name: idp.name.clone(),
            },
            SsoOutcome::Replayed => {
                refused(conn, "assertion id already used (replay)")?;
                Acs::Rejected
            }
            SsoOutcome::InAnotherOrg { org_name } => {
                refused(conn, "the account belongs to another organization")?;
                Acs::InAnotherOrg(org_name)
            }
            SsoOutcome::ExistingAccount => {
                refused(conn, "an account with this e-mail exists outside the organization")?;
                Acs::ExistingAccount
            }
        })
    })
    .await?;
    match outcome {
        Acs::SignedIn {
            user,
            next,
            joined,
            idp_name,
        } => {
            session::sign_in(&req, &state, &viewer.session, &user).await?;
            viewer.set_acting_as_org(true)?;
            tracing::info!(user_id = user.row.id, "signed in through SSO");
            flash(
                &viewer.session,
                if joined {
                    format!("Signed in through {idp_name}. Welcome to the organization!")
                } else {
                    format!("Signed in through {idp_name}.")
                },
            );
            Ok(HttpResponse::SeeOther()
                .insert_header(("Location", safe_next(Some(&next))))
                .finish())
        }
        Acs::Rejected => Err(AppError::Forbidden(
            "Single sign-on failed: the identity provider's answer could not be accepted. Start again from “Sign in with SSO”; if it keeps failing, tell your organization's admin.".to_owned(),
        )),
        Acs::InAnotherOrg(name) => Err(AppError::Conflict(format!(
            "Your Atrium account already belongs to {name}, and an account can be in one organization only. Nothing was changed. Leave {name} first, or sign in with your password."
        ))),
        Acs::ExistingAccount => Err(AppError::Conflict(
            "An Atrium account with your email address already exists and is not in this organization. Nothing was changed. Sign in with your password and ask an admin of the organization for an invitation; once you have joined, single sign-on works.".to_owned(),
        )),
    }
}
