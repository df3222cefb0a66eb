//! The machine learning behind Train Model and predict: a fastText text
//! classifier and a logistic-regression visual classifier, the reproducible
//! stratified split, the metrics, the artifact format kept in the database, and
//! the bounded in-memory cache of trained models.

pub mod cache;
pub mod metrics;
pub mod picture;
pub mod resample;
pub mod split;
pub mod text;
pub mod visual;

use serde::{Deserialize, Serialize};

use crate::ml::text::TextModel;
use crate::ml::visual::VisualModel;

/// What can go wrong while training or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// Every training text was empty once normalised.
    #[error("The training texts contain no words.")]
    NoWords,
    /// A stored artifact could not be read.
    #[error("The stored model is damaged ({0}).")]
    Corrupt(String),
    /// The learner failed.
    #[error("{0}")]
    Internal(String),
}

/// Why a prediction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PredictError {
    #[error("Enter a text to classify.")]
    EmptyText,
    #[error("{0}")]
    NotAnImage(String),
    #[error("This model classifies {expected}, not {given}.")]
    WrongKind {
        expected: &'static str,
        given: &'static str,
    },
}

/// What is classified.
#[derive(Debug, Clone, Copy)]
pub enum Sample<'a> {
    Text(&'a str),
    Image(&'a [u8]),
}

/// A trained classifier of either kind.
#[derive(Debug)]
pub enum Classifier {
    Text(Box<TextModel>),
    Visual(VisualModel),
}

/// A trained model: the classifier and the concept ids of its classes.
#[derive(Debug)]
pub struct TrainedModel {
    pub classifier: Classifier,
    /// Concept ids, by class index.
    pub classes: Vec<String>,
}

/// A concept and its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub concept_id: String,
    pub score: f32,
}

const MAGIC: &[u8; 8] = b"ATRIUMML";
const FORMAT: u8 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    kind: String,
    classes: Vec<String>,
}

impl TrainedModel {
    /// Scores for every class of one sample.
    fn class_scores(&self, sample: Sample<'_>) -> Result<Vec<f32>, PredictError> {
        match (&self.classifier, sample) {
            (Classifier::Text(m), Sample::Text(t)) => {
                if t.trim().is_empty() {
                    return Err(PredictError::EmptyText);
                }
                Ok(m.predict(t))
            }
            (Classifier::Visual(m), Sample::Image(bytes)) => {
                let (img, _) = picture::decode(bytes).map_err(PredictError::NotAnImage)?;
                Ok(m.predict(&visual::features(&img)))
            }
            (Classifier::Text(_), Sample::Image(_)) => Err(PredictError::WrongKind {
                expected: "texts",
                given: "images",
            }),
            (Classifier::Visual(_), Sample::Text(_)) => Err(PredictError::WrongKind {
                expected: "images",
                given: "texts",
            }),
        }
    }

    /// Every concept with its score, best first.
    pub fn predict(&self, sample: Sample<'_>) -> Result<Vec<Scored>, PredictError> {
        let scores = self.class_scores(sample)?;
        let mut out: Vec<Scored> = self
            .classes
            .iter()
            .zip(scores)
            .map(|(c, s)| Scored {
                concept_id: c.clone(),
                score: if s.is_finite() {
                    s.clamp(0.0, 1.0)
                } else {
                    0.0
                },
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.concept_id.cmp(&b.concept_id))
        });
        Ok(out)
    }

    /// The class index with the best score (for evaluation).
    pub fn best_class(&self, sample: Sample<'_>) -> Result<usize, PredictError> {
        let scores = self.class_scores(sample)?;
        Ok(scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .map_or(0, |(i, _)| i))
    }

    /// The artifact stored on the version: magic, format, a JSON header, the model.
    pub fn to_bytes(&self) -> Result<Vec<u8>, MlError> {
        let (kind, body) = match &self.classifier {
            Classifier::Text(m) => ("text", m.to_bytes()?),
            Classifier::Visual(m) => ("visual", m.to_bytes()),
        };
        let header = serde_json::to_vec(&Header {
            kind: kind.to_owned(),
            classes: self.classes.clone(),
        })
        .map_err(|e| MlError::Internal(format!("header: {e}")))?;
        let mut out = Vec::with_capacity(13 + header.len() + body.len());
        out.extend_from_slice(MAGIC);
        out.push(FORMAT);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Reads an artifact.
    pub fn from_bytes(bytes: &[u8]) -> Result<TrainedModel, MlError> {
        let bad = |what: &str| MlError::Corrupt(what.to_owned());
        if bytes.len() < 13 || &bytes[..8] != MAGIC {
            return Err(bad("not an Atrium model"));
        }
        if bytes[8] != FORMAT {
            return Err(bad("unknown format"));
        }
        let len = u32::from_le_bytes([bytes[9], bytes[10], bytes[11], bytes[12]]) as usize;
        let header: Header = bytes
            .get(13..13 + len)
            .and_then(|h| serde_json::from_slice(h).ok())
            .ok_or_else(|| bad("header"))?;
        let body = &bytes[13 + len..];
        let classifier = match header.kind.as_str() {
            "text" => Classifier::Text(Box::new(TextModel::from_bytes(body)?)),
            "visual" => Classifier::Visual(VisualModel::from_bytes(body)?),
            _ => return Err(bad("unknown kind")),
        };
        let n = match &classifier {
            Classifier::Text(m) => m.classes(),
            Classifier::Visual(m) => m.classes(),
        };
        if n != header.classes.len() {
            return Err(bad("class count"));
        }
        Ok(TrainedModel {
            classifier,
            classes: header.classes,
        })
    }
}
