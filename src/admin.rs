//! Operator commands (`atrium admin ...`): create a user, issue a token, reset a
//! password, list organizations. They run against the configured database directly.

use clap::Subcommand;

use crate::auth::password;
use crate::auth::password_policy::{self, Who};
use crate::config::Config;
use crate::db::{self, DbConn};
use crate::models::account::validate_handle;
use crate::models::token::ApiKey;
use crate::models::user::{validate_email, CreateUserError, NewUser, User};

/// `atrium admin <command>`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user account.
    CreateUser {
        #[arg(long)]
        email: String,
        /// The user ID (handle).
        #[arg(long)]
        handle: String,
        /// The password (or set ATRIUM_ADMIN_PASSWORD to keep it out of the shell history).
        #[arg(long, env = "ATRIUM_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Create a personal access token for a user; prints it on the last line.
    CreateToken {
        /// The user ID (handle) or e-mail.
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "created by atrium admin")]
        description: String,
        /// Comma-separated scopes (default: all).
        #[arg(long)]
        scopes: Option<String>,
    },
    /// Set a new password for a user; ends all their sessions.
    ResetPassword {
        /// The user ID (handle) or e-mail.
        #[arg(long)]
        user: String,
        #[arg(long, env = "ATRIUM_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Turn off a user's two-factor authentication (they lost their device and
    /// their recovery codes); recorded in their organization's audit log.
    DisableTwoFactor {
        /// The user ID (handle) or e-mail.
        #[arg(long)]
        user: String,
    },
    /// List organizations with their member and app counts.
    ListOrgs,
}

/// The one password checker, with its refusal as the command's error.
fn check_password(conn: &mut DbConn, who: &Who, pw: &str) -> Result<(), String> {
    let checked = password_policy::check(conn, who, pw).map_err(|e| e.to_string())?;
    if checked.ok() {
        Ok(())
    } else {
        Err(format!("password: {}", checked.message()))
    }
}

fn find_user(conn: &mut DbConn, who: &str) -> Result<User, String> {
    User::find_for_login(conn, who)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user {who:?}"))
}

/// Turns a user's two-factor off and records it (with the operator as actor).
fn disable_two_factor(conn: &mut DbConn, user: &User) -> diesel::QueryResult<()> {
    use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
    crate::db::transaction(conn, |conn| {
        crate::models::two_factor::disable(conn, user.id())?;
        if let Some(m) = crate::models::org::Membership::for_user(conn, user.id())? {
            audit::record(
                conn,
                Some(m.org_id),
                &AuditActor {
                    user_id: None,
                    label: "atrium admin".to_owned(),
                    ip: "local".to_owned(),
                },
                EventKind::TwoFactorDisable,
                &AuditTarget::user(user.id(), &user.handle),
                serde_json::json!({ "confirmed_with": "operator command" }),
            )?;
        }
        Ok(())
    })
}

/// Runs one operator command.
pub fn run(config: &Config, command: AdminCommand) -> Result<(), String> {
    // Applies migrations first so the commands work on a fresh data folder.
    let pool = db::connect(&config.database_url, 1, Default::default())?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let conn = &mut *conn;
    match command {
        AdminCommand::CreateUser {
            email,
            handle,
            password: pw,
            name,
        } => {
            let email = validate_email(&email)?;
            let handle = validate_handle(&handle, "a user ID")?;
            let who = Who {
                handle: handle.clone(),
                name: name.trim().to_owned(),
                email: email.clone(),
                ..Who::default()
            };
            check_password(conn, &who, &pw)?;
            let hash = password::hash(&pw)?;
            let user = User::create(
                conn,
                NewUser {
                    handle: &handle,
                    email: &email,
                    name: name.trim(),
                    password_hash: &hash,
                },
            )
            .map_err(|e| match e {
                CreateUserError::HandleTaken => format!("the user ID {handle} is taken"),
                CreateUserError::EmailTaken => format!("an account with {email} exists"),
                CreateUserError::Db(e) => e.to_string(),
            })?;
            println!("created user {} <{}>", user.handle, user.row.email);
        }
        AdminCommand::CreateToken {
            user,
            description,
            scopes,
        } => {
            let user = find_user(conn, &user)?;
            let scopes: Vec<String> = match scopes {
                Some(s) => {
                    let list: Vec<String> = s
                        .split(',')
                        .map(|x| x.trim().to_owned())
                        .filter(|x| !x.is_empty())
                        .collect();
                    if let Some(bad) = list
                        .iter()
                        .find(|x| !crate::auth::policy::is_known_scope(x))
                    {
                        return Err(format!("unknown scope {bad:?}"));
                    }
                    list
                }
                None => crate::auth::policy::SCOPES
                    .iter()
                    .map(|(s, _)| (*s).to_owned())
                    .collect(),
            };
            let created = ApiKey::create(conn, user.id(), &description, &scopes, None)
                .map_err(|e| e.to_string())?;
            println!(
                "token {} for {} (scopes: {})",
                created.key.key_id,
                user.handle,
                scopes.join(",")
            );
            println!("{}", created.secret);
        }
        AdminCommand::ResetPassword { user, password: pw } => {
            let user = find_user(conn, &user)?;
            // The organization's policy applies here too (reuse rule included).
            let who = Who::for_user(conn, &user).map_err(|e| e.to_string())?;
            check_password(conn, &who, &pw)?;
            let hash = password::hash(&pw)?;
            User::set_password(conn, user.id(), &hash).map_err(|e| e.to_string())?;
            println!(
                "password of {} reset; their sessions are ended",
                user.handle
            );
        }
        AdminCommand::DisableTwoFactor { user } => {
            let user = find_user(conn, &user)?;
            disable_two_factor(conn, &user).map_err(|e| e.to_string())?;
            println!("two-factor authentication of {} is off", user.handle);
        }
        AdminCommand::ListOrgs => {
            use crate::db::schema::{accounts, memberships, orgs};
            use diesel::prelude::*;
            let rows: Vec<(i64, String, String, i64)> = orgs::table
                .inner_join(accounts::table)
                .select((orgs::id, accounts::handle, orgs::name, accounts::app_count))
                .order(accounts::handle.asc())
                .load(conn)
                .map_err(|e| e.to_string())?;
            println!("{:<32} {:<32} {:>8} {:>8}", "ID", "NAME", "MEMBERS", "APPS");
            for (id, handle, name, apps) in rows {
                let members: i64 = memberships::table
                    .filter(memberships::org_id.eq(id))
                    .count()
                    .get_result(conn)
                    .map_err(|e| e.to_string())?;
                println!("{handle:<32} {name:<32} {members:>8} {apps:>8}");
            }
        }
    }
    Ok(())
}
