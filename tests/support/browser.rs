//! A real headless Chromium, driven through chromedriver (WebDriver) with
//! fantoccini. Each [`Browser`] starts its own chromedriver on a free loopback
//! port with a fresh browser profile, and kills both when dropped.
//!
//! Missing chromedriver or Chromium is a test failure that says to run
//! `tests/run` (which installs them), never a silent skip.
//!
//! Waiting is always by polling a condition ([`Browser::wait_until`] and the
//! helpers built on it), never by fixed sleeps.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long any one condition may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(50);

/// A multi-threaded tokio runtime for a browser test (the test server runs on its
/// own actix system in another thread; [`crate::support::TestApp`] must be
/// created and dropped outside `block_on`).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn executable(var: &str, default: &str, package: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_owned()));
    if !path.is_file() {
        panic!(
            "{} not found ({var}={}). The browser tests need Debian's `{package}`: run tests/run \
             (as root it installs chromium and chromium-driver; otherwise it prints the apt-get \
             line), or set {var} to the executable.",
            package,
            path.display()
        );
    }
    path
}

/// A chromedriver process in its own process group (so that the Chromium it starts
/// goes down with it), with a temporary folder for the browser profile and logs.
struct Driver {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Driver {
    async fn start() -> Driver {
        use std::os::unix::process::CommandExt;
        let chromedriver = executable(
            "ATRIUM_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromium-driver",
        );
        let dir = tempfile::tempdir().expect("tempdir for chromedriver");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = dir.path().join("chromedriver.log");
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let mut driver = Driver { child, port, dir };
        let started = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return driver;
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!(
                    "chromedriver exited ({status}) before answering on port {port}; its log:\n{}",
                    driver.log()
                );
            }
            if started.elapsed() > TIMEOUT {
                panic!(
                    "chromedriver did not answer on port {port} within {TIMEOUT:?}; its log:\n{}",
                    driver.log()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("chromedriver.log"))
            .unwrap_or_else(|e| format!("(no log: {e})"));
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium processes it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session pointed at one test server.
pub struct Browser {
    /// The WebDriver session, for anything the helpers below do not cover.
    pub client: Client,
    base: String,
    driver: Driver,
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium for the server at `base`.
    pub async fn launch(base: &str) -> Browser {
        let chromium = executable("ATRIUM_CHROMIUM", "/usr/bin/chromium", "chromium");
        let driver = Driver::start().await;
        let profile = driver.dir.path().join("profile");
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                    "--window-size=1280,900",
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start Chromium ({}): {e}; chromedriver log:\n{}",
                    chromium.display(),
                    driver.log()
                )
            });
        Browser {
            client,
            base: base.to_owned(),
            driver,
        }
    }

    /// Ends the WebDriver session (Chromium exits); chromedriver is killed on drop.
    pub async fn close(self) {
        let Browser { client, driver, .. } = self;
        let _ = client.close().await;
        drop(driver);
    }

    /// Opens a path of the test server.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{}", self.base, path);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Path and query of the current page.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Runs a script (`arguments[0..]` are `args`) and returns its result.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// What the page looks like now, for failure messages.
    pub async fn describe(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let text = self
            .client
            .execute(
                "const m = document.querySelector('#modal'); \
                 const t = document.querySelector('#toast'); \
                 return 'body: ' + document.body.innerText.slice(0, 1500) + \
                   '\\n#modal: ' + (m ? m.innerHTML.slice(0, 1500) : '(none)') + \
                   '\\n#toast: ' + (t && !t.hidden ? t.textContent : '(hidden)');",
                vec![],
            )
            .await
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|e| format!("(page not readable: {e})"));
        format!("at {url}\n{text}")
    }

    /// Polls `script` (which must return a boolean) until it returns true; fails
    /// after [`TIMEOUT`] saying `what` was expected and what the page shows.
    pub async fn wait_until(&self, what: &str, script: &str, args: Vec<Value>) {
        let started = Instant::now();
        loop {
            match self.client.execute(script, args.clone()).await {
                Ok(Value::Bool(true)) => return,
                Ok(_) => {}
                // The page may be navigating; try again.
                Err(_) if started.elapsed() < TIMEOUT => {}
                Err(e) => panic!("waiting for {what}: {e}\n{}", self.describe().await),
            }
            if started.elapsed() > TIMEOUT {
                panic!(
                    "timed out after {TIMEOUT:?} waiting for {what}\n{}",
                    self.describe().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until an element matching `css` is present and visible, and returns it.
    pub async fn visible(&self, css: &str) -> Element {
        self.wait_until(
            &format!("{css} to be visible"),
            "const e = document.querySelector(arguments[0]); \
             return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';",
            vec![json!(css)],
        )
        .await;
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} vanished: {e}"))
    }

    /// Waits until nothing matches `css`.
    pub async fn gone(&self, css: &str) {
        self.wait_until(
            &format!("{css} to be gone"),
            "return document.querySelector(arguments[0]) === null;",
            vec![json!(css)],
        )
        .await;
    }

    /// Clicks the visible element matching `css`.
    pub async fn click(&self, css: &str) {
        let e = self.visible(css).await;
        e.click()
            .await
            .unwrap_or_else(|err| panic!("cannot click {css}: {err}"));
    }

    /// Replaces the text of the input matching `css` by typing `value`.
    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.visible(css).await;
        e.clear()
            .await
            .unwrap_or_else(|err| panic!("cannot clear {css}: {err}"));
        e.send_keys(value)
            .await
            .unwrap_or_else(|err| panic!("cannot type into {css}: {err}"));
    }

    /// Types `keys` at the end of the input matching `css` (fires `input` events).
    pub async fn type_keys(&self, css: &str, keys: &str) {
        let e = self.visible(css).await;
        e.send_keys(keys)
            .await
            .unwrap_or_else(|err| panic!("cannot type into {css}: {err}"));
    }

    /// Chooses the option with `value` in the select matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let e = self.visible(css).await;
        e.select_by_value(value)
            .await
            .unwrap_or_else(|err| panic!("cannot choose {value} in {css}: {err}"));
    }

    /// Current value of the form control matching `css`.
    pub async fn value(&self, css: &str) -> String {
        let e = self.visible(css).await;
        e.prop("value")
            .await
            .unwrap_or_else(|err| panic!("cannot read the value of {css}: {err}"))
            .unwrap_or_default()
    }

    /// Texts (trimmed, whitespace collapsed) of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let v = self
            .js(
                "return Array.from(document.querySelectorAll(arguments[0]))
                   .map(e => e.textContent.replace(/\\s+/g, ' ').trim());",
                vec![json!(css)],
            )
            .await;
        serde_json::from_value(v).expect("texts")
    }

    /// Waits until the text of the first element matching `css` contains `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) {
        self.wait_until(
            &format!("{css} to contain {needle:?}"),
            "const e = document.querySelector(arguments[0]); \
             return !!e && e.textContent.replace(/\\s+/g, ' ').includes(arguments[1]);",
            vec![json!(css), json!(needle)],
        )
        .await;
    }

    /// Waits until the current path (without the query) is `path`.
    pub async fn wait_for_path(&self, path: &str) {
        self.wait_until(
            &format!("the page {path}"),
            "return location.pathname === arguments[0] && document.readyState === 'complete';",
            vec![json!(path)],
        )
        .await;
    }

    /// IDs of the app cards shown, in order.
    pub async fn card_ids(&self) -> Vec<String> {
        let v = self
            .js(
                "return Array.from(document.querySelectorAll('[data-testid=apps] [data-app-id]'))
                   .filter(e => e.getClientRects().length > 0)
                   .map(e => e.getAttribute('data-app-id'));",
                vec![],
            )
            .await;
        serde_json::from_value(v).expect("card ids")
    }

    /// Waits until exactly these app cards are shown, in this order.
    pub async fn wait_for_cards(&self, ids: &[&str]) {
        self.wait_until(
            &format!("the app cards {ids:?}"),
            "const ids = Array.from(document.querySelectorAll('[data-testid=apps] [data-app-id]'))
               .filter(e => e.getClientRects().length > 0)
               .map(e => e.getAttribute('data-app-id'));
             return JSON.stringify(ids) === JSON.stringify(arguments[0]);",
            vec![json!(ids)],
        )
        .await;
    }

    /// Marks the current document so that [`Browser::same_document`] can tell
    /// whether a later step reloaded the page (htmx swaps keep the mark).
    pub async fn mark_document(&self) {
        self.js("window.__atriumMark = 'kept'; return true;", vec![])
            .await;
    }

    /// True when the document marked by [`Browser::mark_document`] is still loaded.
    pub async fn same_document(&self) -> bool {
        self.js("return window.__atriumMark === 'kept';", vec![])
            .await
            .as_bool()
            .unwrap_or(false)
    }
}
