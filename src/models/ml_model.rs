//! Models of an app: their type, visibility, the concepts they learn, and the
//! stars users give them. Versions live in `version.rs`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{accounts, apps, concepts, ml_models, model_concepts, model_stars};
use crate::db::{is_unique_violation, DbConn};
use crate::models::app::{escape_like, App, Visibility};
use crate::models::concept::{lower, Concept};
use crate::models::input::InputKind;
use crate::models::{now, AppId, ModelKey, UserId};

/// A model row.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = ml_models)]
pub struct MlModel {
    pub id: i64,
    pub app_id: i64,
    pub model_id: String,
    pub name: String,
    pub name_lower: String,
    pub description: String,
    pub model_type: String,
    pub visibility: String,
    pub star_count: i64,
    pub created_by: Option<i64>,
    #[diesel(deserialize_as = crate::db::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::stamp::Stamp)]
    pub updated_at: NaiveDateTime,
}

/// The kinds of model that can be created and trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelType {
    TextClassifier,
    VisualClassifier,
}

impl ModelType {
    /// Every type, in the order Create Model offers them.
    pub const ALL: [ModelType; 2] = [ModelType::TextClassifier, ModelType::VisualClassifier];

    pub fn parse(s: &str) -> Option<ModelType> {
        ModelType::ALL.into_iter().find(|t| t.id() == s.trim())
    }

    /// The platform's `model_type_id`.
    pub fn id(self) -> &'static str {
        match self {
            ModelType::TextClassifier => "text-classifier",
            ModelType::VisualClassifier => "visual-classifier",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ModelType::TextClassifier => "Text Classifier",
            ModelType::VisualClassifier => "Visual Classifier",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            ModelType::TextClassifier => {
                "Learns your concepts from labelled texts and tells which ones a new text shows."
            }
            ModelType::VisualClassifier => {
                "Learns your concepts from labelled images (PNG, JPEG, WebP) and classifies new images."
            }
        }
    }

    /// The inputs it learns from and predicts on.
    pub fn input_kind(self) -> InputKind {
        match self {
            ModelType::TextClassifier => InputKind::Text,
            ModelType::VisualClassifier => InputKind::Image,
        }
    }
}

impl MlModel {
    pub fn key(&self) -> ModelKey {
        ModelKey(self.id)
    }

    pub fn app(&self) -> AppId {
        AppId(self.app_id)
    }

    pub fn model_type(&self) -> ModelType {
        ModelType::parse(&self.model_type).unwrap_or(ModelType::TextClassifier)
    }

    pub fn visibility(&self) -> Visibility {
        Visibility::parse(&self.visibility).unwrap_or(Visibility::Private)
    }

    pub fn is_public(&self) -> bool {
        self.visibility() == Visibility::Public
    }

    pub fn is_text(&self) -> bool {
        self.model_type() == ModelType::TextClassifier
    }
}

/// The editable fields of a model, validated.
#[derive(Debug, Clone)]
pub struct ModelFields {
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
}

/// Why a model could not be written.
#[derive(Debug)]
pub enum ModelWriteError {
    /// The app already has a model with this id.
    IdTaken,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for ModelWriteError {
    fn from(e: diesel::result::Error) -> Self {
        ModelWriteError::Db(e)
    }
}

/// A starred model with where it lives.
#[derive(Debug, Clone)]
pub struct StarredModel {
    pub owner_handle: String,
    pub app: App,
    pub model: MlModel,
}

fn set_concepts(conn: &mut DbConn, model: i64, concept_keys: &[i64]) -> QueryResult<()> {
    diesel::delete(model_concepts::table.filter(model_concepts::model_id.eq(model)))
        .execute(conn)?;
    for &c in concept_keys {
        diesel::insert_into(model_concepts::table)
            .values((
                model_concepts::model_id.eq(model),
                model_concepts::concept_id.eq(c),
            ))
            .execute(conn)?;
    }
    Ok(())
}

impl MlModel {
    /// Creates a model with the concepts it learns, in one transaction.
    pub fn create(
        conn: &mut DbConn,
        app: AppId,
        model_id: &str,
        model_type: ModelType,
        fields: &ModelFields,
        concept_keys: &[i64],
        by: Option<UserId>,
    ) -> Result<MlModel, ModelWriteError> {
        crate::db::transaction(conn, |conn| {
            let t = now();
            let model = diesel::insert_into(ml_models::table)
                .values((
                    ml_models::app_id.eq(app.0),
                    ml_models::model_id.eq(model_id),
                    ml_models::name.eq(&fields.name),
                    ml_models::name_lower.eq(fields.name.to_lowercase()),
                    ml_models::description.eq(&fields.description),
                    ml_models::model_type.eq(model_type.id()),
                    ml_models::visibility.eq(fields.visibility.as_str()),
                    ml_models::star_count.eq(0_i64),
                    ml_models::created_by.eq(by.map(|u| u.0)),
                    ml_models::created_at.eq(t),
                    ml_models::updated_at.eq(t),
                ))
                .returning(ml_models::all_columns)
                .get_result::<MlModel>(conn)
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        ModelWriteError::IdTaken
                    } else {
                        ModelWriteError::Db(e)
                    }
                })?;
            set_concepts(conn, model.id, concept_keys)?;
            Ok(model)
        })
    }

    /// Finds a model by its public id.
    pub fn find(conn: &mut DbConn, app: AppId, model_id: &str) -> QueryResult<Option<MlModel>> {
        ml_models::table
            .filter(ml_models::app_id.eq(app.0))
            .filter(ml_models::model_id.eq(model_id))
            .select(MlModel::as_select())
            .first(conn)
            .optional()
    }

    /// Updates name, description and visibility, and (when given) the concepts.
    pub fn update(
        conn: &mut DbConn,
        id: ModelKey,
        fields: &ModelFields,
        concept_keys: Option<&[i64]>,
    ) -> QueryResult<MlModel> {
        crate::db::transaction(conn, |conn| {
            let model = diesel::update(ml_models::table.find(id.0))
                .set((
                    ml_models::name.eq(&fields.name),
                    ml_models::name_lower.eq(fields.name.to_lowercase()),
                    ml_models::description.eq(&fields.description),
                    ml_models::visibility.eq(fields.visibility.as_str()),
                    ml_models::updated_at.eq(now()),
                ))
                .returning(ml_models::all_columns)
                .get_result::<MlModel>(conn)?;
            if let Some(keys) = concept_keys {
                set_concepts(conn, model.id, keys)?;
            }
            Ok(model)
        })
    }

    /// Changes only the visibility.
    pub fn set_visibility(
        conn: &mut DbConn,
        id: ModelKey,
        visibility: Visibility,
    ) -> QueryResult<MlModel> {
        diesel::update(ml_models::table.find(id.0))
            .set((
                ml_models::visibility.eq(visibility.as_str()),
                ml_models::updated_at.eq(now()),
            ))
            .returning(ml_models::all_columns)
            .get_result::<MlModel>(conn)
    }

    /// Deletes the model (its versions, concepts list and stars cascade).
    pub fn delete(conn: &mut DbConn, id: ModelKey) -> QueryResult<usize> {
        diesel::delete(ml_models::table.find(id.0)).execute(conn)
    }

    /// One page of the app's models matching `search` (name or id), last updated first.
    pub fn list(
        conn: &mut DbConn,
        app: AppId,
        search: Option<&str>,
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
        let per_page = per_page.clamp(1, 1000);
        let mut rows: Vec<MlModel> = q
            .order((ml_models::updated_at.desc(), ml_models::id.desc()))
            .offset((page.max(1) - 1).saturating_mul(per_page))
            .limit(per_page + 1)
            .select(MlModel::as_select())
            .load(conn)?;
        let has_next = rows.len() as i64 > per_page;
        rows.truncate(per_page as usize);
        Ok((rows, has_next))
    }

    /// The concepts the model learns, by id, optionally filtered by id or name.
    pub fn concepts(
        conn: &mut DbConn,
        id: ModelKey,
        search: Option<&str>,
    ) -> QueryResult<Vec<Concept>> {
        let mut q = model_concepts::table
            .inner_join(concepts::table)
            .filter(model_concepts::model_id.eq(id.0))
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
        q.order(concepts::concept_id.asc())
            .select(Concept::as_select())
            .load(conn)
    }

    /// Stars or unstars the model for the user (idempotent), keeping `star_count`
    /// in step in the same transaction.
    pub fn set_starred(
        conn: &mut DbConn,
        user: UserId,
        id: ModelKey,
        starred: bool,
    ) -> QueryResult<()> {
        crate::db::transaction(conn, |conn| {
            let changed = if starred {
                match diesel::insert_into(model_stars::table)
                    .values((
                        model_stars::user_id.eq(user.0),
                        model_stars::model_id.eq(id.0),
                        model_stars::created_at.eq(now()),
                    ))
                    .execute(conn)
                {
                    Ok(n) => n as i64,
                    Err(e) if is_unique_violation(&e) => 0,
                    Err(e) => return Err(e),
                }
            } else {
                -(diesel::delete(
                    model_stars::table
                        .filter(model_stars::user_id.eq(user.0))
                        .filter(model_stars::model_id.eq(id.0)),
                )
                .execute(conn)? as i64)
            };
            if changed != 0 {
                diesel::update(ml_models::table.find(id.0))
                    .set(ml_models::star_count.eq(ml_models::star_count + changed))
                    .execute(conn)?;
            }
            Ok(())
        })
    }

    /// True when the user starred the model.
    pub fn is_starred(conn: &mut DbConn, user: UserId, id: ModelKey) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            model_stars::table
                .filter(model_stars::user_id.eq(user.0))
                .filter(model_stars::model_id.eq(id.0)),
        ))
        .get_result(conn)
    }

    /// The models the user starred, most recently starred first, with their app
    /// and owner (one query; the caller filters what the user may still see).
    pub fn starred_by(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<StarredModel>> {
        let rows: Vec<(String, App, MlModel)> = model_stars::table
            .inner_join(ml_models::table.inner_join(apps::table.inner_join(accounts::table)))
            .filter(model_stars::user_id.eq(user.0))
            .order((model_stars::created_at.desc(), ml_models::id.desc()))
            .limit(500)
            .select((accounts::handle, App::as_select(), MlModel::as_select()))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(owner_handle, app, model)| StarredModel {
                owner_handle,
                app,
                model,
            })
            .collect())
    }
}
