//! An independent SAML identity provider for the tests: `tests/clients/saml_idp.py`
//! (pysaml2, signing with Debian's `xmlsec1`), with an RSA key and certificate made
//! by `openssl` when the test starts (and a second pair Atrium never learns).

use std::path::PathBuf;
use std::process::Command;

use crate::support::{Client, TestApp};

/// The Python that has pysaml2 (`ATRIUM_TEST_PYTHON`, default `python3`).
pub fn python() -> String {
    std::env::var("ATRIUM_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

const INSTALL: &str = "Run tests/run (it prepares $HOME/.cache/atrium/venv with pysaml2 and \
    installs xmlsec1), or: apt-get install xmlsec1 openssl && \
    $HOME/.cache/atrium/venv/bin/pip install pysaml2 && \
    export ATRIUM_TEST_PYTHON=$HOME/.cache/atrium/venv/bin/python";

/// The test identity provider.
pub struct TestIdp {
    dir: tempfile::TempDir,
    pub entity_id: String,
    pub sso_url: String,
    /// The IdP's web server, when it serves a browser (see [`TestIdp::serve`]).
    server: Option<std::process::Child>,
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn keypair(dir: &std::path::Path, name: &str) {
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .arg("-keyout")
        .arg(dir.join(format!("{name}.key")))
        .arg("-out")
        .arg(dir.join(format!("{name}.crt")))
        .args(["-subj", &format!("/CN={name}")])
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}. {INSTALL}"));
    assert!(
        out.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the identity provider answered: where to post it, and the response.
pub struct IdpAnswer {
    pub acs: String,
    pub saml_response: String,
}

impl TestIdp {
    pub fn new() -> TestIdp {
        let dir = tempfile::tempdir().expect("tempdir");
        keypair(dir.path(), "idp");
        keypair(dir.path(), "stranger");
        TestIdp {
            dir,
            entity_id: "https://idp.test.example/metadata".to_owned(),
            sso_url: "https://idp.test.example/sso".to_owned(),
            server: None,
        }
    }

    /// An identity provider with a web server on a loopback port, for a browser:
    /// its sign-in page asks for an e-mail, then posts the signed response to the ACS.
    pub fn serve() -> TestIdp {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut idp = TestIdp::new();
        idp.sso_url = format!("http://127.0.0.1:{port}/sso");
        let mut child = idp
            .command(&["serve"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the test IdP: {e}. {INSTALL}"));
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the IdP's first line");
        idp.server = Some(child);
        assert_eq!(line.trim(), "ready", "the test IdP did not start");
        idp
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The signing certificate (PEM).
    pub fn certificate_pem(&self) -> String {
        std::fs::read_to_string(self.path("idp.crt")).expect("cert")
    }

    fn command(&self, args: &[&str]) -> Command {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/saml_idp.py");
        let mut cmd = Command::new(python());
        cmd.arg(script)
            .args(args)
            .args(["--entity-id", &self.entity_id, "--sso-url", &self.sso_url])
            .arg("--key")
            .arg(self.path("idp.key"))
            .arg("--cert")
            .arg(self.path("idp.crt"))
            .arg("--other-key")
            .arg(self.path("stranger.key"))
            .arg("--other-cert")
            .arg(self.path("stranger.crt"))
            .env("PYTHONWARNINGS", "ignore")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}. {INSTALL}", python()));
        assert!(
            out.status.success(),
            "the pysaml2 identity provider failed ({}): {}\n{INSTALL}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// The identity provider's metadata XML.
    pub fn metadata(&self) -> String {
        self.run(&["metadata"])
    }

    /// Answers the AuthnRequest carried by `request_url` for `email`, the way `mode` says.
    pub fn respond(
        &self,
        app: &TestApp,
        org: &str,
        request_url: &str,
        email: &str,
        mode: &str,
    ) -> IdpAnswer {
        let sp_metadata = app.client().get(&format!("/sso/{org}/metadata"));
        assert_eq!(sp_metadata.status, 200);
        let sp_file = self.path(&format!("sp-{org}.xml"));
        std::fs::write(&sp_file, &sp_metadata.body).expect("write SP metadata");
        let out = self.run(&[
            "respond",
            "--sp-metadata",
            sp_file.to_str().expect("path"),
            "--request-url",
            request_url,
            "--email",
            email,
            "--mode",
            mode,
        ]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("the IdP's JSON");
        IdpAnswer {
            acs: v["acs"].as_str().expect("acs").to_owned(),
            saml_response: v["SAMLResponse"].as_str().expect("response").to_owned(),
        }
    }
}

/// Creates an identity provider for `org` through the Security → Single sign-on form.
pub fn add_idp_from_fields(admin: &Client, org: &str, idp: &TestIdp, role: &str, domain: &str) {
    let res = admin.post_multipart(
        &format!("/{org}/account/security/sso/providers"),
        &[
            ("name", "Test IdP"),
            ("default_role", role),
            ("email_domain", domain),
            ("source", "fields"),
            ("entity_id", &idp.entity_id),
            ("sso_url", &idp.sso_url),
            ("certificate", &idp.certificate_pem()),
        ],
        &[],
        false,
    );
    assert_eq!(res.status, 303, "creating the IdP failed: {}", res.body);
}

/// Starts "Sign in with SSO" for `org` in `browser`; returns the IdP redirect URL.
pub fn start(browser: &Client, org: &str) -> String {
    let res = browser.get(&format!("/sso/{org}"));
    assert_eq!(res.status, 303, "starting SSO failed: {}", res.body);
    res.location()
}

/// Posts the identity provider's answer to the ACS, as its auto-submitting page does.
pub fn post_to_acs(app: &TestApp, browser: &Client, answer: &IdpAnswer) -> crate::support::Page {
    let path = answer
        .acs
        .strip_prefix(&app.base)
        .unwrap_or_else(|| panic!("ACS {} is not on {}", answer.acs, app.base));
    let url = format!("{}{path}", app.base);
    let send = || {
        browser
            .http
            .post(&url)
            .form(&[("SAMLResponse", &answer.saml_response)])
            .send()
    };
    // The IdP took seconds to answer: the server may be closing the client's pooled
    // keep-alive connection just as the post goes out. A post that never reached the
    // server is sent once more (one that did would be refused as a replay).
    let res = match send() {
        Ok(r) => r,
        Err(e) if e.is_request() || e.is_connect() => send().expect("POST to the ACS"),
        Err(e) => panic!("POST to the ACS failed: {e}"),
    };
    crate::support::Page::from_response(res)
}
