//! Inputs: the texts and images of an app, with their concepts. Listings never
//! read image bytes; pages are keyset-paginated (newest first) so that an app
//! with 100,000 inputs pages as fast as one with ten.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{concepts, input_concepts, inputs};
use crate::db::{is_unique_violation, DbConn};
use crate::models::app::escape_like;
use crate::models::concept::{lower_nullable, Concept};
use crate::models::{now, AppId, ConceptKey, UserId};

/// An input without its image bytes.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = inputs)]
pub struct Input {
    pub id: i64,
    pub app_id: i64,
    pub input_id: String,
    pub kind: String,
    pub text: Option<String>,
    pub mime: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub byte_size: i64,
    pub metadata: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// Text or image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Text,
    Image,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::Text => "text",
            InputKind::Image => "image",
        }
    }
}

impl Input {
    pub fn is_image(&self) -> bool {
        self.kind == "image"
    }

    /// The first characters of the text, for listings.
    pub fn snippet(&self, max_chars: usize) -> String {
        let t = self.text.as_deref().unwrap_or("");
        let mut s: String = t.chars().take(max_chars).collect();
        if t.chars().count() > max_chars {
            s.push('…');
        }
        s
    }
}

/// A decoded, checked image with its thumbnail.
#[derive(Debug, Clone)]
pub struct ImageData {
    pub bytes: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub mime: String,
    pub width: u32,
    pub height: u32,
}

/// What a new input holds.
#[derive(Debug, Clone)]
pub enum InputContent {
    Text(String),
    Image(ImageData),
}

/// An input to insert, with its concepts (public ids and values).
#[derive(Debug, Clone)]
pub struct NewInput {
    pub input_id: String,
    pub content: InputContent,
    /// A JSON object, as text.
    pub metadata: String,
    pub concepts: Vec<(String, f64)>,
}

#[derive(Insertable)]
#[diesel(table_name = inputs, treat_none_as_default_value = false)]
struct InputInsert<'a> {
    app_id: i64,
    input_id: &'a str,
    kind: &'a str,
    text: Option<&'a str>,
    mime: Option<&'a str>,
    width: Option<i32>,
    height: Option<i32>,
    byte_size: i64,
    metadata: &'a str,
    created_by: Option<i64>,
    created_at: NaiveDateTime,
    image: Option<&'a [u8]>,
    thumbnail: Option<&'a [u8]>,
}

#[derive(Insertable)]
#[diesel(table_name = input_concepts)]
struct LabelInsert {
    input_id: i64,
    concept_id: i64,
    value: f64,
}

/// Why inputs could not be written.
#[derive(Debug)]
pub enum InputWriteError {
    /// An input with this id already exists in the app.
    IdTaken,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for InputWriteError {
    fn from(e: diesel::result::Error) -> Self {
        InputWriteError::Db(e)
    }
}

/// Rows per multi-row INSERT.
const BATCH: usize = 400;

fn insert_labels(conn: &mut DbConn, rows: &[LabelInsert]) -> QueryResult<()> {
    for chunk in rows.chunks(BATCH) {
        // A multi-row insert does not compile on the MultiConnection enum: match the variant.
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(input_concepts::table)
                .values(chunk)
                .execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(input_concepts::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    Ok(())
}

/// Where a page of inputs starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The newest inputs.
    First,
    /// Inputs older than this one (the next page).
    Before(i64),
    /// Inputs newer than this one (the previous page).
    After(i64),
}

/// Which inputs to list.
#[derive(Debug, Clone)]
pub struct InputQuery {
    pub app: AppId,
    /// Case-insensitive substring of the text, or an exact input id.
    pub search: Option<String>,
    /// Only inputs showing this concept.
    pub concept: Option<ConceptKey>,
    pub cursor: Cursor,
    pub per_page: i64,
}

/// One page of inputs with their concepts.
#[derive(Debug, Clone, Default)]
pub struct InputPage {
    pub items: Vec<(Input, Vec<(Concept, f64)>)>,
    pub has_next: bool,
    pub has_prev: bool,
}

type BoxedInputs<'a> = inputs::BoxedQuery<'a, crate::db::MultiBackend>;

pub(crate) fn filtered<'a>(q: &InputQuery) -> BoxedInputs<'a> {
    let mut query = inputs::table
        .filter(inputs::app_id.eq(q.app.0))
        .into_boxed();
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", escape_like(&s.to_lowercase()));
        query = query.filter(
            lower_nullable(inputs::text)
                .like(pattern)
                .escape('\\')
                .or(inputs::input_id.eq(s.to_owned())),
        );
    }
    if let Some(c) = q.concept {
        query = query.filter(
            inputs::id.eq_any(
                input_concepts::table
                    .filter(input_concepts::concept_id.eq(c.0))
                    .filter(input_concepts::value.gt(0.0))
                    .select(input_concepts::input_id),
            ),
        );
    }
    query
}

impl Input {
    /// Inserts inputs and their concepts (missing concepts are created) in one
    /// transaction: all of them, or none.
    pub fn insert_many(
        conn: &mut DbConn,
        app: AppId,
        by: Option<UserId>,
        items: &[NewInput],
    ) -> Result<Vec<Input>, InputWriteError> {
        crate::db::transaction(conn, |conn| {
            let mut concept_ids: Vec<String> = items
                .iter()
                .flat_map(|i| i.concepts.iter().map(|(c, _)| c.clone()))
                .collect();
            concept_ids.sort();
            concept_ids.dedup();
            let concepts: HashMap<String, i64> = Concept::ensure(conn, app, &concept_ids)?
                .into_iter()
                .map(|c| (c.concept_id, c.id))
                .collect();
            let t = now();
            let mut created = Vec::with_capacity(items.len());
            for chunk in items.chunks(BATCH) {
                let rows: Vec<InputInsert<'_>> =
                    chunk.iter().map(|i| row_for(app, by, t, i)).collect();
                let inserted: Vec<Input> = match conn {
                    DbConn::Sqlite(c) => diesel::insert_into(inputs::table)
                        .values(&rows)
                        .returning(Input::as_returning())
                        .get_results(c),
                    DbConn::Pg(c) => diesel::insert_into(inputs::table)
                        .values(&rows)
                        .returning(Input::as_returning())
                        .get_results(c),
                }
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        InputWriteError::IdTaken
                    } else {
                        InputWriteError::Db(e)
                    }
                })?;
                let by_id: HashMap<&str, i64> = inserted
                    .iter()
                    .map(|i| (i.input_id.as_str(), i.id))
                    .collect();
                let mut labels = Vec::new();
                for item in chunk {
                    let Some(&input) = by_id.get(item.input_id.as_str()) else {
                        continue;
                    };
                    let mut seen = Vec::new();
                    for (cid, value) in &item.concepts {
                        if let Some(&concept) = concepts.get(cid) {
                            if !seen.contains(&concept) {
                                seen.push(concept);
                                labels.push(LabelInsert {
                                    input_id: input,
                                    concept_id: concept,
                                    value: *value,
                                });
                            }
                        }
                    }
                }
                insert_labels(conn, &labels)?;
                created.extend(inserted);
            }
            Ok(created)
        })
    }

    /// Finds an input (without its image) by its public id.
    pub fn find(conn: &mut DbConn, app: AppId, input_id: &str) -> QueryResult<Option<Input>> {
        inputs::table
            .filter(inputs::app_id.eq(app.0))
            .filter(inputs::input_id.eq(input_id))
            .select(Input::as_select())
            .first(conn)
            .optional()
    }

    /// The image (or its thumbnail) of an input, with its MIME type.
    pub fn image_bytes(
        conn: &mut DbConn,
        app: AppId,
        input_id: &str,
        thumbnail: bool,
    ) -> QueryResult<Option<(String, Vec<u8>)>> {
        let q = inputs::table
            .filter(inputs::app_id.eq(app.0))
            .filter(inputs::input_id.eq(input_id));
        let row: Option<(Option<String>, Option<Vec<u8>>)> = if thumbnail {
            q.select((inputs::mime, inputs::thumbnail))
                .first(conn)
                .optional()?
        } else {
            q.select((inputs::mime, inputs::image))
                .first(conn)
                .optional()?
        };
        Ok(match row {
            Some((mime, Some(bytes))) => Some((
                if thumbnail {
                    "image/jpeg".to_owned()
                } else {
                    mime.unwrap_or_else(|| "application/octet-stream".to_owned())
                },
                bytes,
            )),
            _ => None,
        })
    }

    /// One page of inputs as the query asks, newest first, with their concepts:
    /// two queries whatever the page size.
    pub fn list(conn: &mut DbConn, q: &InputQuery) -> QueryResult<InputPage> {
        let per_page = q.per_page.clamp(1, 1000);
        let mut query = filtered(q);
        query = match q.cursor {
            Cursor::First => query.order(inputs::id.desc()),
            Cursor::Before(id) => query.filter(inputs::id.lt(id)).order(inputs::id.desc()),
            Cursor::After(id) => query.filter(inputs::id.gt(id)).order(inputs::id.asc()),
        };
        let mut rows: Vec<Input> = query
            .limit(per_page + 1)
            .select(Input::as_select())
            .load(conn)?;
        let more = rows.len() as i64 > per_page;
        rows.truncate(per_page as usize);
        let (has_next, has_prev) = match q.cursor {
            Cursor::First => (more, false),
            Cursor::Before(_) => (more, true),
            Cursor::After(_) => {
                rows.reverse();
                (true, more)
            }
        };
        let ids: Vec<i64> = rows.iter().map(|i| i.id).collect();
        let mut labels = Input::concepts_of(conn, &ids)?;
        Ok(InputPage {
            items: rows
                .into_iter()
                .map(|i| {
                    let c = labels.remove(&i.id).unwrap_or_default();
                    (i, c)
                })
                .collect(),
            has_next,
            has_prev,
        })
    }

    /// How many inputs match the query's filters (the cursor is ignored).
    pub fn count(conn: &mut DbConn, q: &InputQuery) -> QueryResult<i64> {
        filtered(q).count().get_result(conn)
    }

    /// The concepts (and values) of these inputs, by input key.
    pub fn concepts_of(
        conn: &mut DbConn,
        ids: &[i64],
    ) -> QueryResult<HashMap<i64, Vec<(Concept, f64)>>> {
        let mut out: HashMap<i64, Vec<(Concept, f64)>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let rows: Vec<(i64, f64, Concept)> = input_concepts::table
            .inner_join(concepts::table)
            .filter(input_concepts::input_id.eq_any(ids))
            .order(concepts::concept_id.asc())
            .select((
                input_concepts::input_id,
                input_concepts::value,
                Concept::as_select(),
            ))
            .load(conn)?;
        for (input, value, concept) in rows {
            out.entry(input).or_default().push((concept, value));
        }
        Ok(out)
    }

    /// Deletes the app's inputs with these public ids; returns how many went.
    pub fn delete_many(conn: &mut DbConn, app: AppId, input_ids: &[String]) -> QueryResult<usize> {
        if input_ids.is_empty() {
            return Ok(0);
        }
        diesel::delete(
            inputs::table
                .filter(inputs::app_id.eq(app.0))
                .filter(inputs::input_id.eq_any(input_ids)),
        )
        .execute(conn)
    }

    /// Sets `concept` with `value` on the app's inputs with these ids (replacing a
    /// previous value), in one transaction; returns how many inputs were labelled.
    pub fn label_many(
        conn: &mut DbConn,
        app: AppId,
        input_ids: &[String],
        concept: ConceptKey,
        value: f64,
    ) -> QueryResult<usize> {
        crate::db::transaction(conn, |conn| {
            let keys = keys_of(conn, app, input_ids)?;
            diesel::delete(
                input_concepts::table
                    .filter(input_concepts::concept_id.eq(concept.0))
                    .filter(input_concepts::input_id.eq_any(&keys)),
            )
            .execute(conn)?;
            let rows: Vec<LabelInsert> = keys
                .iter()
                .map(|&k| LabelInsert {
                    input_id: k,
                    concept_id: concept.0,
                    value,
                })
                .collect();
            insert_labels(conn, &rows)?;
            Ok(keys.len())
        })
    }

    /// Removes `concept` from the app's inputs with these ids; returns how many had it.
    pub fn unlabel_many(
        conn: &mut DbConn,
        app: AppId,
        input_ids: &[String],
        concept: ConceptKey,
    ) -> QueryResult<usize> {
        let keys = keys_of(conn, app, input_ids)?;
        diesel::delete(
            input_concepts::table
                .filter(input_concepts::concept_id.eq(concept.0))
                .filter(input_concepts::input_id.eq_any(keys)),
        )
        .execute(conn)
    }

    /// `(input key, concept key)` of every positive label of the app's inputs of
    /// `kind` with one of `concepts`, ordered by input.
    pub fn positive_labels(
        conn: &mut DbConn,
        app: AppId,
        kind: InputKind,
        concepts: &[i64],
    ) -> QueryResult<Vec<(i64, i64)>> {
        input_concepts::table
            .inner_join(inputs::table)
            .filter(inputs::app_id.eq(app.0))
            .filter(inputs::kind.eq(kind.as_str()))
            .filter(input_concepts::concept_id.eq_any(concepts))
            .filter(input_concepts::value.gt(0.0))
            .order((inputs::id.asc(), input_concepts::concept_id.asc()))
            .select((inputs::id, input_concepts::concept_id))
            .load(conn)
    }

    /// Texts of these inputs, by key.
    pub fn texts(conn: &mut DbConn, keys: &[i64]) -> QueryResult<Vec<(i64, String)>> {
        let rows: Vec<(i64, Option<String>)> = inputs::table
            .filter(inputs::id.eq_any(keys))
            .select((inputs::id, inputs::text))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(k, t)| (k, t.unwrap_or_default()))
            .collect())
    }

    /// Image bytes of these inputs, by key.
    pub fn images(conn: &mut DbConn, keys: &[i64]) -> QueryResult<Vec<(i64, Vec<u8>)>> {
        let rows: Vec<(i64, Option<Vec<u8>>)> = inputs::table
            .filter(inputs::id.eq_any(keys))
            .select((inputs::id, inputs::image))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, b)| b.map(|b| (k, b)))
            .collect())
    }

    /// The key of an input of the app, by public id (for cursors).
    pub fn key_of(conn: &mut DbConn, app: AppId, input_id: &str) -> QueryResult<Option<i64>> {
        inputs::table
            .filter(inputs::app_id.eq(app.0))
            .filter(inputs::input_id.eq(input_id))
            .select(inputs::id)
            .first(conn)
            .optional()
    }
}

fn keys_of(conn: &mut DbConn, app: AppId, input_ids: &[String]) -> QueryResult<Vec<i64>> {
    if input_ids.is_empty() {
        return Ok(Vec::new());
    }
    inputs::table
        .filter(inputs::app_id.eq(app.0))
        .filter(inputs::input_id.eq_any(input_ids))
        .select(inputs::id)
        .load(conn)
}

fn row_for<'a>(
    app: AppId,
    by: Option<UserId>,
    t: NaiveDateTime,
    i: &'a NewInput,
) -> InputInsert<'a> {
    match &i.content {
        InputContent::Text(text) => InputInsert {
            app_id: app.0,
            input_id: &i.input_id,
            kind: InputKind::Text.as_str(),
            text: Some(text),
            mime: None,
            width: None,
            height: None,
            byte_size: text.len() as i64,
            metadata: &i.metadata,
            created_by: by.map(|u| u.0),
            created_at: t,
            image: None,
            thumbnail: None,
        },
        InputContent::Image(img) => InputInsert {
            app_id: app.0,
            input_id: &i.input_id,
            kind: InputKind::Image.as_str(),
            text: None,
            mime: Some(&img.mime),
            width: Some(img.width as i32),
            height: Some(img.height as i32),
            byte_size: img.bytes.len() as i64,
            metadata: &i.metadata,
            created_by: by.map(|u| u.0),
            created_at: t,
            image: Some(&img.bytes),
            thumbnail: Some(&img.thumbnail),
        },
    }
}
