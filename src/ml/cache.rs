//! A bounded least-recently-used cache of trained models, keyed by version id,
//! so that a prediction does not reload and parse the artifact every time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::ml::TrainedModel;

/// Models kept in memory at most (by default).
pub const DEFAULT_CAPACITY: usize = 32;

struct Inner {
    tick: u64,
    entries: HashMap<String, (Arc<TrainedModel>, u64)>,
}

/// The cache (shared by every worker through the app state; a clone shares the
/// same models, so that a task on a database thread can take one along).
#[derive(Clone)]
pub struct ModelCache {
    capacity: usize,
    inner: Arc<Mutex<Inner>>,
}

impl ModelCache {
    pub fn new(capacity: usize) -> ModelCache {
        ModelCache {
            capacity: capacity.max(1),
            inner: Arc::new(Mutex::new(Inner {
                tick: 0,
                entries: HashMap::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached model of a version, marked as just used.
    pub fn get(&self, version_id: &str) -> Option<Arc<TrainedModel>> {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        inner.entries.get_mut(version_id).map(|(m, used)| {
            *used = tick;
            Arc::clone(m)
        })
    }

    /// Keeps a model, evicting the least recently used one when full.
    pub fn insert(&self, version_id: &str, model: Arc<TrainedModel>) {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        if !inner.entries.contains_key(version_id) && inner.entries.len() >= self.capacity {
            if let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                inner.entries.remove(&oldest);
            }
        }
        inner.entries.insert(version_id.to_owned(), (model, tick));
    }

    /// Forgets a version (deleted).
    pub fn remove(&self, version_id: &str) {
        self.lock().entries.remove(version_id);
    }

    /// Number of models held.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::visual::{self, VisualModel};
    use crate::ml::Classifier;

    fn model() -> Arc<TrainedModel> {
        let rows = vec![vec![0.0; visual::FEATURES], vec![1.0; visual::FEATURES]];
        let m: VisualModel = visual::train(&rows, &[0, 1], 2).expect("train");
        Arc::new(TrainedModel {
            classifier: Classifier::Visual(m),
            classes: vec!["a".into(), "b".into()],
        })
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let cache = ModelCache::new(2);
        let m = model();
        cache.insert("v1", Arc::clone(&m));
        cache.insert("v2", Arc::clone(&m));
        assert!(cache.get("v1").is_some());
        cache.insert("v3", Arc::clone(&m));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("v2").is_none(), "v2 was the least recently used");
        assert!(cache.get("v1").is_some() && cache.get("v3").is_some());
        cache.remove("v1");
        assert!(cache.get("v1").is_none());
    }
}
