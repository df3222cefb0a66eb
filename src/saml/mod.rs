//! SAML 2.0 single sign-on, Atrium as the service provider (SP), built on samael
//! with its `xmlsec` feature. Each organization is its own SP: its entity id is
//! the URL of its metadata (`/sso/{org}/metadata`) and its assertion consumer
//! service (ACS) is `/sso/{org}/acs`.
//!
//! This module holds what does not touch the database: the SP's addresses and
//! metadata, reading an identity provider's metadata or certificate, building
//! the AuthnRequest, and verifying a response ([`verify`]). samael's values and
//! errors are not `Send`: everything here is synchronous and is called from
//! inside `db::run` (on a database thread), never held across an `.await`.

pub mod verify;

use chrono::Utc;
use samael::metadata::{EntityDescriptor, HTTP_POST_BINDING, HTTP_REDIRECT_BINDING};
use samael::schema::{AuthnRequest, Issuer, NameIdPolicy};

/// The NameID format Atrium asks for: the user's e-mail address.
pub const EMAIL_NAME_ID: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// Longest entity id or URL accepted.
const MAX_URL_LEN: usize = 1024;

/// An organization's service-provider addresses.
#[derive(Debug, Clone)]
pub struct SpUrls {
    /// The SP entity id (the metadata URL, as is customary).
    pub entity_id: String,
    /// Where the identity provider posts its responses.
    pub acs_url: String,
}

impl SpUrls {
    /// The addresses of `org_handle`'s SP under Atrium's public URL.
    pub fn new(public_url: &str, org_handle: &str) -> SpUrls {
        let base = public_url.trim_end_matches('/');
        SpUrls {
            entity_id: format!("{base}/sso/{org_handle}/metadata"),
            acs_url: format!("{base}/sso/{org_handle}/acs"),
        }
    }

    /// The SP metadata XML to give the identity provider.
    pub fn metadata_xml(&self) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>{name_id}</md:NameIDFormat>
    <md:AssertionConsumerService Binding="{post}" Location="{acs}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"#,
            entity = xml_escape(&self.entity_id),
            name_id = EMAIL_NAME_ID,
            post = HTTP_POST_BINDING,
            acs = xml_escape(&self.acs_url),
        )
    }
}

/// What Atrium needs to know about an identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpSettings {
    pub entity_id: String,
    /// Its single sign-on service for the HTTP-Redirect binding.
    pub sso_url: String,
    /// Its signing certificate, base64 DER.
    pub certificate: String,
}

/// Which field of the identity-provider form a problem belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field,
        message: message.into(),
    }
}

/// Reads an identity provider's metadata XML: its entity id, the SSO service of
/// the HTTP-Redirect binding, and its signing certificate.
pub fn parse_metadata(xml: &str) -> Result<IdpSettings, FieldProblem> {
    const F: &str = "metadata_xml";
    let xml = xml.trim().trim_start_matches('\u{feff}');
    if xml.is_empty() {
        return Err(problem(
            F,
            "Paste or upload the identity provider's metadata XML.",
        ));
    }
    let entity: EntityDescriptor = xml.parse().map_err(|_| {
        problem(
            F,
            "This is not SAML metadata: expected one <EntityDescriptor> of an identity provider.",
        )
    })?;
    let entity_id = entity
        .entity_id
        .clone()
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| problem(F, "The metadata has no entityID."))?;
    let Some(idp) = entity
        .idp_sso_descriptors
        .as_ref()
        .and_then(|d| d.first().cloned())
    else {
        return Err(problem(
            F,
            "The metadata describes no identity provider (no IDPSSODescriptor).",
        ));
    };
    let sso_url = idp
        .single_sign_on_services
        .iter()
        .find(|s| s.binding == HTTP_REDIRECT_BINDING)
        .map(|s| s.location.clone())
        .ok_or_else(|| {
            problem(
                F,
                "The identity provider offers no single sign-on service with the HTTP-Redirect binding, which Atrium uses.",
            )
        })?;
    let signing = idp
        .key_descriptors
        .iter()
        .filter(|k| matches!(k.key_use.as_deref(), None | Some("") | Some("signing")))
        .filter_map(|k| k.key_info.x509_data.as_ref())
        .flat_map(|d| d.certificates.iter())
        .next()
        .ok_or_else(|| problem(F, "The metadata has no signing certificate."))?;
    let certificate = parse_certificate(signing).map_err(|m| problem(F, m))?;
    let settings = IdpSettings {
        entity_id: entity_id.trim().to_owned(),
        sso_url: sso_url.trim().to_owned(),
        certificate,
    };
    check_fields(&settings).map_err(|p| problem(F, p.message))?;
    Ok(settings)
}

/// Checks entity id and SSO URL typed into the form (the certificate is checked by
/// [`parse_certificate`]).
pub fn check_fields(s: &IdpSettings) -> Result<(), FieldProblem> {
    if s.entity_id.is_empty() {
        return Err(problem(
            "entity_id",
            "Enter the identity provider's entity ID.",
        ));
    }
    if s.entity_id.len() > MAX_URL_LEN || s.entity_id.chars().any(char::is_control) {
        return Err(problem(
            "entity_id",
            format!("Entity IDs are at most {MAX_URL_LEN} characters, without control characters."),
        ));
    }
    check_url(&s.sso_url).map_err(|m| problem("sso_url", m))
}

fn check_url(raw: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Err("Enter the identity provider's single sign-on URL.".to_owned());
    }
    if raw.len() > MAX_URL_LEN {
        return Err(format!("URLs are at most {MAX_URL_LEN} characters."));
    }
    match url::Url::parse(raw) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => Ok(()),
        _ => Err("Enter an http:// or https:// URL, like https://idp.example.com/sso.".to_owned()),
    }
}

/// Reads a certificate given as PEM or as bare base64 DER; returns it as base64 DER.
pub fn parse_certificate(raw: &str) -> Result<String, String> {
    use base64::Engine as _;
    let body: String = raw
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    if body.is_empty() {
        return Err("Paste the identity provider's signing certificate (PEM).".to_owned());
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "The certificate is not PEM or base64: check what was pasted.".to_owned())?;
    openssl::x509::X509::from_der(&der)
        .map_err(|_| "This is not an X.509 certificate.".to_owned())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(der))
}

/// A readable summary of a stored certificate: subject and expiry.
pub fn certificate_summary(b64_der: &str) -> String {
    use base64::Engine as _;
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64_der) else {
        return "unreadable certificate".to_owned();
    };
    let Ok(cert) = openssl::x509::X509::from_der(&der) else {
        return "unreadable certificate".to_owned();
    };
    let subject: Vec<String> = cert
        .subject_name()
        .entries()
        .filter_map(|e| {
            let key = e.object().nid().short_name().ok()?;
            let value = e.data().to_string().ok()?;
            Some(format!("{key}={value}"))
        })
        .collect();
    format!("{}, valid until {}", subject.join(", "), cert.not_after())
}

/// The redirect-binding URL that sends the browser to the identity provider with
/// a fresh AuthnRequest whose id is `request_id`.
pub fn authn_request_url(sp: &SpUrls, sso_url: &str, request_id: &str) -> Result<String, String> {
    let request = AuthnRequest {
        id: request_id.to_owned(),
        version: "2.0".to_owned(),
        issue_instant: Utc::now(),
        destination: Some(sso_url.to_owned()),
        issuer: Some(Issuer {
            value: Some(sp.entity_id.clone()),
            ..Issuer::default()
        }),
        name_id_policy: Some(NameIdPolicy {
            allow_create: Some(true),
            format: Some(EMAIL_NAME_ID.to_owned()),
            ..NameIdPolicy::default()
        }),
        assertion_consumer_service_url: Some(sp.acs_url.clone()),
        protocol_binding: Some(HTTP_POST_BINDING.to_owned()),
        ..AuthnRequest::default()
    };
    let url = request
        .redirect("")
        .map_err(|e| format!("building the AuthnRequest: {e}"))?
        .ok_or_else(|| "the AuthnRequest has no destination".to_owned())?;
    Ok(url.to_string())
}

/// A new AuthnRequest id: an XML NCName (starts with a letter or `_`) with 200 random bits.
pub fn new_request_id() -> String {
    format!("_{}", crate::models::random_id(40))
}

/// Escapes text for an XML attribute or element.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sp_addresses_follow_the_public_url() {
        let sp = SpUrls::new("https://atrium.example.com/", "acme");
        assert_eq!(sp.entity_id, "https://atrium.example.com/sso/acme/metadata");
        assert_eq!(sp.acs_url, "https://atrium.example.com/sso/acme/acs");
        let xml = sp.metadata_xml();
        assert!(xml.contains(r#"entityID="https://atrium.example.com/sso/acme/metadata""#));
        assert!(xml.contains(r#"Location="https://atrium.example.com/sso/acme/acs""#));
    }

    #[test]
    fn bad_metadata_and_certificates_are_explained() {
        assert_eq!(parse_metadata("").unwrap_err().field, "metadata_xml");
        assert!(parse_metadata("<html/>").is_err());
        assert!(parse_certificate("not a cert").is_err());
        assert!(
            parse_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .is_err()
        );
    }

    #[test]
    fn request_ids_are_ncnames() {
        let id = new_request_id();
        assert!(id.starts_with('_') && id.len() == 41);
    }
}
