//! The shared handle namespace of users and organizations.

use diesel::prelude::*;

use crate::db::schema::accounts;
use crate::db::DbConn;
use crate::models::AccountId;

/// Words that can never be a user, org or app handle, because URLs use them.
pub const RESERVED: &[&str] = &[
    "about",
    "account",
    "accounts",
    "admin",
    "api",
    "apps",
    "atrium",
    "billing",
    "collaborations",
    "docs",
    "explore",
    "healthz",
    "help",
    "invitations",
    "keys",
    "login",
    "logout",
    "me",
    "metrics",
    "new",
    "organizations",
    "password",
    "profile",
    "reset",
    "root",
    "security",
    "settings",
    "signin",
    "signout",
    "signup",
    "sso",
    "starred",
    "static",
    "support",
    "system",
    "teams",
    "tokens",
    "users",
    "v1",
    "v2",
    "www",
];

/// Longest handle accepted.
pub const MAX_HANDLE_LEN: usize = 48;

/// Checks a user / org / app handle: `[a-z0-9][a-z0-9_-]{1,47}` and not reserved.
/// Returns the message to show next to the field when it is refused.
pub fn validate_handle(raw: &str, what: &str) -> Result<String, String> {
    let handle = raw.trim();
    if handle.is_empty() {
        return Err(format!("Enter {what}."));
    }
    if handle.chars().count() < 2 || handle.chars().count() > MAX_HANDLE_LEN {
        return Err(format!(
            "{} must be 2 to {MAX_HANDLE_LEN} characters long.",
            capitalize(what)
        ));
    }
    if handle.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("{} must be lower case.", capitalize(what)));
    }
    let mut chars = handle.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !first_ok || !rest_ok {
        return Err(format!(
            "{} may use only a-z, 0-9, '-' and '_', and must start with a letter or digit.",
            capitalize(what)
        ));
    }
    if RESERVED.contains(&handle) {
        return Err(format!("\"{handle}\" is reserved; choose another {what}."));
    }
    Ok(handle.to_owned())
}

fn capitalize(s: &str) -> String {
    let s = s.trim_start_matches("a ").trim_start_matches("an ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// What kind of account a handle names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    User,
    Org,
}

impl AccountKind {
    pub fn parse(s: &str) -> AccountKind {
        if s == "org" {
            AccountKind::Org
        } else {
            AccountKind::User
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::User => "user",
            AccountKind::Org => "org",
        }
    }
}

/// A user or an organization, as an owner of apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub id: AccountId,
    pub handle: String,
    pub kind: AccountKind,
    pub app_count: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts)]
struct AccountRow {
    id: i64,
    handle: String,
    kind: String,
    app_count: i64,
}

impl From<AccountRow> for Owner {
    fn from(r: AccountRow) -> Owner {
        Owner {
            id: AccountId(r.id),
            handle: r.handle,
            kind: AccountKind::parse(&r.kind),
            app_count: r.app_count,
        }
    }
}

impl Owner {
    /// Looks an owner up by handle.
    pub fn find_by_handle(conn: &mut DbConn, handle: &str) -> QueryResult<Option<Owner>> {
        accounts::table
            .filter(accounts::handle.eq(handle))
            .select(AccountRow::as_select())
            .first(conn)
            .optional()
            .map(|r| r.map(Owner::from))
    }

    /// Looks an owner up by id.
    pub fn find(conn: &mut DbConn, id: AccountId) -> QueryResult<Owner> {
        accounts::table
            .find(id.0)
            .select(AccountRow::as_select())
            .first(conn)
            .map(Owner::from)
    }

    pub fn is_org(&self) -> bool {
        self.kind == AccountKind::Org
    }
}

/// True when the handle is taken by a user or an org.
pub fn handle_taken(conn: &mut DbConn, handle: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        accounts::table.filter(accounts::handle.eq(handle)),
    ))
    .get_result(conn)
}

/// Inserts the `accounts` row of a new user or org and returns its id.
pub(crate) fn insert(conn: &mut DbConn, handle: &str, kind: AccountKind) -> QueryResult<i64> {
    diesel::insert_into(accounts::table)
        .values((
            accounts::handle.eq(handle),
            accounts::kind.eq(kind.as_str()),
            accounts::app_count.eq(0_i64),
            accounts::created_at.eq(super::now()),
        ))
        .returning(accounts::id)
        .get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert_eq!(validate_handle(" acme ", "an ID").as_deref(), Ok("acme"));
        assert!(validate_handle("Acme", "an ID")
            .unwrap_err()
            .contains("lower case"));
        assert!(validate_handle("a", "an ID").is_err());
        assert!(validate_handle("settings", "an ID")
            .unwrap_err()
            .contains("reserved"));
        assert!(validate_handle("-x", "an ID").is_err());
        assert!(validate_handle("a<b>", "an ID").is_err());
        assert!(validate_handle("ünï", "an ID").is_err());
        assert!(validate_handle(&"a".repeat(49), "an ID").is_err());
        assert_eq!(validate_handle("a1_b-c", "an ID").as_deref(), Ok("a1_b-c"));
        assert_eq!(
            validate_handle("", "an organization ID").unwrap_err(),
            "Enter an organization ID."
        );
    }
}
