//! Verifying a SAML response posted to an organization's ACS.
//!
//! samael does the signature (with only the configured certificate, and only
//! RSA/ECDSA with SHA-256 or stronger: its default accepts any algorithm), the
//! issuer, the subject-confirmation recipient and window, the conditions window
//! and InResponseTo. Around it, Atrium adds what samael leaves optional: the
//! Response `Destination` must be this ACS when present, the assertion must carry
//! an AudienceRestriction naming this SP (samael only checks one if present), and
//! the clock skew is one minute instead of three. Consuming the request id and
//! the assertion-id replay cache are the caller's (they need the database).

use base64::Engine as _;
use chrono::{Duration, NaiveDateTime, Utc};
use samael::crypto::AllowedSignatureAlgorithm;
use samael::metadata::EntityDescriptor;
use samael::schema::{Assertion, Response};
use samael::service_provider::ServiceProvider;

use crate::saml::{xml_escape, IdpSettings, SpUrls};

/// How long after its IssueInstant a response or assertion is accepted.
pub const MAX_ISSUE_DELAY_SECS: i64 = 90;
/// Clock difference tolerated on NotBefore / NotOnOrAfter.
pub const MAX_CLOCK_SKEW_SECS: i64 = 60;
/// Largest SAMLResponse accepted (base64 text).
pub const MAX_RESPONSE_LEN: usize = 256 * 1024;

/// Signature algorithms accepted: RSA and ECDSA with SHA-256 or stronger.
const ALLOWED: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// A response that passed every check.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The user's e-mail address (lower-cased).
    pub email: String,
    /// A display name, when the identity provider sent one.
    pub name: String,
    /// The assertion's id (for the replay cache).
    pub assertion_id: String,
    /// Until when the assertion id must be remembered.
    pub remember_until: NaiveDateTime,
}

/// The SAMLResponse form field decoded to XML (before any verification).
pub fn decode(saml_response: &str) -> Result<String, String> {
    if saml_response.len() > MAX_RESPONSE_LEN {
        return Err("the SAMLResponse is too large".to_owned());
    }
    let compact: String = saml_response
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| "the SAMLResponse is not base64".to_owned())?;
    let xml =
        String::from_utf8(bytes).map_err(|_| "the SAMLResponse is not UTF-8 XML".to_owned())?;
    // No SAML message has a DTD; refusing them keeps entity tricks away from libxml2.
    if xml.to_ascii_uppercase().contains("<!DOCTYPE") {
        return Err("the SAMLResponse has a DTD".to_owned());
    }
    Ok(xml)
}

/// The response's InResponseTo as sent (unverified: only to find the request it
/// claims to answer; [`verify`] then checks it inside the signed content).
pub fn claimed_request_id(xml: &str) -> Option<String> {
    xml.parse::<Response>().ok()?.in_response_to
}

/// The identity provider as samael wants it: a metadata document with its entity
/// id and signing certificate (the SSO URL is not used to verify).
fn idp_descriptor(idp: &IdpSettings) -> Result<EntityDescriptor, String> {
    let xml = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        entity = xml_escape(&idp.entity_id),
        cert = xml_escape(&idp.certificate),
        sso = xml_escape(&idp.sso_url),
    );
    xml.parse::<EntityDescriptor>()
        .map_err(|e| format!("identity provider settings unreadable: {e}"))
}

/// Verifies `xml` (a decoded SAMLResponse) as the answer to `request_id`, sent by
/// `idp` to the SP `sp`. The error is a reason for the log and the audit trail.
pub fn verify(
    xml: &str,
    sp: &SpUrls,
    idp: &IdpSettings,
    request_id: &str,
) -> Result<Verified, String> {
    // samael checks Destination only on a signed Response element; a response whose
    // envelope names another ACS is refused whatever is signed.
    if let Ok(envelope) = xml.parse::<Response>() {
        if let Some(dest) = envelope.destination.as_deref() {
            if dest != sp.acs_url {
                return Err(format!(
                    "Destination {dest:?} is not this ACS ({})",
                    sp.acs_url
                ));
            }
        }
    }
    let provider = ServiceProvider {
        entity_id: Some(sp.entity_id.clone()),
        metadata_url: Some(sp.entity_id.clone()),
        acs_url: Some(sp.acs_url.clone()),
        slo_url: None,
        idp_metadata: idp_descriptor(idp)?,
        allow_idp_initiated: false,
        max_issue_delay: Duration::seconds(MAX_ISSUE_DELAY_SECS),
        max_clock_skew: Duration::seconds(MAX_CLOCK_SKEW_SECS),
        allowed_signature_algorithms: Some(ALLOWED.to_vec()),
        ..ServiceProvider::default()
    };
    // Without a certificate samael would skip the signature check entirely.
    match provider.idp_signing_certs() {
        Ok(Some(certs)) if !certs.is_empty() => {}
        _ => return Err("no signing certificate configured".to_owned()),
    }
    let assertion = provider
        .parse_xml_response(xml, Some(&[request_id]))
        .map_err(|e| e.to_string())?;
    check_audience(&assertion, &sp.entity_id)?;
    let (email, name) = identity(&assertion)?;
    let remember_until = (assertion.issue_instant
        + Duration::seconds(MAX_ISSUE_DELAY_SECS + MAX_CLOCK_SKEW_SECS))
    .max(Utc::now() + Duration::seconds(MAX_CLOCK_SKEW_SECS))
    .naive_utc();
    Ok(Verified {
        email,
        name,
        assertion_id: assertion.id.clone(),
        remember_until,
    })
}

/// The assertion must be restricted to this SP (an assertion for no audience in
/// particular could have been meant for any service trusting the same IdP).
fn check_audience(assertion: &Assertion, entity_id: &str) -> Result<(), String> {
    let restrictions = assertion
        .conditions
        .as_ref()
        .and_then(|c| c.audience_restrictions.as_ref())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| "the assertion has no AudienceRestriction".to_owned())?;
    if restrictions
        .iter()
        .all(|r| r.audience.iter().any(|a| a == entity_id))
    {
        Ok(())
    } else {
        Err(format!("the assertion's audience is not {entity_id}"))
    }
}

/// Attribute names that carry an e-mail address.
const EMAIL_ATTRS: [&str; 5] = [
    "email",
    "mail",
    "emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
];
/// Attribute names that carry a display name.
const NAME_ATTRS: [&str; 6] = [
    "displayname",
    "name",
    "cn",
    "urn:oid:2.16.840.1.113730.3.1.241",
    "urn:oid:2.5.4.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
];

/// The first value of an attribute named (or friendly-named) one of `names`.
fn attribute(assertion: &Assertion, names: &[&str]) -> Option<String> {
    assertion
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| s.attributes.iter())
        .filter(|a| {
            [a.name.as_deref(), a.friendly_name.as_deref()]
                .into_iter()
                .flatten()
                .any(|n| names.contains(&n.to_ascii_lowercase().as_str()))
        })
        .flat_map(|a| a.values.iter())
        .filter_map(|v| v.value.as_deref())
        .map(str::trim)
        .find(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The user's e-mail (an e-mail NameID, else an e-mail attribute) and name.
fn identity(assertion: &Assertion) -> Result<(String, String), String> {
    let name_id = assertion
        .subject
        .as_ref()
        .and_then(|s| s.name_id.as_ref())
        .map(|n| n.value.trim().to_owned())
        .filter(|v| v.contains('@'));
    let raw = name_id
        .or_else(|| attribute(assertion, &EMAIL_ATTRS))
        .ok_or_else(|| "the assertion names no e-mail address".to_owned())?;
    let email = crate::models::user::validate_email(&raw)
        .map_err(|_| format!("the assertion's e-mail {raw:?} is not valid"))?;
    let name = attribute(assertion, &NAME_ATTRS)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    Ok((email, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_decoded_and_dtds_refused() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            decode(&b64("<samlp:Response/>")).unwrap(),
            "<samlp:Response/>"
        );
        assert!(decode("%%%").is_err());
        assert!(decode(&b64(
            "<!doctype r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>"
        ))
        .is_err());
        assert!(decode(&"A".repeat(MAX_RESPONSE_LEN + 1)).is_err());
    }
}
