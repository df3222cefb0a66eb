//! Apps: creation, lookup, the My Apps listing (search, sort, pins, pages),
//! duplication and deletion. Every write that touches two tables runs in one
//! transaction (the owner's `app_count` moves with the apps).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{accounts, app_pins, apps};
use crate::db::{is_unique_violation, DbConn};
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
    pub created_at: NaiveDateTime,
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

/// Sort key of the apps listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Updated,
    Name,
    Created,
}

impl SortBy {
    pub fn parse(s: &str) -> Option<SortBy> {
        match s {
            "updated" | "modified" | "last_updated" => Some(SortBy::Updated),
            "name" => Some(SortBy::Name),
            "created" => Some(SortBy::Created),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Updated => "updated",
            SortBy::Name => "name",
            SortBy::Created => "created",
        }
    }
}

/// Which of an owner's apps the viewer may list (decided by the policy module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    /// Every app of the owner.
    All,
    /// Only the owner's public apps.
    PublicOnly,
    /// Nothing.
    None,
    /// Public apps and the private ones `private` admits, of those only the apps
    /// carrying every one of `labels` (a team's label restriction).
    Siloed {
        private: PrivateApps,
        labels: Vec<String>,
    },
}

/// Which private apps a [`ListScope::Siloed`] listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateApps {
    All,
    /// Those granted to the teams of this user.
    GrantedTo(UserId),
    None,
}

impl ListScope {
    /// The simplest scope for these parts.
    pub fn from_parts(private: PrivateApps, labels: Vec<String>) -> ListScope {
        match (private, labels.is_empty()) {
            (PrivateApps::All, true) => ListScope::All,
            (PrivateApps::None, true) => ListScope::PublicOnly,
            (private, _) => ListScope::Siloed { private, labels },
        }
    }
}

/// A page request for an owner's apps.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub owner: AccountId,
    pub scope: ListScope,
    /// Case-insensitive substring of the name or id.
    pub search: Option<String>,
    pub sort: SortBy,
    pub ascending: bool,
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
    /// Pins of this user rise to the top of page 1 (and are left out of the pages).
    pub pins_of: Option<UserId>,
}

/// One page of apps.
#[derive(Debug, Clone, Default)]
pub struct AppPage {
    /// The viewer's pinned apps matching the search (page 1 only).
    pub pinned: Vec<App>,
    pub items: Vec<App>,
    pub has_next: bool,
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

type BoxedApps<'a> = apps::BoxedQuery<'a, crate::db::MultiBackend>;

/// The LIKE pattern of the query's search (lower-cased, wildcards escaped), if any.
fn search_pattern(q: &ListQuery) -> Option<String> {
    q.search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", escape_like(&s.to_lowercase())))
}

/// Adds the visibility and search conditions of the query.
fn filtered<'a>(mut query: BoxedApps<'a>, q: &ListQuery) -> BoxedApps<'a> {
    match &q.scope {
        ListScope::PublicOnly
        | ListScope::Siloed {
            private: PrivateApps::None,
            ..
        } => query = query.filter(apps::visibility.eq("public")),
        ListScope::Siloed {
            private: PrivateApps::GrantedTo(user),
            ..
        } => {
            query = query.filter(
                apps::visibility
                    .eq("public")
                    .or(crate::models::granted::GrantedTo(user.0)),
            );
        }
        ListScope::All | ListScope::None | ListScope::Siloed { .. } => {}
    }
    if let ListScope::Siloed { labels, .. } = &q.scope {
        for label in labels {
            query = query.filter(
                apps::labels
                    .like(crate::models::labels::like_pattern(label))
                    .escape('\\'),
            );
        }
    }
    if let Some(pattern) = search_pattern(q) {
        query = query.filter(
            apps::name_lower
                .like(pattern.clone())
                .escape('\\')
                .or(apps::handle.like(pattern).escape('\\')),
        );
    }
    query
}

fn sorted<'a>(query: BoxedApps<'a>, sort: SortBy, ascending: bool) -> BoxedApps<'a> {
    match (sort, ascending) {
        (SortBy::Updated, true) => query.order((apps::updated_at.asc(), apps::id.asc())),
        (SortBy::Updated, false) => query.order((apps::updated_at.desc(), apps::id.desc())),
        (SortBy::Name, true) => query.order((apps::name_lower.asc(), apps::id.asc())),
        (SortBy::Name, false) => query.order((apps::name_lower.desc(), apps::id.desc())),
        (SortBy::Created, true) => query.order((apps::created_at.asc(), apps::id.asc())),
        (SortBy::Created, false) => query.order((apps::created_at.desc(), apps::id.desc())),
    }
}

/// The user's pinned apps among the owner's, filtered and sorted like the page.
///
/// The owner is compared as `owner_id + 0` on purpose: an expression cannot use
/// the `(owner_id, ...)` indexes, so the database starts from the user's few pins
/// (the `app_pins` primary key) and sorts them, instead of walking every app of
/// the owner in index order to pick the pinned ones out (10,000 rows for 3 pins).
fn pinned_apps(conn: &mut DbConn, q: &ListQuery, user: UserId) -> QueryResult<Vec<App>> {
    let pins = app_pins::table
        .filter(app_pins::user_id.eq(user.0))
        .select(app_pins::app_id);
    let query = apps::table
        .filter((apps::owner_id + 0_i64).eq(q.owner.0))
        .filter(apps::id.eq_any(pins))
        .into_boxed();
    sorted(filtered(query, q), q.sort, q.ascending)
        .select(App::as_select())
        .load(conn)
}

/// The FTS5 trigram index of `apps (name_lower, handle)`: SQLite only (created by
/// the SQLite migration `apps_search`, kept in step by triggers), so it is declared
/// here rather than in the shared `schema.rs`.
mod fts {
    diesel::table! {
        apps_search (rowid) {
            rowid -> BigInt,
            /// The hidden column named after the table, the left side of `MATCH`.
            #[sql_name = "apps_search"]
            document -> Text,
        }
    }
    diesel::infix_operator!(Matches, " MATCH ");
}

/// At most this many index hits, a search reads its candidates by id; more hits
/// mean a common term, for which walking the owner's apps in page order finds a
/// page of matches quickly (the plain LIKE filter).
const SEARCH_BY_ID_MAX: i64 = 200;

/// For a search of 3 characters or more on SQLite: the ids of every app (of any
/// owner) whose name or id may contain the term, when there are few. The trigram
/// index finds a superset of the LIKE matches (it folds case the same way or more),
/// and the LIKE filter still decides, so results are exactly those of LIKE alone.
/// `None`: search with the LIKE filter alone.
fn search_hits(conn: &mut DbConn, q: &ListQuery) -> QueryResult<Option<Vec<i64>>> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Ok(None);
    }
    let Some(term) = q
        .search
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| t.chars().count() >= 3 && !t.contains('\0'))
    else {
        return Ok(None);
    };
    // One FTS5 phrase: inside double quotes every character is literal except `"`,
    // written twice; with the trigram tokenizer a phrase matches as a substring.
    let phrase = format!("\"{}\"", term.replace('"', "\"\""));
    let ids: Vec<i64> = fts::apps_search::table
        .filter(fts::Matches::new(
            fts::apps_search::document,
            phrase.into_sql::<diesel::sql_types::Text>(),
        ))
        .select(fts::apps_search::rowid)
        .limit(SEARCH_BY_ID_MAX + 1)
        .load(conn)?;
    Ok((ids.len() as i64 <= SEARCH_BY_ID_MAX).then_some(ids))
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
        conn.transaction(|conn| {
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
        conn.transaction(|conn| {
            diesel::update(apps::table.find(id))
                .set(apps::labels.eq(crate::models::labels::store(labels)))
                .execute(conn)?;
            audit(conn)
        })
    }

    /// Deletes the app (its pins cascade) and lowers the owner's app count.
    pub fn delete(conn: &mut DbConn, app: &App) -> QueryResult<()> {
        conn.transaction(|conn| {
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

    /// One page of the owner's apps as the query describes, in a fixed number of
    /// statements whatever the number of apps: the viewer's matching pins (page 1
    /// only), the search index's candidates (SQLite, terms of 3+ characters), then
    /// the page with the pins left out (a subquery, so the statement's text does not
    /// change with the number of pins).
    pub fn list(conn: &mut DbConn, q: &ListQuery) -> QueryResult<AppPage> {
        if q.scope == ListScope::None {
            return Ok(AppPage::default());
        }
        let per_page = q.per_page.clamp(1, 1000);
        let page = q.page.max(1);
        let pinned = match q.pins_of {
            Some(user) if page == 1 => pinned_apps(conn, q, user)?,
            _ => Vec::new(),
        };
        let base = match search_hits(conn, q)? {
            // A rare term: read its few candidates by id (`owner_id + 0`, as for the
            // pins, keeps the database from walking the owner's index instead).
            Some(ids) => apps::table
                .filter((apps::owner_id + 0_i64).eq(q.owner.0))
                .filter(apps::id.eq_any(ids))
                .into_boxed(),
            None => apps::table
                .filter(apps::owner_id.eq(q.owner.0))
                .into_boxed(),
        };
        let mut rest = filtered(base, q);
        if let Some(user) = q.pins_of {
            rest = rest.filter(
                apps::id.ne_all(
                    app_pins::table
                        .filter(app_pins::user_id.eq(user.0))
                        .select(app_pins::app_id),
                ),
            );
        }
        let mut items: Vec<App> = sorted(rest, q.sort, q.ascending)
            .offset((page - 1).saturating_mul(per_page))
            .limit(per_page + 1)
            .select(App::as_select())
            .load(conn)?;
        let has_next = items.len() as i64 > per_page;
        items.truncate(per_page as usize);
        Ok(AppPage {
            pinned,
            items,
            has_next,
        })
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
