//! Apps: creation, lookup, the My Apps listing (search, sort, pins, pages),
//! duplication and deletion. Every write that touches two tables runs in one
//! transaction (the owner's `app_count` moves with the apps).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{accounts, app_pins, apps};
use crate::db::{is_unique_violation, DbConn};
pub use crate::models::app_list::{AppPage, ListQuery, ListScope, PrivateApps, SortBy};
use crate::models::{now, AccountId, AppId, UserId};

/// An app row.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = apps)]
pub struct App {
    pub id: i64,
    pub owner_id: i64,
    pub handle: String,
    pub name: String,
    pub name_lower: String,
    pub description: String,
    pub default_language: String,
    pub visibility: String,
    pub created_by: Option<i64>,
    #[diesel(deserialize_as = crate::db::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::stamp::Stamp)]
    pub updated_at: NaiveDateTime,
    /// Compliance labels, stored as `,gdpr,hipaa,` (see `models::labels`).
    pub labels: String,
}

/// Private or public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Private,
    Public,
}

impl Visibility {
    pub fn parse(s: &str) -> Option<Visibility> {
        match s.trim().to_ascii_lowercase().as_str() {
            "private" => Some(Visibility::Private),
            "public" => Some(Visibility::Public),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }
}

impl App {
    pub fn app_id(&self) -> AppId {
        AppId(self.id)
    }

    pub fn owner(&self) -> AccountId {
        AccountId(self.owner_id)
    }

    pub fn visibility(&self) -> Visibility {
        // Stored values are exactly these (a CHECK constraint); the policy asks for
        // every card of a listing, so they are compared without allocating.
        match self.visibility.as_str() {
            "public" => Visibility::Public,
            "private" => Visibility::Private,
            other => Visibility::parse(other).unwrap_or(Visibility::Private),
        }
    }

    pub fn is_public(&self) -> bool {
        self.visibility() == Visibility::Public
    }

    /// The compliance labels, in order.
    pub fn label_list(&self) -> Vec<&str> {
        crate::models::labels::split(&self.labels).collect()
    }
}

/// The editable fields of an app, validated.
#[derive(Debug, Clone)]
pub struct AppFields {
    pub name: String,
    pub description: String,
    pub default_language: String,
    pub visibility: Visibility,
}

/// Longest app name accepted.
pub const MAX_NAME_LEN: usize = 100;
/// Longest description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 2000;

/// Checks an app name; the message is shown next to the field.
pub fn validate_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("Names are at most {MAX_NAME_LEN} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("Names cannot contain control characters.".to_owned());
    }
    Ok(name.to_owned())
}

/// Checks a description.
pub fn validate_description(raw: &str) -> Result<String, String> {
    let d = raw.trim();
    if d.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(format!(
            "Descriptions are at most {MAX_DESCRIPTION_LEN} characters."
        ));
    }
    if d.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("Descriptions cannot contain control characters.".to_owned());
    }
    Ok(d.to_owned())
}

/// Why an app could not be created or renamed.
#[derive(Debug)]
pub enum AppWriteError {
    /// The owner already has an app with this id.
    IdTaken,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for AppWriteError {
    fn from(e: diesel::result::Error) -> Self {
        AppWriteError::Db(e)
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl App {
    /// Creates an app owned by `owner`, in one transaction with the owner's app count.
    pub fn create(
        conn: &mut DbConn,
        owner: AccountId,
        handle: &str,
        fields: &AppFields,
        created_by: Option<UserId>,
    ) -> Result<App, AppWriteError> {
        crate::db::transaction(conn, |conn| {
            let t = now();
            let app = diesel::insert_into(apps::table)
                .values((
                    apps::owner_id.eq(owner.0),
                    apps::handle.eq(handle),
                    apps::name.eq(&fields.name),
                    apps::name_lower.eq(fields.name.to_lowercase()),
                    apps::description.eq(&fields.description),
                    apps::default_language.eq(&fields.default_language),
                    apps::visibility.eq(fields.visibility.as_str()),
                    apps::created_by.eq(created_by.map(|u| u.0)),
                    apps::created_at.eq(t),
                    apps::updated_at.eq(t),
                ))
                .returning(apps::all_columns)
                .get_result::<App>(conn)
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        AppWriteError::IdTaken
                    } else {
                        AppWriteError::Db(e)
                    }
                })?;
            diesel::update(accounts::table.find(owner.0))
                .set(accounts::app_count.eq(accounts::app_count + 1_i64))
                .execute(conn)?;
            Ok(app)
        })
    }

    /// Finds an app by its owner and id.
    pub fn find(conn: &mut DbConn, owner: AccountId, handle: &str) -> QueryResult<Option<App>> {
        apps::table
            .filter(apps::owner_id.eq(owner.0))
            .filter(apps::handle.eq(handle))
            .select(App::as_select())
            .first(conn)
            .optional()
    }

    /// Updates the editable fields (and the id, when `new_handle` differs).
    pub fn update(
        conn: &mut DbConn,
        id: AppId,
        new_handle: &str,
        fields: &AppFields,
    ) -> Result<App, AppWriteError> {
        diesel::update(apps::table.find(id.0))
            .set((
                apps::handle.eq(new_handle),
                apps::name.eq(&fields.name),
                apps::name_lower.eq(fields.name.to_lowercase()),
                apps::description.eq(&fields.description),
                apps::default_language.eq(&fields.default_language),
                apps::visibility.eq(fields.visibility.as_str()),
                apps::updated_at.eq(now()),
            ))
            .returning(apps::all_columns)
            .get_result::<App>(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    AppWriteError::IdTaken
                } else {
                    AppWriteError::Db(e)
                }
            })
    }

    /// Sets the app's compliance labels (valid, see `models::labels::parse`) and
    /// runs `audit` in the same transaction.
    pub fn set_labels(
        conn: &mut DbConn,
        id: i64,
        labels: &[String],
        audit: impl FnOnce(&mut DbConn) -> QueryResult<()>,
    ) -> QueryResult<()> {
        crate::db::transaction(conn, |conn| {
            diesel::update(apps::table.find(id))
                .set(apps::labels.eq(crate::models::labels::store(labels)))
                .execute(conn)?;
            audit(conn)
        })
    }

    /// Deletes the app (its pins cascade) and lowers the owner's app count.
    pub fn delete(conn: &mut DbConn, app: &App) -> QueryResult<()> {
        crate::db::transaction(conn, |conn| {
            diesel::delete(app_pins::table.filter(app_pins::app_id.eq(app.id))).execute(conn)?;
            // Its team grants go with it.
            diesel::delete(
                crate::db::schema::team_apps::table
                    .filter(crate::db::schema::team_apps::app_id.eq(app.id)),
            )
            .execute(conn)?;
            let n = diesel::delete(apps::table.find(app.id)).execute(conn)?;
            if n > 0 {
                diesel::update(accounts::table.find(app.owner_id))
                    .set(accounts::app_count.eq(accounts::app_count - 1_i64))
                    .execute(conn)?;
            }
            Ok(())
        })
    }

    /// Copies the app under a new id (and name) for `owner`.
    pub fn duplicate(
        conn: &mut DbConn,
        source: &App,
        owner: AccountId,
        new_handle: &str,
        new_name: &str,
        by: UserId,
    ) -> Result<App, AppWriteError> {
        let fields = AppFields {
            name: new_name.to_owned(),
            description: source.description.clone(),
            default_language: source.default_language.clone(),
            visibility: source.visibility(),
        };
        App::create(conn, owner, new_handle, &fields, Some(by))
    }

    /// One page of the owner's apps as whole rows (the API's listing; see
    /// [`crate::models::app_list`]).
    pub fn list(conn: &mut DbConn, q: &ListQuery) -> QueryResult<AppPage> {
        crate::models::app_list::list::<App>(conn, q)
    }

    /// Pins or unpins the app for the user (idempotent).
    pub fn set_pinned(
        conn: &mut DbConn,
        user: UserId,
        app: AppId,
        pinned: bool,
    ) -> QueryResult<()> {
        if pinned {
            let r = diesel::insert_into(app_pins::table)
                .values((
                    app_pins::user_id.eq(user.0),
                    app_pins::app_id.eq(app.0),
                    app_pins::created_at.eq(now()),
                ))
                .execute(conn);
            match r {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Ok(()),
                Err(e) => Err(e),
            }
        } else {
            diesel::delete(
                app_pins::table
                    .filter(app_pins::user_id.eq(user.0))
                    .filter(app_pins::app_id.eq(app.0)),
            )
            .execute(conn)
            .map(|_| ())
        }
    }

    /// True when the user pinned the app.
    pub fn is_pinned(conn: &mut DbConn, user: UserId, app: AppId) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            app_pins::table
                .filter(app_pins::user_id.eq(user.0))
                .filter(app_pins::app_id.eq(app.0)),
        ))
        .get_result(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(validate_name("  My app ").as_deref(), Ok("My app"));
        assert!(validate_name(&"x".repeat(101)).is_err());
        assert!(validate_name("a\u{0}b").is_err());
        assert!(validate_description("line\nline").is_ok());
        assert!(validate_description(&"x".repeat(2001)).is_err());
    }
}
