//! Prediction with a model's latest trained version (or a given one): the trained
//! model comes from the in-memory cache, or is loaded once from its artifact.
//! Every refusal (untrained model, empty text, not an image, ...) is a typed
//! outcome the page and the API turn into the right message or status.

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::DbConn;
use crate::error::AppError;
use crate::ml::cache::ModelCache;
use crate::ml::{PredictError, Sample, TrainedModel};
use crate::models::ml_model::MlModel;
use crate::models::model_lookup::LatestTrained;
use crate::models::version::ModelVersion;
use crate::models::VersionKey;
use crate::state::AppState;

/// What to classify (owned, so that it can move to a database thread).
#[derive(Debug, Clone)]
pub enum OwnedSample {
    Text(String),
    Image(Vec<u8>),
}

/// A concept with its score and current name.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredConcept {
    pub concept_id: String,
    pub name: String,
    pub score: f32,
}

impl ScoredConcept {
    /// The score as a percentage, for bars.
    pub fn percent(&self) -> f32 {
        (self.score * 100.0).clamp(0.0, 100.0)
    }
}

/// A prediction: which version answered, and every concept, best first.
#[derive(Debug, Clone)]
pub struct Prediction {
    pub version_id: String,
    pub concepts: Vec<ScoredConcept>,
}

/// Why there is no prediction.
#[derive(Debug)]
pub enum PredictFailure {
    /// The model has no trained version yet (21102).
    Untrained,
    /// The version asked for does not exist.
    VersionNotFound,
    /// The version asked for is not trained (its status code).
    VersionNotReady(i32),
    /// The sample was refused (empty text, not an image, wrong kind).
    Refused(PredictError),
    Internal(AppError),
}

impl From<AppError> for PredictFailure {
    fn from(e: AppError) -> Self {
        PredictFailure::Internal(e)
    }
}

impl PredictFailure {
    /// A message for people.
    pub fn message(&self) -> String {
        match self {
            PredictFailure::Untrained => {
                "This model has not been trained yet: train it first.".to_owned()
            }
            PredictFailure::VersionNotFound => "This model version does not exist.".to_owned(),
            PredictFailure::VersionNotReady(code) => format!(
                "This version cannot predict: {}.",
                crate::models::version::status::description(*code).to_lowercase()
            ),
            PredictFailure::Refused(e) => e.to_string(),
            PredictFailure::Internal(e) => e.to_string(),
        }
    }
}

impl From<diesel::result::Error> for PredictFailure {
    fn from(e: diesel::result::Error) -> Self {
        PredictFailure::Internal(e.into())
    }
}

/// Checks a sample against the model's kind before anything is loaded.
pub fn check_sample(model: &MlModel, sample: &OwnedSample) -> Result<(), PredictError> {
    match (model.is_text(), sample) {
        (true, OwnedSample::Text(t)) if t.trim().is_empty() => Err(PredictError::EmptyText),
        (true, OwnedSample::Image(_)) => Err(PredictError::WrongKind {
            expected: "texts",
            given: "images",
        }),
        (false, OwnedSample::Text(_)) => Err(PredictError::WrongKind {
            expected: "images",
            given: "texts",
        }),
        (false, OwnedSample::Image(b)) if b.is_empty() => Err(PredictError::NotAnImage(
            "Choose an image to classify.".to_owned(),
        )),
        _ => Ok(()),
    }
}

/// What predicting needs from the database, read once per request: the version
/// that answers, its trained model (from the cache, or parsed once from the
/// artifact and then cached) and the current names of its concepts.
pub struct Predictor {
    pub version_id: String,
    trained: Arc<TrainedModel>,
    names: HashMap<String, String>,
}

impl Predictor {
    /// Reads what prediction with `model` needs (the version `version_id`, or the
    /// latest trained one), inside the caller's database trip.
    pub fn load(
        conn: &mut DbConn,
        cache: &ModelCache,
        model: &MlModel,
        version_id: Option<&str>,
    ) -> Result<Predictor, PredictFailure> {
        let key = model.key();
        let version = match version_id {
            Some(v) => ModelVersion::find(conn, key, v)?.ok_or(PredictFailure::VersionNotFound)?,
            None => ModelVersion::latest_trained(conn, key)?.ok_or(PredictFailure::Untrained)?,
        };
        if !version.is_trained() {
            return Err(PredictFailure::VersionNotReady(version.status_code));
        }
        Predictor::of_trained(
            conn,
            cache,
            model,
            LatestTrained {
                id: version.id,
                version_id: version.version_id,
            },
        )
    }

    /// What prediction with the trained version `version` of `model` needs (its
    /// trained model, cached, and the names of its concepts).
    pub fn of_trained(
        conn: &mut DbConn,
        cache: &ModelCache,
        model: &MlModel,
        version: LatestTrained,
    ) -> Result<Predictor, PredictFailure> {
        let trained = match cache.get(&version.version_id) {
            Some(m) => m,
            None => {
                let bytes = ModelVersion::artifact(conn, VersionKey(version.id))?
                    .ok_or_else(|| AppError::internal("trained version without artifact"))?;
                let m = Arc::new(
                    TrainedModel::from_bytes(&bytes)
                        .map_err(|e| AppError::internal(format!("artifact: {e}")))?,
                );
                cache.insert(&version.version_id, Arc::clone(&m));
                m
            }
        };
        let names = crate::models::concept::names_of(conn, model.app(), &trained.classes)?
            .into_iter()
            .collect();
        Ok(Predictor {
            version_id: version.version_id,
            trained,
            names,
        })
    }

    /// Classifies one sample (CPU only: run it off the async workers when it is
    /// an image, which is decoded here).
    pub fn classify(&self, sample: &OwnedSample) -> Result<Vec<ScoredConcept>, PredictError> {
        let scored = match sample {
            OwnedSample::Text(t) => self.trained.predict(Sample::Text(t)),
            OwnedSample::Image(bytes) => self.trained.predict(Sample::Image(bytes)),
        }?;
        Ok(scored
            .into_iter()
            .map(|s| ScoredConcept {
                name: self
                    .names
                    .get(&s.concept_id)
                    .cloned()
                    .unwrap_or_else(|| s.concept_id.clone()),
                concept_id: s.concept_id,
                score: s.score,
            })
            .collect())
    }
}

/// Predicts with `model` (the version `version_id`, or the latest trained one):
/// one trip to the database threads, the database's part then the classification.
pub async fn predict(
    state: &AppState,
    model: &MlModel,
    version_id: Option<String>,
    sample: OwnedSample,
) -> Result<Prediction, PredictFailure> {
    check_sample(model, &sample).map_err(PredictFailure::Refused)?;
    let (cache, model) = (state.models.clone(), model.clone());
    crate::db::run_then(
        &state.pool,
        move |conn| Ok(Predictor::load(conn, &cache, &model, version_id.as_deref())),
        move |loaded| {
            Ok(loaded.and_then(|p| {
                let concepts = p.classify(&sample).map_err(PredictFailure::Refused)?;
                Ok(Prediction {
                    version_id: p.version_id,
                    concepts,
                })
            }))
        },
    )
    .await?
}
