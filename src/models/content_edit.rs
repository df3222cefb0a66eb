//! Edits of app content the API needs besides the screens: deleting concepts
//! (their labels and their place in models go with them, by the schema's
//! cascades), replacing or merging an input's concepts, and numbered pages of
//! inputs (the screens page by cursor).

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{concepts, input_concepts, inputs, ml_models, model_concepts};
use crate::db::DbConn;
use crate::models::app::escape_like;
use crate::models::concept::lower;
use crate::models::concept::Concept;
use crate::models::input::{filtered, Input, InputQuery};
use crate::models::ml_model::{MlModel, ModelType};
use crate::models::AppId;

/// How a change of an input's concepts applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelEdit {
    /// The given concepts replace all of the input's concepts.
    Overwrite,
    /// The given concepts are set (with their values); others stay.
    Merge,
    /// The given concepts are taken off.
    Remove,
}

impl Concept {
    /// Deletes the app's concepts with these ids; returns how many went.
    pub fn delete_many(conn: &mut DbConn, app: AppId, ids: &[String]) -> QueryResult<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let keys: Vec<i64> = concepts::table
            .filter(concepts::app_id.eq(app.0))
            .filter(concepts::concept_id.eq_any(ids))
            .select(concepts::id)
            .load(conn)?;
        // Explicit, so that it does not depend on the backend enforcing cascades.
        diesel::delete(input_concepts::table.filter(input_concepts::concept_id.eq_any(&keys)))
            .execute(conn)?;
        diesel::delete(model_concepts::table.filter(model_concepts::concept_id.eq_any(&keys)))
            .execute(conn)?;
        diesel::delete(concepts::table.filter(concepts::id.eq_any(&keys))).execute(conn)
    }

    /// How many models of the app learn each of these concepts (for the screens'
    /// delete confirmation).
    pub fn model_counts(conn: &mut DbConn, keys: &[i64]) -> QueryResult<HashMap<i64, i64>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(i64, i64)> = model_concepts::table
            .filter(model_concepts::concept_id.eq_any(keys))
            .group_by(model_concepts::concept_id)
            .select((model_concepts::concept_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(rows.into_iter().collect())
    }
}

/// An input with its concepts and their values.
pub type LabelledInput = (Input, Vec<(Concept, f64)>);

impl Input {
    /// Replaces an input's metadata (a JSON object, as text).
    pub fn set_metadata(conn: &mut DbConn, input: i64, metadata: &str) -> QueryResult<usize> {
        diesel::update(inputs::table.find(input))
            .set(inputs::metadata.eq(metadata))
            .execute(conn)
    }

    /// Deletes every input of the app; returns how many went.
    pub fn delete_all(conn: &mut DbConn, app: AppId) -> QueryResult<usize> {
        diesel::delete(inputs::table.filter(inputs::app_id.eq(app.0))).execute(conn)
    }

    /// Page `page` (from 1) of the inputs the query matches, newest first, with
    /// their concepts; and whether more follow.
    pub fn list_numbered(
        conn: &mut DbConn,
        q: &InputQuery,
        page: i64,
        per_page: i64,
    ) -> QueryResult<(Vec<LabelledInput>, bool)> {
        let per_page = per_page.clamp(1, 1000);
        let mut rows: Vec<Input> = filtered(q)
            .order(inputs::id.desc())
            .offset((page.max(1) - 1).saturating_mul(per_page))
            .limit(per_page + 1)
            .select(Input::as_select())
            .load(conn)?;
        let more = rows.len() as i64 > per_page;
        rows.truncate(per_page as usize);
        let ids: Vec<i64> = rows.iter().map(|i| i.id).collect();
        let mut labels = Input::concepts_of(conn, &ids)?;
        Ok((
            rows.into_iter()
                .map(|i| {
                    let c = labels.remove(&i.id).unwrap_or_default();
                    (i, c)
                })
                .collect(),
            more,
        ))
    }

    /// Changes the concepts of one input (by key): `labels` are concept keys with
    /// values. Run it inside the caller's transaction.
    pub fn edit_concepts(
        conn: &mut DbConn,
        input: i64,
        labels: &[(i64, f64)],
        edit: LabelEdit,
    ) -> QueryResult<()> {
        let keys: Vec<i64> = labels.iter().map(|(k, _)| *k).collect();
        match edit {
            LabelEdit::Overwrite => {
                diesel::delete(input_concepts::table.filter(input_concepts::input_id.eq(input)))
                    .execute(conn)?;
            }
            LabelEdit::Merge | LabelEdit::Remove => {
                diesel::delete(
                    input_concepts::table
                        .filter(input_concepts::input_id.eq(input))
                        .filter(input_concepts::concept_id.eq_any(&keys)),
                )
                .execute(conn)?;
            }
        }
        if edit == LabelEdit::Remove {
            return Ok(());
        }
        for (concept, value) in labels {
            diesel::insert_into(input_concepts::table)
                .values((
                    input_concepts::input_id.eq(input),
                    input_concepts::concept_id.eq(*concept),
                    input_concepts::value.eq(*value),
                ))
                .execute(conn)?;
        }
        Ok(())
    }
}

impl MlModel {
    /// Page `page` of the app's models whose name or id contains `search`, of
    /// `model_type` when given, last updated first; and whether more follow.
    pub fn search(
        conn: &mut DbConn,
        app: AppId,
        search: Option<&str>,
        model_type: Option<ModelType>,
        page: i64,
        per_page: i64,
    ) -> QueryResult<(Vec<MlModel>, bool)> {
        let mut q = ml_models::table
            .filter(ml_models::app_id.eq(app.0))
            .into_boxed();
        if let Some(s) = search.map(str::trim).filter(|s| !s.is_empty()) {
            let pattern = format!("%{}%", escape_like(&s.to_lowercase()));
            q = q.filter(
                ml_models::name_lower
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(ml_models::model_id).like(pattern).escape('\\')),
            );
        }
        if let Some(t) = model_type {
            q = q.filter(ml_models::model_type.eq(t.id()));
        }
        let per_page = per_page.clamp(1, 1000);
        let mut rows: Vec<MlModel> = q
            .order((ml_models::updated_at.desc(), ml_models::id.desc()))
            .offset((page.max(1) - 1).saturating_mul(per_page))
            .limit(per_page + 1)
            .select(MlModel::as_select())
            .load(conn)?;
        let more = rows.len() as i64 > per_page;
        rows.truncate(per_page as usize);
        Ok((rows, more))
    }
}
