//! Identity providers over `/v2/organizations/{U}/identity_providers`: created from
//! metadata or fields, listed with the SP details, renamed, disabled and deleted;
//! validation and unknown ids answer in the status envelope and change nothing;
//! non-admins see 11101.

use reqwest::Method;
use serde_json::json;

use crate::api_support::{token, Api};
use crate::support::saml_idp::TestIdp;
use crate::support::TestApp;

const PATH: &str = "/v2/organizations/acme/identity_providers";

#[test]
fn admins_manage_identity_providers_over_the_api() {
    let app = TestApp::start();
    app.org_with_admin("acme", "boss");
    let api = Api::new(&app, Some(&token(&app, "boss")));
    let idp = TestIdp::new();

    let empty = api.get(PATH);
    assert_eq!(empty.code(), 10000);
    assert_eq!(empty.json["identity_providers"], json!([]));
    assert_eq!(
        empty.json["service_provider"]["acs_url"],
        json!(app.url("/sso/acme/acs"))
    );

    // Bad input: a clear 11102 naming the field, nothing created.
    let bad = api.post(
        PATH,
        json!({"identity_providers": [
            {"name": "A", "saml_metadata_xml": idp.metadata()},
            {"name": "B", "entity_id": "x", "sso_url": "https://idp.example.com/sso", "certificate": "nope"}
        ]}),
    );
    assert_eq!((bad.http, bad.code()), (400, 11102), "{}", bad.json);
    assert!(
        bad.details().contains("identity_providers[1].certificate"),
        "{}",
        bad.details()
    );
    let by_url = api.post(
        PATH,
        json!({"identity_providers": [{"name": "U", "saml_metadata_url": "https://idp.example.com/md"}]}),
    );
    assert_eq!(by_url.code(), 11102);
    assert_eq!(api.get(PATH).json["identity_providers"], json!([]));

    let made = api.post(
        PATH,
        json!({"identity_providers": [{
            "name": "Corporate", "type": "saml", "default_role_id": "team_contributor",
            "email_domain": "acme.test", "saml_metadata_xml": idp.metadata()
        }]}),
    );
    assert_eq!(made.code(), 10000, "{}", made.json);
    let p = &made.json["identity_providers"][0];
    assert_eq!(p["entity_id"], json!(idp.entity_id));
    assert_eq!(p["sso_url"], json!(idp.sso_url));
    assert_eq!(p["enabled"], json!(true));
    assert_eq!(p["type"], json!("saml"));
    let id = p["id"].as_str().expect("id").to_owned();

    let dup = api.post(
        PATH,
        json!({"identity_providers": [{
            "name": "Corporate", "entity_id": "e", "sso_url": "https://i.example.com/s",
            "certificate": idp.certificate_pem()
        }]}),
    );
    assert_eq!((dup.http, dup.code()), (409, 40010));

    let patched = api.patch(
        PATH,
        json!({"identity_providers": [{"id": id, "name": "Okta", "enabled": false}]}),
    );
    assert_eq!(patched.code(), 10000, "{}", patched.json);
    assert_eq!(patched.json["identity_providers"][0]["name"], json!("Okta"));
    assert_eq!(
        patched.json["identity_providers"][0]["enabled"],
        json!(false)
    );
    let unknown = api.patch(
        PATH,
        json!({"identity_providers": [{"id": id, "name": "Renamed"}, {"id": "nope", "enabled": true}]}),
    );
    assert_eq!(unknown.code(), 11101);
    assert_eq!(
        api.get(PATH).json["identity_providers"][0]["name"],
        json!("Okta")
    );

    // Non-admins: as if the organization did not exist.
    app.signup("walt");
    app.add_member("acme", "walt", "org_contributor");
    let walt = Api::new(&app, Some(&token(&app, "walt")));
    assert_eq!(walt.get(PATH).code(), 11101);

    let gone = api.send(
        Method::DELETE,
        PATH,
        Some(&json!({"ids": [id, "nope"]}).to_string()),
        &[],
    );
    assert_eq!(gone.code(), 11101);
    assert_eq!(
        api.get(PATH).json["identity_providers"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let gone = api.send(
        Method::DELETE,
        PATH,
        Some(&json!({"ids": [id]}).to_string()),
        &[],
    );
    assert_eq!(gone.code(), 10000, "{}", gone.json);
    assert_eq!(api.get(PATH).json["identity_providers"], json!([]));
}
