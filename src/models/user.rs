//! User accounts: sign-up, sign-in lookups, profile and password changes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{accounts, users};
use crate::db::{is_unique_violation, DbConn};
use crate::models::account::{self, AccountKind};
use crate::models::{now, UserId};

/// A user row with its handle.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub session_epoch: i64,
    pub apps_view: String,
    pub password_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A user together with their handle.
#[derive(Debug, Clone)]
pub struct User {
    pub row: UserRow,
    pub handle: String,
}

impl User {
    pub fn id(&self) -> UserId {
        UserId(self.row.id)
    }
}

/// What a new user is created with (the password already hashed).
pub struct NewUser<'a> {
    pub handle: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
}

/// Why a user could not be created.
#[derive(Debug)]
pub enum CreateUserError {
    HandleTaken,
    EmailTaken,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for CreateUserError {
    fn from(e: diesel::result::Error) -> Self {
        CreateUserError::Db(e)
    }
}

/// Normalizes an e-mail address for storage and lookup.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A plain, strict-enough e-mail check: one `@`, a dotted domain, no spaces or angle brackets.
pub fn validate_email(raw: &str) -> Result<String, String> {
    let email = normalize_email(raw);
    if email.is_empty() {
        return Err("Enter an email address.".to_owned());
    }
    if email.len() > 254 {
        return Err("Email addresses are at most 254 characters.".to_owned());
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && email
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c) || c == '@')
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err("Enter a valid email address, like name@example.com.".to_owned())
    }
}

impl User {
    /// Creates the account row and the user row in one transaction.
    pub fn create(conn: &mut DbConn, new: NewUser<'_>) -> Result<User, CreateUserError> {
        crate::db::transaction(conn, |conn| {
            if account::handle_taken(conn, new.handle)? {
                return Err(CreateUserError::HandleTaken);
            }
            if User::find_by_email(conn, new.email)?.is_some() {
                return Err(CreateUserError::EmailTaken);
            }
            let id = account::insert(conn, new.handle, AccountKind::User).map_err(|e| {
                if is_unique_violation(&e) {
                    CreateUserError::HandleTaken
                } else {
                    CreateUserError::Db(e)
                }
            })?;
            let t = now();
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(id),
                    users::email.eq(new.email),
                    users::name.eq(new.name),
                    users::password_hash.eq(new.password_hash),
                    users::session_epoch.eq(0_i64),
                    users::apps_view.eq("grid"),
                    users::password_changed_at.eq(t),
                    users::created_at.eq(t),
                    users::updated_at.eq(t),
                ))
                .execute(conn)
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        CreateUserError::EmailTaken
                    } else {
                        CreateUserError::Db(e)
                    }
                })?;
            crate::models::password_policy::remember(conn, UserId(id), new.password_hash)?;
            Ok(User::find(conn, UserId(id))?)
        })
    }

    /// Loads a user by id.
    pub fn find(conn: &mut DbConn, id: UserId) -> QueryResult<User> {
        users::table
            .inner_join(accounts::table)
            .filter(users::id.eq(id.0))
            .select((UserRow::as_select(), accounts::handle))
            .first::<(UserRow, String)>(conn)
            .map(|(row, handle)| User { row, handle })
    }

    /// Loads a user by e-mail address (case-insensitive).
    pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
        users::table
            .inner_join(accounts::table)
            .filter(users::email.eq(normalize_email(email)))
            .select((UserRow::as_select(), accounts::handle))
            .first::<(UserRow, String)>(conn)
            .optional()
            .map(|r| r.map(|(row, handle)| User { row, handle }))
    }

    /// Loads a user by handle.
    pub fn find_by_handle(conn: &mut DbConn, handle: &str) -> QueryResult<Option<User>> {
        users::table
            .inner_join(accounts::table)
            .filter(accounts::handle.eq(handle.trim().to_lowercase()))
            .select((UserRow::as_select(), accounts::handle))
            .first::<(UserRow, String)>(conn)
            .optional()
            .map(|r| r.map(|(row, handle)| User { row, handle }))
    }

    /// Finds the user a sign-in form names: an e-mail address or a user ID.
    pub fn find_for_login(conn: &mut DbConn, login: &str) -> QueryResult<Option<User>> {
        if login.contains('@') {
            User::find_by_email(conn, login)
        } else {
            User::find_by_handle(conn, login)
        }
    }

    /// Replaces the password hash, remembers it in the password history, and bumps
    /// the session epoch, which ends every other session of the user. Returns the
    /// new epoch. The caller has checked the password with
    /// `auth::password_policy::check`.
    pub fn set_password(conn: &mut DbConn, id: UserId, hash: &str) -> QueryResult<i64> {
        crate::db::transaction(conn, |conn| {
            let t = now();
            let epoch = diesel::update(users::table.find(id.0))
                .set((
                    users::password_hash.eq(hash),
                    users::password_changed_at.eq(t),
                    users::updated_at.eq(t),
                    users::session_epoch.eq(users::session_epoch + 1_i64),
                ))
                .returning(users::session_epoch)
                .get_result(conn)?;
            crate::models::password_policy::remember(conn, id, hash)?;
            Ok(epoch)
        })
    }

    /// Updates the display name and e-mail address. Returns `Ok(false)` when the
    /// address belongs to another user.
    pub fn update_profile(
        conn: &mut DbConn,
        id: UserId,
        name: &str,
        email: &str,
    ) -> QueryResult<bool> {
        crate::db::transaction(conn, |conn| {
            if let Some(other) = User::find_by_email(conn, email)? {
                if other.row.id != id.0 {
                    return Ok(false);
                }
            }
            let r = diesel::update(users::table.find(id.0))
                .set((
                    users::name.eq(name),
                    users::email.eq(email),
                    users::updated_at.eq(now()),
                ))
                .execute(conn);
            match r {
                Ok(_) => Ok(true),
                Err(e) if is_unique_violation(&e) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    /// Remembers the My Apps layout (`grid` or `list`).
    pub fn set_apps_view(conn: &mut DbConn, id: UserId, view: &str) -> QueryResult<()> {
        diesel::update(users::table.find(id.0))
            .set(users::apps_view.eq(view))
            .execute(conn)
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::validate_email;

    #[test]
    fn emails() {
        assert_eq!(
            validate_email(" A@Example.COM ").as_deref(),
            Ok("a@example.com")
        );
        for bad in [
            "",
            "a",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "<x>@c.com",
            "a@.com",
            "a@b..com",
            "a@b.com.",
        ] {
            assert!(validate_email(bad).is_err(), "{bad} should be refused");
        }
    }
}
