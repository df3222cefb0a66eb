//! Concepts: the labels of an app. Each has a public id (unique in its app) and a
//! display name; inputs carry them through `input_concepts`.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{concepts, input_concepts};
use crate::db::{is_unique_violation, DbConn};
use crate::models::app::escape_like;
use crate::models::{now, AppId, ConceptKey};

diesel::define_sql_function! {
    /// SQL `lower()`, the same on SQLite and PostgreSQL (for case-insensitive search).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// SQL `lower()` over a nullable text column.
    #[sql_name = "lower"]
    fn lower_nullable(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// A concept row.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = concepts)]
pub struct Concept {
    pub id: i64,
    pub app_id: i64,
    pub concept_id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Concept {
    pub fn key(&self) -> ConceptKey {
        ConceptKey(self.id)
    }
}

/// A concept with the number of inputs that show it.
#[derive(Debug, Clone)]
pub struct ConceptCount {
    pub concept: Concept,
    pub input_count: i64,
}

/// Longest concept id accepted.
pub const MAX_CONCEPT_ID_LEN: usize = 64;
/// Longest concept name accepted.
pub const MAX_CONCEPT_NAME_LEN: usize = 100;

/// Checks a concept id: 1 to 64 letters, digits, `-`, `_` or `.`, starting with a
/// letter or digit. Returns the message to show next to the field.
pub fn validate_concept_id(raw: &str) -> Result<String, String> {
    let id = raw.trim();
    if id.is_empty() {
        return Err("Enter a concept ID.".to_owned());
    }
    if id.chars().count() > MAX_CONCEPT_ID_LEN {
        return Err(format!(
            "Concept IDs are at most {MAX_CONCEPT_ID_LEN} characters."
        ));
    }
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if !id.chars().all(ok_char) || !id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "\"{}\" is not a valid concept ID: use letters, digits, '-', '_' or '.', starting with a letter or digit.",
            id.chars().take(MAX_CONCEPT_ID_LEN).collect::<String>()
        ));
    }
    Ok(id.to_owned())
}

/// Checks a concept name (empty means "same as the id").
pub fn validate_concept_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.chars().count() > MAX_CONCEPT_NAME_LEN {
        return Err(format!(
            "Concept names are at most {MAX_CONCEPT_NAME_LEN} characters."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("Concept names cannot contain control characters.".to_owned());
    }
    Ok(name.to_owned())
}

/// Why a concept could not be written.
#[derive(Debug)]
pub enum ConceptWriteError {
    /// The app already has a concept with this id.
    IdTaken,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for ConceptWriteError {
    fn from(e: diesel::result::Error) -> Self {
        ConceptWriteError::Db(e)
    }
}

impl Concept {
    /// Creates a concept (`name` defaults to the id).
    pub fn create(
        conn: &mut DbConn,
        app: AppId,
        concept_id: &str,
        name: &str,
    ) -> Result<Concept, ConceptWriteError> {
        let t = now();
        let name = if name.trim().is_empty() {
            concept_id
        } else {
            name
        };
        diesel::insert_into(concepts::table)
            .values((
                concepts::app_id.eq(app.0),
                concepts::concept_id.eq(concept_id),
                concepts::name.eq(name),
                concepts::created_at.eq(t),
                concepts::updated_at.eq(t),
            ))
            .returning(concepts::all_columns)
            .get_result::<Concept>(conn)
            .map_err(|e| {
                if is_unique_violation(&e) {
                    ConceptWriteError::IdTaken
                } else {
                    ConceptWriteError::Db(e)
                }
            })
    }

    /// Finds a concept by its public id.
    pub fn find(conn: &mut DbConn, app: AppId, concept_id: &str) -> QueryResult<Option<Concept>> {
        concepts::table
            .filter(concepts::app_id.eq(app.0))
            .filter(concepts::concept_id.eq(concept_id))
            .select(Concept::as_select())
            .first(conn)
            .optional()
    }

    /// The app's concepts with these public ids (unknown ids are left out).
    pub fn find_many(conn: &mut DbConn, app: AppId, ids: &[String]) -> QueryResult<Vec<Concept>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        concepts::table
            .filter(concepts::app_id.eq(app.0))
            .filter(concepts::concept_id.eq_any(ids))
            .select(Concept::as_select())
            .load(conn)
    }

    /// The concepts with these ids, creating the missing ones (run it inside the
    /// transaction that uses them). Returned in the order of `ids`.
    pub fn ensure(conn: &mut DbConn, app: AppId, ids: &[String]) -> QueryResult<Vec<Concept>> {
        let mut found: HashMap<String, Concept> = Concept::find_many(conn, app, ids)?
            .into_iter()
            .map(|c| (c.concept_id.clone(), c))
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = found.get(id) {
                out.push(c.clone());
                continue;
            }
            let created = match Concept::create(conn, app, id, id) {
                Ok(c) => c,
                Err(ConceptWriteError::Db(e)) => return Err(e),
                // Created meanwhile by another request: read it back.
                Err(ConceptWriteError::IdTaken) => {
                    Concept::find(conn, app, id)?.ok_or(diesel::result::Error::NotFound)?
                }
            };
            found.insert(id.clone(), created.clone());
            out.push(created);
        }
        Ok(out)
    }

    /// Renames a concept.
    pub fn rename(conn: &mut DbConn, id: ConceptKey, name: &str) -> QueryResult<Concept> {
        diesel::update(concepts::table.find(id.0))
            .set((concepts::name.eq(name), concepts::updated_at.eq(now())))
            .returning(concepts::all_columns)
            .get_result::<Concept>(conn)
    }

    /// Every concept of the app, by id (for pickers; capped at `limit`).
    pub fn all(conn: &mut DbConn, app: AppId, limit: i64) -> QueryResult<Vec<Concept>> {
        concepts::table
            .filter(concepts::app_id.eq(app.0))
            .order(concepts::concept_id.asc())
            .limit(limit)
            .select(Concept::as_select())
            .load(conn)
    }

    /// One page of the app's concepts matching `search` (id or name), by id, with
    /// their positive input counts: two queries whatever the page size.
    pub fn list(
        conn: &mut DbConn,
        app: AppId,
        search: Option<&str>,
        page: i64,
        per_page: i64,
    ) -> QueryResult<(Vec<ConceptCount>, bool)> {
        let mut q = concepts::table
            .filter(concepts::app_id.eq(app.0))
            .into_boxed();
        if let Some(s) = search.map(str::trim).filter(|s| !s.is_empty()) {
            let pattern = format!("%{}%", escape_like(&s.to_lowercase()));
            q = q.filter(
                lower(concepts::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(concepts::concept_id).like(pattern).escape('\\')),
            );
        }
        let per_page = per_page.clamp(1, 1000);
        let mut rows: Vec<Concept> = q
            .order(concepts::concept_id.asc())
            .offset((page.max(1) - 1).saturating_mul(per_page))
            .limit(per_page + 1)
            .select(Concept::as_select())
            .load(conn)?;
        let has_next = rows.len() as i64 > per_page;
        rows.truncate(per_page as usize);
        let counts = Concept::input_counts(conn, &rows.iter().map(|c| c.id).collect::<Vec<_>>())?;
        Ok((
            rows.into_iter()
                .map(|c| ConceptCount {
                    input_count: counts.get(&c.id).copied().unwrap_or(0),
                    concept: c,
                })
                .collect(),
            has_next,
        ))
    }

    /// Positive input counts of these concepts (one grouped query).
    pub fn input_counts(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, i64>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(i64, i64)> = input_concepts::table
            .filter(input_concepts::concept_id.eq_any(ids))
            .filter(input_concepts::value.gt(0.0))
            .group_by(input_concepts::concept_id)
            .select((input_concepts::concept_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(rows.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concept_ids() {
        assert_eq!(validate_concept_id(" spam ").as_deref(), Ok("spam"));
        assert_eq!(
            validate_concept_id("Dog_1.v2-x").as_deref(),
            Ok("Dog_1.v2-x")
        );
        assert!(validate_concept_id("").is_err());
        assert!(validate_concept_id("-x").is_err());
        assert!(validate_concept_id("a b").is_err());
        assert!(validate_concept_id("<script>").is_err());
        assert!(validate_concept_id(&"a".repeat(65)).is_err());
        assert!(validate_concept_name(&"n".repeat(101)).is_err());
        assert_eq!(validate_concept_name(" Ham ").as_deref(), Ok("Ham"));
    }
}

/// The statement of [`names_of`], written out so that diesel prepares it once per
/// connection: the ids travel as one JSON array, so its text does not change with
/// their number (diesel's `IN (?, ?, ...)` was prepared afresh on every call).
#[derive(Debug, diesel::query_builder::QueryId)]
struct ConceptNames {
    app: i64,
    ids: String,
}

impl diesel::query_builder::Query for ConceptNames {
    type SqlType = (diesel::sql_types::Text, diesel::sql_types::Text);
}

impl RunQueryDsl<DbConn> for ConceptNames {}

impl diesel::query_builder::QueryFragment<crate::db::MultiBackend> for ConceptNames {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, crate::db::MultiBackend>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Text};
        out.push_sql(
            "SELECT concepts.concept_id, concepts.name FROM concepts \
             WHERE concepts.app_id = ",
        );
        out.push_bind_param::<BigInt, _>(&self.app)?;
        out.push_sql(" AND concepts.concept_id IN (SELECT ");
        match out.backend() {
            crate::db::MultiBackend::Sqlite(_) => {
                out.push_sql("value FROM json_each(");
                out.push_bind_param::<Text, _>(&self.ids)?;
                out.push_sql("))");
            }
            crate::db::MultiBackend::Pg(_) => {
                out.push_sql("json_array_elements_text(CAST(");
                out.push_bind_param::<Text, _>(&self.ids)?;
                out.push_sql(" AS json)))");
            }
        }
        Ok(())
    }
}

/// The current names of the app's concepts with these ids, as `(id, name)`
/// (a prediction names the concepts it scores).
pub fn names_of(
    conn: &mut DbConn,
    app: AppId,
    ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    ConceptNames {
        app: app.0,
        ids: serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned()),
    }
    .load(conn)
}
