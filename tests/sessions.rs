//! Session stores: the encrypted cookie (default) and Redis (`ATRIUM_REDIS_URL`),
//! and the session epoch that ends other sessions.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use crate::support::TestApp;

const REDIS: &str = "redis://127.0.0.1:6379";

/// Sends one command to Redis (RESP) and returns the reply as strings: the
/// elements of an array, the value of a bulk string, or the status line.
fn redis(args: &[&str]) -> Vec<String> {
    let mut s = TcpStream::connect("127.0.0.1:6379").expect("Redis on 127.0.0.1:6379");
    let mut cmd = format!("*{}\r\n", args.len());
    for a in args {
        cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s.write_all(cmd.as_bytes()).expect("write");
    let mut r = BufReader::new(&s);
    let mut line = String::new();
    r.read_line(&mut line).expect("read");
    let line = line.trim_end().to_owned();
    let bulk = |r: &mut BufReader<&TcpStream>, header: &str| -> String {
        let len: i64 = header[1..].parse().expect("bulk length");
        if len < 0 {
            return String::new();
        }
        let mut buf = vec![0u8; len as usize + 2];
        std::io::Read::read_exact(r, &mut buf).expect("bulk");
        String::from_utf8_lossy(&buf[..len as usize]).into_owned()
    };
    match line.chars().next() {
        Some('*') => {
            let n: usize = line[1..].parse().unwrap_or(0);
            (0..n)
                .map(|_| {
                    let mut h = String::new();
                    r.read_line(&mut h).expect("read");
                    bulk(&mut r, h.trim_end())
                })
                .collect()
        }
        Some('$') => vec![bulk(&mut r, &line)],
        _ => vec![line],
    }
}

fn session_cookie(app: &TestApp, c: &crate::support::Client) -> String {
    let page = c.get("/settings/profile");
    assert_eq!(page.status, 200, "{}", app.base);
    c.cookie("atrium_session").expect("session cookie")
}

#[test]
fn cookie_sessions_hold_no_readable_data() {
    let app = TestApp::start();
    let c = app.signup("alice");
    let cookie = session_cookie(&app, &c);
    assert!(
        !cookie.contains("alice") && !cookie.contains("uid"),
        "encrypted: {cookie}"
    );
    // A tampered cookie is ignored: the request is signed out.
    let forged = app.client();
    forged.set_cookie(
        "atrium_session",
        &format!(
            "{}{}",
            &cookie[..cookie.len() - 1],
            // Always a different last character, so the cookie really is altered.
            if cookie.ends_with('x') { 'y' } else { 'x' }
        ),
    );
    assert_eq!(forged.get("/settings/profile").status, 303);
}

#[test]
fn redis_sessions_live_in_redis_and_end_with_the_epoch() {
    let app = TestApp::start_with(|c| c.redis_url = Some(REDIS.to_owned()));
    let first = app.signup("alice");
    let cookie = session_cookie(&app, &first);
    assert!(!cookie.contains("alice"));
    // The session's state (its CSRF token among it) is in Redis, not in the cookie.
    let token = first.csrf();
    let holds_session = |k: &String| {
        redis(&["GET", k])
            .first()
            .is_some_and(|v| v.contains(&token))
    };
    let keys = redis(&["KEYS", "*"]);
    let key = keys
        .iter()
        .find(|k| holds_session(k))
        .expect("a Redis key holds the session")
        .clone();

    let second = app.client();
    assert_eq!(
        second
            .post_form(
                "/login",
                &[("login", "alice"), ("password", "correct horse battery")]
            )
            .status,
        303
    );
    assert_eq!(second.get("/settings/profile").status, 200);
    let changed = first.post_form(
        "/settings/password",
        &[
            ("current_password", "correct horse battery"),
            ("new_password", "another secret 9"),
            ("confirm_password", "another secret 9"),
        ],
    );
    assert_eq!(changed.status, 303);
    assert_eq!(first.get("/settings/profile").status, 200);
    assert_eq!(
        second.get("/settings/profile").status,
        303,
        "the other session ended"
    );
    // Sign-out removes the session.
    assert_eq!(first.post_form("/logout", &[]).status, 303);
    assert_eq!(first.get("/settings/profile").status, 303);
    assert!(
        redis(&["EXISTS", &key]) == [":0"],
        "signed-out session deleted from Redis"
    );

    // Deleting the Redis entry ends a live session: the state really lives there.
    let third = app.client();
    assert_eq!(
        third
            .post_form(
                "/login",
                &[("login", "alice"), ("password", "another secret 9")]
            )
            .status,
        303
    );
    let token = third.csrf();
    let keys = redis(&["KEYS", "*"]);
    let live = keys
        .iter()
        .find(|k| {
            redis(&["GET", k])
                .first()
                .is_some_and(|v| v.contains(&token))
        })
        .expect("live session")
        .clone();
    redis(&["DEL", &live]);
    assert_eq!(third.get("/settings/profile").status, 303);
}
