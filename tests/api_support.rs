//! Helpers for the `/v2` tests: a personal access token for a user (made through
//! the model, as the screens do), and a JSON client that sends it. Every reply is
//! checked to be the `status` envelope, whatever the HTTP status.

#![allow(dead_code)]

use std::time::Duration;

use atrium::models::token::ApiKey;
use atrium::models::user::User;
use chrono::NaiveDateTime;
use reqwest::Method;
use serde_json::Value;

use crate::support::TestApp;

/// Every scope a PAT can carry.
pub fn all_scopes() -> Vec<&'static str> {
    atrium::auth::policy::SCOPES
        .iter()
        .map(|(s, _)| *s)
        .collect()
}

/// Creates a token for `handle` with these scopes and expiry; returns (key_id, secret).
pub fn token_with(
    app: &TestApp,
    handle: &str,
    scopes: &[&str],
    expires_at: Option<NaiveDateTime>,
) -> (String, String) {
    let mut conn = app.state.pool.get().expect("conn");
    let user = User::find_by_handle(&mut conn, handle)
        .expect("query")
        .unwrap_or_else(|| panic!("no user {handle}"));
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let created =
        ApiKey::create(&mut conn, user.id(), "test key", &scopes, expires_at).expect("key");
    (created.key.key_id, created.secret)
}

/// A token with every scope.
pub fn token(app: &TestApp, handle: &str) -> String {
    token_with(app, handle, &all_scopes(), None).1
}

/// An API reply: HTTP status and the parsed JSON body.
#[derive(Debug)]
pub struct Reply {
    pub http: u16,
    pub json: Value,
}

impl Reply {
    /// `status.code`.
    pub fn code(&self) -> i64 {
        self.json["status"]["code"].as_i64().unwrap_or(-1)
    }

    /// `status.details`.
    pub fn details(&self) -> String {
        self.json["status"]["details"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Ids of `apps[]`, in order.
    pub fn app_ids(&self) -> Vec<String> {
        self.json["apps"]
            .as_array()
            .unwrap_or_else(|| panic!("no apps[] in {}", self.json))
            .iter()
            .map(|a| a["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// A JSON client for `/v2`, with or without a key.
pub struct Api {
    http: reqwest::blocking::Client,
    base: String,
    key: Option<String>,
}

impl Api {
    pub fn new(app: &TestApp, key: Option<&str>) -> Api {
        Api {
            http: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            base: app.base.clone(),
            key: key.map(str::to_owned),
        }
    }

    /// Sends a request with a raw body and extra headers.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path));
        if let Some(k) = &self.key {
            req = req.header("Authorization", format!("Key {k}"));
        }
        for (h, v) in headers {
            req = req.header(*h, *v);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_owned());
        }
        let res = req.send().expect("request");
        let http = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = res.text().unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "{method} {path} answered {http} with content type {ct:?}: {text}"
        );
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path} answered non-JSON ({e}): {text}"));
        let status = &json["status"];
        assert!(
            status["code"].is_u64()
                && status["description"].is_string()
                && status["req_id"].is_string(),
            "{method} {path} answered without the status envelope: {text}"
        );
        Reply { http, json }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[])
    }

    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(&body.to_string()), &[])
    }

    pub fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(&body.to_string()), &[])
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, Some("{}"), &[])
    }
}
