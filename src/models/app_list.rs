//! The listing of an owner's apps (My Apps and `GET /v2/users/{U}/apps`): who may
//! see what ([`ListScope`], decided by the policy module), search, sort, pins and
//! pages.
//!
//! This is the busiest read of the portal, so its statements are written out
//! ([`ListStatement`]) rather than built through diesel's boxed query DSL: the
//! boxed query spent more CPU assembling and quoting its SQL on every request
//! (about 10 % of a My Apps page) than SQLite spent running it. The text depends
//! only on the shape of the request (scope, search or not, sort), so diesel
//! prepares each shape once per connection and then only binds and steps it. The
//! page reads [`AppCard`]s, the columns a card shows; the API reads whole [`App`]s.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use crate::db::stamp::Stamp;
use crate::db::{DbConn, MultiBackend};
use crate::models::app::{escape_like, App};
use crate::models::{AccountId, UserId};

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

    /// The `ORDER BY` clause (the id breaks ties, so pages never overlap).
    fn order_by(self, ascending: bool) -> &'static str {
        match (self, ascending) {
            (SortBy::Updated, true) => " ORDER BY apps.updated_at ASC, apps.id ASC",
            (SortBy::Updated, false) => " ORDER BY apps.updated_at DESC, apps.id DESC",
            (SortBy::Name, true) => " ORDER BY apps.name_lower ASC, apps.id ASC",
            (SortBy::Name, false) => " ORDER BY apps.name_lower DESC, apps.id DESC",
            (SortBy::Created, true) => " ORDER BY apps.created_at ASC, apps.id ASC",
            (SortBy::Created, false) => " ORDER BY apps.created_at DESC, apps.id DESC",
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

/// One page of apps (or of cards).
#[derive(Debug, Clone)]
pub struct AppPage<R = App> {
    /// The viewer's pinned apps matching the search (page 1 only).
    pub pinned: Vec<R>,
    pub items: Vec<R>,
    pub has_next: bool,
}

impl<R> Default for AppPage<R> {
    fn default() -> Self {
        AppPage {
            pinned: Vec::new(),
            items: Vec::new(),
            has_next: false,
        }
    }
}

/// What a card of My Apps shows, and what the policy needs to decide its buttons.
#[derive(Debug, Clone, Queryable, PartialEq)]
pub struct AppCard {
    pub id: i64,
    pub owner_id: i64,
    pub handle: String,
    pub name: String,
    pub description: String,
    /// `visibility = 'public'`.
    pub public: bool,
    /// Compliance labels, stored as `,gdpr,hipaa,` (see `models::labels`).
    pub labels: String,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
}

impl AppCard {
    pub fn owner(&self) -> AccountId {
        AccountId(self.owner_id)
    }

    pub fn is_public(&self) -> bool {
        self.public
    }

    /// The compliance labels, in order.
    pub fn label_list(&self) -> Vec<&str> {
        crate::models::labels::split(&self.labels).collect()
    }
}

/// A row type the listing can load: its columns as SQL, in field order.
pub trait Listed: Sized + 'static {
    const COLUMNS: &'static str;
    type Sql: 'static;
}

impl Listed for App {
    const COLUMNS: &'static str = "apps.id, apps.owner_id, apps.handle, apps.name, \
        apps.name_lower, apps.description, apps.default_language, apps.visibility, \
        apps.created_by, apps.created_at, apps.updated_at, apps.labels";
    type Sql = (
        BigInt,
        BigInt,
        Text,
        Text,
        Text,
        Text,
        Text,
        Text,
        Nullable<BigInt>,
        Timestamp,
        Timestamp,
        Text,
    );
}

impl Listed for AppCard {
    const COLUMNS: &'static str = "apps.id, apps.owner_id, apps.handle, apps.name, \
        apps.description, apps.visibility = 'public', apps.labels, apps.updated_at";
    type Sql = (BigInt, BigInt, Text, Text, Text, Bool, Text, Timestamp);
}

/// Which rows a [`ListStatement`] reads.
#[derive(Debug, Clone)]
enum Rows {
    /// The viewer's pins among the owner's apps. The owner is compared as
    /// `owner_id + 0` on purpose: an expression cannot use the `(owner_id, ...)`
    /// indexes, so the database starts from the user's few pins (the `app_pins`
    /// key) and sorts them, instead of walking every app of the owner in index
    /// order to pick the pinned ones out (10,000 rows for 3 pins).
    Pinned(UserId),
    /// A page of the owner's apps in index order, without the viewer's pins.
    Page { unpinned: Option<UserId> },
    /// A page among the search index's candidates (a JSON array of ids, so the
    /// statement's text does not change with their number), read by id
    /// (`owner_id + 0` again).
    Candidates {
        ids: String,
        unpinned: Option<UserId>,
    },
    /// A page among the trigram index's hits for a phrase (`owner_id + 0`).
    Indexed {
        phrase: String,
        unpinned: Option<UserId>,
    },
}

/// One statement of the listing, written out (see the module's documentation).
/// Its text is a function of its shape, which diesel's statement cache keys on.
pub struct ListStatement<R> {
    owner: AccountId,
    scope: ListScope,
    sort: SortBy,
    ascending: bool,
    rows: Rows,
    /// The search's LIKE pattern (lower-cased, wildcards escaped).
    pattern: Option<String>,
    /// `LIKE` patterns of the scope's required labels.
    labels: Vec<String>,
    /// The condition of a Team Contributor's granted apps.
    granted: Option<crate::models::granted::GrantedTo>,
    limit: i64,
    offset: i64,
    row: std::marker::PhantomData<R>,
}

impl<R: 'static> QueryId for ListStatement<R> {
    type QueryId = ();
    // Not static: diesel keys the prepared statement on the SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<R: Listed> Query for ListStatement<R> {
    type SqlType = R::Sql;
}

impl<R> RunQueryDsl<DbConn> for ListStatement<R> {}

impl<R: Listed> QueryFragment<MultiBackend> for ListStatement<R> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        out.push_sql(R::COLUMNS);
        out.push_sql(" FROM apps WHERE ");
        let unpinned = match &self.rows {
            Rows::Pinned(user) => {
                out.push_sql("apps.owner_id + 0 = ");
                out.push_bind_param::<BigInt, _>(&self.owner.0)?;
                out.push_sql(
                    " AND apps.id IN (SELECT app_pins.app_id FROM app_pins \
                     WHERE app_pins.user_id = ",
                );
                out.push_bind_param::<BigInt, _>(&user.0)?;
                out.push_sql(")");
                None
            }
            Rows::Page { unpinned } => {
                out.push_sql("apps.owner_id = ");
                out.push_bind_param::<BigInt, _>(&self.owner.0)?;
                unpinned.as_ref()
            }
            Rows::Candidates { ids, unpinned } => {
                out.push_sql("apps.owner_id + 0 = ");
                out.push_bind_param::<BigInt, _>(&self.owner.0)?;
                out.push_sql(" AND apps.id IN (SELECT value FROM json_each(");
                out.push_bind_param::<Text, _>(ids)?;
                out.push_sql("))");
                unpinned.as_ref()
            }
            Rows::Indexed { phrase, unpinned } => {
                out.push_sql("apps.owner_id + 0 = ");
                out.push_bind_param::<BigInt, _>(&self.owner.0)?;
                out.push_sql(
                    " AND apps.id IN (SELECT apps_search.rowid FROM apps_search \
                     WHERE apps_search MATCH ",
                );
                out.push_bind_param::<Text, _>(phrase)?;
                out.push_sql(")");
                unpinned.as_ref()
            }
        };
        match &self.scope {
            ListScope::PublicOnly
            | ListScope::Siloed {
                private: PrivateApps::None,
                ..
            } => out.push_sql(" AND apps.visibility = 'public'"),
            ListScope::Siloed {
                private: PrivateApps::GrantedTo(_),
                ..
            } => {
                if let Some(granted) = &self.granted {
                    out.push_sql(" AND (apps.visibility = 'public' OR ");
                    granted.walk_ast(out.reborrow())?;
                    out.push_sql(")");
                }
            }
            ListScope::All | ListScope::None | ListScope::Siloed { .. } => {}
        }
        for label in &self.labels {
            out.push_sql(" AND apps.labels LIKE ");
            out.push_bind_param::<Text, _>(label)?;
            out.push_sql(" ESCAPE '\\'");
        }
        if let Some(pattern) = &self.pattern {
            out.push_sql(" AND (apps.name_lower LIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
            out.push_sql(" ESCAPE '\\' OR apps.handle LIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
            out.push_sql(" ESCAPE '\\')");
        }
        if let Some(user) = unpinned {
            out.push_sql(
                " AND apps.id NOT IN (SELECT app_pins.app_id FROM app_pins \
                 WHERE app_pins.user_id = ",
            );
            out.push_bind_param::<BigInt, _>(&user.0)?;
            out.push_sql(")");
        }
        out.push_sql(self.sort.order_by(self.ascending));
        if !matches!(self.rows, Rows::Pinned(_)) {
            out.push_sql(" LIMIT ");
            out.push_bind_param::<BigInt, _>(&self.limit)?;
            out.push_sql(" OFFSET ");
            out.push_bind_param::<BigInt, _>(&self.offset)?;
        }
        Ok(())
    }
}

/// The LIKE pattern of the query's search (lower-cased, wildcards escaped), if any.
fn search_pattern(q: &ListQuery) -> Option<String> {
    q.search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", escape_like(&s.to_lowercase())))
}

/// The probe of [`search_plan`]: the newest hits of the FTS5 trigram index of
/// `apps (name_lower, handle)` (SQLite only: created by the migration
/// `apps_search`, kept in step by triggers) with the highest app id.
#[derive(Debug, diesel::query_builder::QueryId)]
struct SearchProbe {
    phrase: String,
    limit: i64,
}

impl Query for SearchProbe {
    type SqlType = (BigInt, Nullable<BigInt>);
}

impl RunQueryDsl<DbConn> for SearchProbe {}

impl QueryFragment<MultiBackend> for SearchProbe {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        // `apps_search` on the left of MATCH is the hidden column named after
        // the table: the whole row.
        out.push_sql(
            "SELECT apps_search.rowid, (SELECT max(apps.id) FROM apps) FROM apps_search \
             WHERE apps_search MATCH ",
        );
        out.push_bind_param::<Text, _>(&self.phrase)?;
        out.push_sql(" ORDER BY apps_search.rowid DESC LIMIT ");
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        Ok(())
    }
}

/// At most this many index hits (estimated), a search reads its candidates from
/// the index; more mean a common term, for which walking the owner's apps in
/// page order finds a page of matches sooner (the plain LIKE filter): a term in
/// 1 app of 25 needs about 625 index entries for a page of 25.
const SEARCH_BY_ID_MAX: f64 = 200.0;

/// How many of the newest hits the index is asked for first.
const SAMPLE: usize = 21;

/// How a search finds its page.
#[derive(Debug)]
enum SearchPlan {
    /// Walk the owner's apps in page order with the LIKE filter.
    Scan,
    /// Read these few candidates by id (all the hits there are).
    Ids(Vec<i64>),
    /// Read the candidates the trigram index gives for this phrase, inside the
    /// page's statement.
    Index(String),
}

/// For a search of 3 characters or more on SQLite, chooses between the trigram
/// index and the plain LIKE walk, in one statement whatever the term: the index
/// gives its newest [`SAMPLE`] hits (of any owner) with the highest app id. Fewer
/// than that are all the hits: they are read by id. Otherwise their spread
/// estimates how many hits there are in all (hits are as dense among older apps
/// as among the newest ones): few, and the page reads the index's candidates;
/// many, and it walks the owner's apps instead. Asking for 200 hits to count them
/// cost more than the walk itself for a common word (docs/PERFORMANCE.md); a
/// wrong estimate costs time, never results: the index finds a superset of the
/// LIKE matches (it folds case the same way or more) and the LIKE filter still
/// decides, so results are exactly those of LIKE alone.
fn search_plan(conn: &mut DbConn, q: &ListQuery) -> QueryResult<SearchPlan> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Ok(SearchPlan::Scan);
    }
    let Some(term) = q
        .search
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| t.chars().count() >= 3 && !t.contains('\0'))
    else {
        return Ok(SearchPlan::Scan);
    };
    // One FTS5 phrase: inside double quotes every character is literal except `"`,
    // written twice; with the trigram tokenizer a phrase matches as a substring.
    let phrase = format!("\"{}\"", term.replace('"', "\"\""));
    let hits: Vec<(i64, Option<i64>)> = SearchProbe {
        phrase: phrase.clone(),
        limit: SAMPLE as i64,
    }
    .load(conn)?;
    Ok(choose(hits, phrase))
}

/// The plan for the index's newest hits `(app id, highest app id)`, newest first.
fn choose(hits: Vec<(i64, Option<i64>)>, phrase: String) -> SearchPlan {
    let (Some(&(oldest, newest)), true) = (hits.last(), hits.len() == SAMPLE) else {
        return SearchPlan::Ids(hits.into_iter().map(|(id, _)| id).collect());
    };
    let newest = newest.unwrap_or(oldest).max(oldest);
    let estimate = SAMPLE as f64 * newest as f64 / (newest - oldest + 1) as f64;
    if estimate > SEARCH_BY_ID_MAX {
        SearchPlan::Scan
    } else {
        SearchPlan::Index(phrase)
    }
}

/// Merges the search index's segments into one when writes have added more
/// (SQLite only; the background worker calls it every few seconds). FTS5 adds a
/// segment per writing transaction and merges them only by fours, and a query
/// reads every segment: on 10,000 apps seeded in bulk the index probe took 88 µs
/// with 7 segments and 28 µs with one. Merging 10,000 apps takes about 20 ms.
/// Returns how many segments there were when it merged them.
pub fn tidy_search_index(conn: &mut DbConn) -> QueryResult<Option<i64>> {
    use diesel::dsl::sql;
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Ok(None);
    }
    let segments: i64 = diesel::select(sql::<BigInt>(
        "(SELECT count(DISTINCT segid) FROM apps_search_idx)",
    ))
    .get_result(conn)?;
    if segments <= 1 {
        return Ok(None);
    }
    diesel::sql_query("INSERT INTO apps_search (apps_search) VALUES ('optimize')").execute(conn)?;
    Ok(Some(segments))
}

/// One page of the owner's apps as the query describes, as `R` rows, in a fixed
/// number of statements whatever the number of apps: the viewer's matching pins
/// (page 1 only), the search index's candidates (SQLite, terms of 3+
/// characters), then the page with the pins left out (a subquery, so the
/// statement's text does not change with the number of pins).
pub fn list<R>(conn: &mut DbConn, q: &ListQuery) -> QueryResult<AppPage<R>>
where
    R: Listed + Queryable<R::Sql, MultiBackend>,
    ListStatement<R>: diesel::query_dsl::LoadQuery<'static, DbConn, R>,
{
    if q.scope == ListScope::None {
        return Ok(AppPage::default());
    }
    let per_page = q.per_page.clamp(1, 1000);
    let page = q.page.max(1);
    let labels = match &q.scope {
        ListScope::Siloed { labels, .. } => labels
            .iter()
            .map(|l| crate::models::labels::like_pattern(l))
            .collect(),
        _ => Vec::new(),
    };
    let statement = |rows| ListStatement::<R> {
        owner: q.owner,
        scope: q.scope.clone(),
        sort: q.sort,
        ascending: q.ascending,
        rows,
        pattern: search_pattern(q),
        labels: labels.clone(),
        granted: match &q.scope {
            ListScope::Siloed {
                private: PrivateApps::GrantedTo(user),
                ..
            } => Some(crate::models::granted::GrantedTo(user.0)),
            _ => None,
        },
        limit: per_page + 1,
        offset: (page - 1).saturating_mul(per_page),
        row: std::marker::PhantomData,
    };
    let pinned = match q.pins_of {
        Some(user) if page == 1 => statement(Rows::Pinned(user)).load::<R>(conn)?,
        _ => Vec::new(),
    };
    let rows = match search_plan(conn, q)? {
        // A rare term: read its few candidates by id.
        SearchPlan::Ids(ids) => Rows::Candidates {
            ids: format!(
                "[{}]",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            ),
            unpinned: q.pins_of,
        },
        SearchPlan::Index(phrase) => Rows::Indexed {
            phrase,
            unpinned: q.pins_of,
        },
        SearchPlan::Scan => Rows::Page {
            unpinned: q.pins_of,
        },
    };
    let mut items = statement(rows).load::<R>(conn)?;
    let has_next = items.len() as i64 > per_page;
    items.truncate(per_page as usize);
    Ok(AppPage {
        pinned,
        items,
        has_next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(ids: impl Iterator<Item = i64>, newest: i64) -> Vec<(i64, Option<i64>)> {
        ids.map(|id| (id, Some(newest))).collect()
    }

    #[test]
    fn few_hits_are_read_by_id() {
        let plan = choose(hits([9, 4].into_iter(), 10), "p".into());
        assert!(matches!(plan, SearchPlan::Ids(ids) if ids == [9, 4]));
        assert!(matches!(choose(Vec::new(), "p".into()), SearchPlan::Ids(ids) if ids.is_empty()));
    }

    #[test]
    fn the_spread_of_the_newest_hits_decides() {
        // 1 app in 25 matches, of 10,000: about 400 hits, walk the owner's apps.
        let common = hits((0..21).map(|i| 10_000 - 25 * i), 10_000);
        assert!(matches!(choose(common, "p".into()), SearchPlan::Scan));
        // 1 in 250: about 40 hits, read them from the index.
        let rare = hits((0..21).map(|i| 10_000 - 250 * i), 10_000);
        assert!(matches!(choose(rare, "p".into()), SearchPlan::Index(p) if p == "p"));
        // Every one of 150 apps: 150 hits, from the index.
        let all = hits((0..21).map(|i| 150 - i), 150);
        assert!(matches!(choose(all, "p".into()), SearchPlan::Index(_)));
        // Every one of 300: a walk.
        let all = hits((0..21).map(|i| 300 - i), 300);
        assert!(matches!(choose(all, "p".into()), SearchPlan::Scan));
    }
}
