//! The operator CLI: `serve` (bind, data folder, /healthz), `migrate`, and the
//! `admin` commands, run as the real binary.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{database_kind, Client};

fn atrium(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_atrium"));
    c.env_remove("ATRIUM_BIND")
        .env_remove("DATABASE_URL")
        .env_remove("ATRIUM_DATABASE_URL")
        .env_remove("ATRIUM_REDIS_URL")
        .env_remove("ATRIUM_SMTP_URL")
        .env("ATRIUM_DATA_DIR", data)
        .env("ATRIUM_LOG", "warn");
    c
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run atrium");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "atrium failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_healthy(base: &str) {
    let started = Instant::now();
    loop {
        if let Ok(r) = reqwest::blocking::get(format!("{base}/healthz")) {
            if r.status().as_u16() == 200 {
                assert_eq!(r.text().expect("body"), "ok");
                return;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not become healthy"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_uses_the_data_folder_and_the_bind_flag_or_env() {
    if database_kind() != "sqlite" {
        return; // The embedded default is what this test is about; it runs in the SQLite pass.
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let port = free_port();
    let child = atrium(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let _server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base);
    assert!(
        data.join("atrium.db").exists(),
        "SQLite file in the data folder"
    );
    assert!(
        data.join("session.key").exists(),
        "session key kept in the data folder"
    );
    let c = Client::new(&base);
    assert_eq!(c.get("/login").status, 200);
    drop(_server);

    // ATRIUM_BIND works as well, and the same data folder keeps its users.
    let port = free_port();
    let child = atrium(&data)
        .env("ATRIUM_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let _server = Server(child);
    wait_healthy(&format!("http://127.0.0.1:{port}"));
}

#[test]
fn admin_commands_create_users_tokens_and_reset_passwords() {
    if database_kind() != "sqlite" {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = run_ok(atrium(&data).arg("migrate"));
    assert!(out.contains("migrations up to date"), "{out}");
    let out = run_ok(atrium(&data).args([
        "admin",
        "create-user",
        "--email",
        "Ops@Example.com",
        "--handle",
        "ops",
        "--password",
        "operator password",
    ]));
    assert!(out.contains("created user ops <ops@example.com>"), "{out}");
    let dup = atrium(&data)
        .args([
            "admin",
            "create-user",
            "--email",
            "x@example.com",
            "--handle",
            "ops",
            "--password",
            "operator password",
        ])
        .output()
        .expect("run");
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("taken"));
    let bad = atrium(&data)
        .args([
            "admin",
            "create-user",
            "--email",
            "nope",
            "--handle",
            "x1",
            "--password",
            "operator password",
        ])
        .output()
        .expect("run");
    assert!(!bad.status.success());

    let out = run_ok(atrium(&data).args(["admin", "create-token", "--user", "ops"]));
    let pat = out.lines().last().expect("last line").trim().to_owned();
    assert_eq!(pat.len(), 40, "the PAT is printed on the last line: {out}");
    assert!(pat.chars().all(|c| c.is_ascii_alphanumeric()));
    let stored = std::fs::read(data.join("atrium.db")).expect("db file");
    assert!(
        !String::from_utf8_lossy(&stored).contains(&pat),
        "the PAT is stored hashed, never in clear"
    );
    let scoped = run_ok(atrium(&data).args([
        "admin",
        "create-token",
        "--user",
        "ops",
        "--scopes",
        "apps:read",
    ]));
    assert!(scoped.contains("scopes: apps:read"), "{scoped}");
    let unknown = atrium(&data)
        .args([
            "admin",
            "create-token",
            "--user",
            "ops",
            "--scopes",
            "everything",
        ])
        .output()
        .expect("run");
    assert!(!unknown.status.success());

    // Sign in with the operator's password, then reset it: the old session ends.
    let port = free_port();
    let child = atrium(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let _server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base);
    let c = Client::new(&base);
    assert_eq!(
        c.post_form(
            "/login",
            &[("login", "ops"), ("password", "operator password")]
        )
        .status,
        303
    );
    assert_eq!(c.get("/settings/profile").status, 200);
    let out = run_ok(atrium(&data).args([
        "admin",
        "reset-password",
        "--user",
        "ops@example.com",
        "--password",
        "brand new secret",
    ]));
    assert!(out.contains("password of ops reset"), "{out}");
    assert_eq!(
        c.get("/settings/profile").status,
        303,
        "sessions end on reset"
    );
    let c2 = Client::new(&base);
    assert_eq!(
        c2.post_form(
            "/login",
            &[("login", "ops"), ("password", "brand new secret")]
        )
        .status,
        303
    );

    // list-orgs shows what exists.
    assert_eq!(
        c2.post_form(
            "/organizations",
            &[
                ("name", "Ops Org"),
                ("id", "opsorg"),
                ("billing_email", "b@ops.co")
            ]
        )
        .status,
        303
    );
    let out = run_ok(atrium(&data).args(["admin", "list-orgs"]));
    assert!(
        out.lines()
            .any(|l| l.starts_with("opsorg") && l.contains("Ops Org")),
        "{out}"
    );
}

#[test]
fn a_database_that_cannot_be_reached_is_reported_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = atrium(dir.path())
        .args([
            "--database-url",
            "postgres://nobody:secretpw@127.0.0.1:1/none",
            "migrate",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = child.wait().expect("wait");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    assert!(!status.success());
    assert!(err.contains("cannot connect to the database"), "{err}");
    assert!(
        !err.contains("secretpw"),
        "the password is not printed: {err}"
    );
}
