//! Test fixtures: [`TestApp`] (a real server on a loopback port with its own
//! database), [`Client`] (a cookie-keeping HTTP client that knows the CSRF token),
//! and builders for users, orgs and apps.

#![allow(dead_code)]

pub mod browser;
pub mod content;
pub mod html;
pub mod invites;
pub mod saml_idp;
pub mod smtp;
pub mod teams;

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use actix_web::web::Data;
use atrium::config::Config;
use atrium::state::AppState;
use diesel::connection::SimpleConnection;
use diesel::Connection;

pub use html::Page;

/// Which backend the suite runs on.
pub fn database_kind() -> &'static str {
    if std::env::var("ATRIUM_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A fresh database: a temp SQLite file or a new PostgreSQL schema (dropped afterwards).
struct TestDb {
    url: String,
    pg_cleanup: Option<(String, String)>,
}

impl TestDb {
    fn new(dir: &std::path::Path) -> TestDb {
        match std::env::var("ATRIUM_TEST_DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                let schema = format!("t_{}", atrium::models::random_id(16));
                let mut conn = diesel::PgConnection::establish(&base)
                    .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {base}: {e}"));
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                TestDb {
                    url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
                    pg_cleanup: Some((base, schema)),
                }
            }
            _ => TestDb {
                url: format!("sqlite:{}", dir.join("atrium.db").display()),
                pg_cleanup: None,
            },
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg_cleanup {
            if let Ok(mut conn) = diesel::PgConnection::establish(base) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        }
    }
}

/// A running server with its own database and data folder.
pub struct TestApp {
    pub base: String,
    pub state: Data<AppState>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    db: TestDb,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts a server with the default test configuration.
    pub fn start() -> TestApp {
        TestApp::start_with(|_| {})
    }

    /// Starts a server after `tweak` adjusted the configuration.
    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = TestDb::new(dir.path());
        let config = Config {
            bind: String::new(),
            data_dir: dir.path().to_path_buf(),
            database_url: db.url.clone(),
            redis_url: None,
            smtp_url: None,
            mail_from: "Atrium <atrium@localhost>".to_owned(),
            public_url: String::new(),
            secure_cookies: false,
            db_pool_size: 4,
            session_key: (0..64).map(|_| rand::random::<u8>()).collect(),
            invitation_ttl_days: 7,
            invite_rate_limit: 50,
            smtp_timeout_secs: 5,
            trust_proxy: false,
            job_workers: 1,
        };
        TestApp::launch(config, tweak, db, dir)
    }

    fn launch(
        mut config: Config,
        tweak: impl FnOnce(&mut Config),
        db: TestDb,
        dir: tempfile::TempDir,
    ) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        config.bind = addr.to_string();
        config.public_url = format!("http://{addr}");
        tweak(&mut config);
        let state = atrium::build_state(config).expect("state");
        let (tx, rx) = mpsc::channel();
        let server_state = state.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = atrium::start(server_state, listener, 2)
                    .await
                    .expect("start");
                tx.send(server.handle()).expect("send handle");
                let _ = server.await;
            })
        });
        let handle = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server start");
        TestApp {
            base: format!("http://{addr}"),
            state,
            handle,
            thread: Some(thread),
            db,
            dir,
        }
    }

    /// Stops this server and starts a new one on the same database and data
    /// folder (on another port), as an operator restarting the service would;
    /// `tweak` adjusts the new configuration.
    pub fn restart_with(mut self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        self.stop();
        let config = self.state.config.clone();
        let db = std::mem::replace(
            &mut self.db,
            TestDb {
                url: String::new(),
                pg_cleanup: None,
            },
        );
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        drop(self);
        TestApp::launch(config, tweak, db, dir)
    }

    fn stop(&mut self) {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(self.handle.stop(false));
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A new client with an empty cookie jar (a fresh browser).
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Signs up a user through the form and returns their signed-in client.
    pub fn signup(&self, handle: &str) -> Client {
        let c = self.client();
        let page = c.get("/signup");
        assert_eq!(page.status, 200);
        let res = c.post_form(
            "/signup",
            &[
                ("email", &format!("{handle}@example.com")),
                ("handle", handle),
                ("password", "correct horse battery"),
            ],
        );
        assert_eq!(res.status, 303, "sign-up of {handle} failed: {}", res.body);
        c
    }

    /// Signs up `admin`, creates org `org` and returns the admin's client (acting as the org).
    pub fn org_with_admin(&self, org: &str, admin: &str) -> Client {
        let c = self.signup(admin);
        let res = c.post_form(
            "/organizations",
            &[
                ("name", &format!("{org} inc")),
                ("id", org),
                ("billing_email", &format!("billing@{org}.com")),
            ],
        );
        assert_eq!(res.status, 303, "creating {org} failed: {}", res.body);
        c
    }

    /// Adds a user to an org with a role, directly in the database (membership
    /// management through the UI comes with the Members screen).
    pub fn add_member(&self, org: &str, user: &str, role: &str) {
        use atrium::db::schema::{accounts, memberships};
        use diesel::prelude::*;
        let mut conn = self.state.pool.get().expect("conn");
        let org_id: i64 = accounts::table
            .filter(accounts::handle.eq(org))
            .select(accounts::id)
            .first(&mut *conn)
            .expect("org");
        let user_id: i64 = accounts::table
            .filter(accounts::handle.eq(user))
            .select(accounts::id)
            .first(&mut *conn)
            .expect("user");
        diesel::insert_into(memberships::table)
            .values((
                memberships::org_id.eq(org_id),
                memberships::user_id.eq(user_id),
                memberships::role.eq(role),
                memberships::created_at.eq(atrium::models::now()),
            ))
            .execute(&mut *conn)
            .expect("membership");
    }

    /// Creates an app through the form as `client` under `owner`.
    pub fn create_app(&self, client: &Client, owner: &str, id: &str, name: &str) {
        let res = client.post_form(
            &format!("/{owner}/apps"),
            &[("id", id), ("name", name), ("description", "")],
        );
        assert_eq!(
            res.status, 303,
            "creating {owner}/{id} failed: {}",
            res.body
        );
    }

    /// Statements the server's pool has run so far.
    pub fn queries(&self) -> u64 {
        self.state.metrics.queries()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A browser-like HTTP client: keeps cookies, does not follow redirects, and adds
/// the CSRF token (read from the last HTML page) to every form it posts.
pub struct Client {
    http: reqwest::blocking::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    base: String,
    csrf: std::sync::Mutex<Option<String>>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Client {
            jar: std::sync::Arc::clone(&jar),
            http: reqwest::blocking::Client::builder()
                .cookie_provider(jar)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            base: base.to_owned(),
            csrf: std::sync::Mutex::new(None),
        }
    }

    /// The value of a cookie the server set.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().ok()?;
        let header = self.jar.cookies(&url)?;
        header.to_str().ok()?.split("; ").find_map(|kv| {
            kv.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_owned)
        })
    }

    /// Sets a cookie as if the server had.
    pub fn set_cookie(&self, name: &str, value: &str) {
        if let Ok(url) = self.base.parse::<reqwest::Url>() {
            self.jar
                .add_cookie_str(&format!("{name}={value}; Path=/"), &url);
        }
    }

    fn remember_csrf(&self, page: &Page) {
        if let Some(t) = page.csrf_token() {
            *self.csrf.lock().expect("csrf lock") = Some(t);
        }
    }

    /// The CSRF token of this client's session (fetches a page when none is known yet).
    pub fn csrf(&self) -> String {
        for path in ["/login", "/settings/profile"] {
            if self.csrf.lock().expect("csrf lock").is_some() {
                break;
            }
            self.get(path);
        }
        self.csrf
            .lock()
            .expect("csrf lock")
            .clone()
            .expect("no csrf token found")
    }

    pub fn get(&self, path: &str) -> Page {
        let res = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .expect("GET");
        let page = Page::from_response(res);
        self.remember_csrf(&page);
        page
    }

    /// GET as htmx does it (with `HX-Request`, and `HX-Target` when given).
    pub fn htmx_get(&self, path: &str, target: Option<&str>) -> Page {
        let mut req = self
            .http
            .get(format!("{}{}", self.base, path))
            .header("HX-Request", "true");
        if let Some(t) = target {
            req = req.header("HX-Target", t);
        }
        Page::from_response(req.send().expect("GET"))
    }

    /// POSTs a form with the session's CSRF token added.
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        let res = self
            .http
            .post(format!("{}{}", self.base, path))
            .form(&all)
            .send()
            .expect("POST");
        let page = Page::from_response(res);
        self.remember_csrf(&page);
        if page.status == 303 && (path == "/login" || path == "/signup") {
            // Signing in renews the session and its token.
            *self.csrf.lock().expect("csrf lock") = None;
        }
        page
    }

    /// POSTs a form with the session's CSRF token and extra request headers.
    pub fn post_form_with_headers(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let token = self.csrf();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        let mut req = self.http.post(format!("{}{}", self.base, path)).form(&all);
        for (h, v) in headers {
            req = req.header(*h, *v);
        }
        let page = Page::from_response(req.send().expect("POST"));
        self.remember_csrf(&page);
        page
    }

    /// POSTs a form as htmx (the token in the `X-CSRF-Token` header).
    pub fn htmx_post(&self, path: &str, fields: &[(&str, &str)], target: Option<&str>) -> Page {
        let token = self.csrf();
        let mut req = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", token)
            .form(fields);
        if let Some(t) = target {
            req = req.header("HX-Target", t);
        }
        Page::from_response(req.send().expect("POST"))
    }

    /// POSTs a multipart form (text fields and `(field, file name, bytes)` files)
    /// with the session's CSRF token in the header, as htmx does when `as_htmx`.
    pub fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
        as_htmx: bool,
    ) -> Page {
        let token = self.csrf();
        let mut form = reqwest::blocking::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (field, name, bytes) in files {
            form = form.part(
                field.to_string(),
                reqwest::blocking::multipart::Part::bytes(bytes.clone())
                    .file_name(name.to_string()),
            );
        }
        let mut req = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("X-CSRF-Token", token)
            .multipart(form);
        if as_htmx {
            req = req.header("HX-Request", "true");
        }
        Page::from_response(req.send().expect("POST multipart"))
    }

    /// GETs raw bytes (images), with the status and content type.
    pub fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let res = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .expect("GET");
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (
            status,
            ct,
            res.bytes().map(|b| b.to_vec()).unwrap_or_default(),
        )
    }

    /// POSTs a form exactly as given (no token added).
    pub fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let res = self
            .http
            .post(format!("{}{}", self.base, path))
            .form(fields)
            .send()
            .expect("POST");
        Page::from_response(res)
    }
}
