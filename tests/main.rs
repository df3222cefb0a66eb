//! The one integration test binary. Every test starts its own server on a
//! loopback port with a fresh database: a temporary SQLite file, or — when
//! `ATRIUM_TEST_DATABASE_URL` names a PostgreSQL server — a schema of its own.

mod support;

mod accounts;
mod api_apps;
mod api_content;
mod api_identity_providers;
mod api_invitations;
mod api_members;
mod api_models;
mod api_orgs_keys;
mod api_security;
mod api_support;
mod api_teams;
mod app_search;
mod apps;
mod audit_log;
mod browser;
mod browser_content;
mod browser_members;
mod browser_saml;
mod browser_security;
mod browser_teams;
mod clarifai_client;
mod cli;
mod client_ip;
mod content_policy;
mod inputs;
mod invitations;
mod mail_smtp;
mod members;
mod model_audit;
mod models;
mod orgs;
mod policy_table;
mod query_count;
mod saml;
mod security;
mod sessions;
mod teams;
mod tokens_ui;
mod training;
mod two_factor;
mod user_sessions;
