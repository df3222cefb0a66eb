//! Evaluation on the held-out part: accuracy, macro-F1 (as scikit-learn computes
//! it), per-concept precision / recall / F1, and the confusion matrix.

use serde::{Deserialize, Serialize};

/// Scores of one concept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConceptScores {
    pub concept_id: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Test examples that truly show the concept.
    pub support: u64,
}

/// What a training run reports (stored as JSON on the version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// False when the test part was empty (too few examples to hold any out).
    pub evaluated: bool,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub concepts: Vec<ConceptScores>,
    /// `confusion[truth][predicted]`, in the order of `concepts`.
    pub confusion: Vec<Vec<u64>>,
    pub train_count: u64,
    pub test_count: u64,
    pub training_seconds: f64,
    /// Mean prediction time over the test part, in microseconds.
    pub predict_micros: f64,
}

impl Metrics {
    /// Parses the stored JSON.
    pub fn from_json(s: &str) -> Option<Metrics> {
        serde_json::from_str(s).ok()
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Scores `predicted` against `truth` (class indices into `classes`).
pub fn evaluate(classes: &[String], truth: &[usize], predicted: &[usize]) -> Metrics {
    let n = classes.len();
    let mut confusion = vec![vec![0_u64; n]; n];
    for (&t, &p) in truth.iter().zip(predicted) {
        if t < n && p < n {
            confusion[t][p] += 1;
        }
    }
    let correct: u64 = (0..n).map(|i| confusion[i][i]).sum();
    let total = truth.len() as u64;
    let mut concepts = Vec::with_capacity(n);
    let (mut f1_sum, mut f1_labels) = (0.0, 0_u32);
    for (i, concept_id) in classes.iter().enumerate() {
        let tp = confusion[i][i];
        let support: u64 = confusion[i].iter().sum();
        let predicted_as: u64 = (0..n).map(|t| confusion[t][i]).sum();
        let precision = ratio(tp, predicted_as);
        let recall = ratio(tp, support);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        // scikit-learn averages over the labels present in the truth or the predictions.
        if support > 0 || predicted_as > 0 {
            f1_sum += f1;
            f1_labels += 1;
        }
        concepts.push(ConceptScores {
            concept_id: concept_id.clone(),
            precision,
            recall,
            f1,
            support,
        });
    }
    Metrics {
        evaluated: total > 0,
        accuracy: ratio(correct, total),
        macro_f1: if f1_labels == 0 {
            0.0
        } else {
            f1_sum / f64::from(f1_labels)
        },
        concepts,
        confusion,
        train_count: 0,
        test_count: total,
        training_seconds: 0.0,
        predict_micros: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn() {
        // sklearn: f1_score([0,0,1,1,2,2], [0,1,1,1,2,0], average="macro") = 0.6555...
        let classes = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let m = evaluate(&classes, &[0, 0, 1, 1, 2, 2], &[0, 1, 1, 1, 2, 0]);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-9);
        assert!((m.macro_f1 - 0.655_555_555).abs() < 1e-6, "{}", m.macro_f1);
        assert_eq!(
            m.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 1]]
        );
        assert!((m.concepts[1].precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((m.concepts[1].recall - 1.0).abs() < 1e-9);
        let back = Metrics::from_json(&serde_json::to_string(&m).expect("json")).expect("parse");
        assert_eq!(back, m);
    }

    #[test]
    fn empty_test_part() {
        let m = evaluate(&["a".to_owned(), "b".to_owned()], &[], &[]);
        assert!(!m.evaluated);
        assert_eq!(m.macro_f1, 0.0);
    }
}
