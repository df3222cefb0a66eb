//! What teams add to the policy: the team roles an app is granted with, and the
//! per-request [`TeamAccess`] of a member (their grants and label restrictions),
//! loaded with the actor (`auth::session`, the API's key extractor) in one query.
//! The decisions themselves stay in `auth::policy::decide`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::auth::policy::{Action, Decision};

/// The role a team works in a granted app with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TeamRole {
    /// Everything inside the app.
    FullAccess,
    /// Models: create, edit, train, predict; inputs and concepts read-only.
    ModelTrainer,
    /// Inputs and concepts: upload, label, create and rename; predicts with and
    /// stars the app's models to review labels.
    LabelerLead,
    /// Inputs and concepts: upload, label, create and rename; nothing on models.
    LabelerWorker,
}

impl TeamRole {
    /// Every team role, strongest first.
    pub const ALL: [TeamRole; 4] = [
        TeamRole::FullAccess,
        TeamRole::ModelTrainer,
        TeamRole::LabelerLead,
        TeamRole::LabelerWorker,
    ];

    pub fn parse(s: &str) -> Option<TeamRole> {
        let s = s.trim();
        TeamRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The id stored in the database and used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::FullAccess => "full_access",
            TeamRole::ModelTrainer => "model_trainer",
            TeamRole::LabelerLead => "labeler_lead",
            TeamRole::LabelerWorker => "labeler_worker",
        }
    }

    /// The label the screens show.
    pub fn label(self) -> &'static str {
        match self {
            TeamRole::FullAccess => "Full Access",
            TeamRole::ModelTrainer => "Model Trainer",
            TeamRole::LabelerLead => "Labeler Lead",
            TeamRole::LabelerWorker => "Labeler Worker",
        }
    }

    /// One sentence on what the role allows.
    pub fn help(self) -> &'static str {
        match self {
            TeamRole::FullAccess => {
                "Everything inside the app: settings, inputs, concepts, models, training."
            }
            TeamRole::ModelTrainer => {
                "Creates, edits and trains models and predicts; reads inputs and concepts."
            }
            TeamRole::LabelerLead => {
                "Uploads and labels inputs, manages concepts, predicts to review labels."
            }
            TeamRole::LabelerWorker => "Uploads and labels inputs and manages concepts.",
        }
    }

    /// The app actions the role allows; inside a granted app everything else
    /// is refused with 403 (the app itself is visible).
    pub fn decide(self, action: Action) -> Decision {
        use Action::*;
        use Decision::*;
        use TeamRole::*;
        match (self, action) {
            (_, ListApps | ReadPrivateApp | ReadPublicApp | PinApp | ReadContent) => Allow,
            (_, ReadPublicModel | PredictPublicModel) => Allow,
            // Creating, duplicating and deleting apps is never a team's (API-NOTES:
            // Team Contributors do not create or delete apps).
            (_, CreateApp | DeleteApp | DuplicateApp) => Forbidden,
            (
                FullAccess,
                UpdateApp | EditInputs | EditModels | TrainModel | Predict | StarModel,
            ) => Allow,
            (ModelTrainer, EditModels | TrainModel | Predict | StarModel) => Allow,
            (LabelerLead, EditInputs | Predict | StarModel) => Allow,
            (LabelerWorker, EditInputs) => Allow,
            (_, UpdateApp | EditInputs | EditModels | TrainModel | Predict | StarModel) => {
                Forbidden
            }
            // Organization actions do not depend on grants (see `policy::decide`).
            (
                _,
                ViewOrg | UpdateOrg | DeleteOrg | LeaveOrg | ViewMembers | ManageMembers
                | ViewSecurity | ManageSecurity | ViewTeams | ManageTeams,
            ) => Hidden,
        }
    }
}

/// A member's teams as the policy needs them, loaded once per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamAccess {
    /// App id → the strongest role any of the user's teams holds on it.
    pub grants: HashMap<i64, TeamRole>,
    /// Labels an app of the org must carry, all of them, for the user to reach it
    /// (the union of their teams' restrictions; empty = no restriction).
    pub required_labels: Vec<String>,
}

impl TeamAccess {
    /// Builds the access from (team restriction, granted app, grant role or the
    /// team's default) rows, one per grant (`None` app for a team without grants).
    pub fn from_rows<I>(rows: I) -> TeamAccess
    where
        I: IntoIterator<Item = (String, Option<i64>, TeamRole)>,
    {
        let mut access = TeamAccess::default();
        for (restriction, app, role) in rows {
            for label in crate::models::labels::split(&restriction) {
                if !access.required_labels.iter().any(|l| l == label) {
                    access.required_labels.push(label.to_owned());
                }
            }
            if let Some(app) = app {
                access
                    .grants
                    .entry(app)
                    .and_modify(|r| *r = (*r).min(role))
                    .or_insert(role);
            }
        }
        access.required_labels.sort();
        access
    }

    /// The strongest role granted on the app, if any.
    pub fn grant(&self, app: i64) -> Option<TeamRole> {
        self.grants.get(&app).copied()
    }

    /// True when an app with these stored labels passes the restrictions.
    pub fn admits(&self, stored_labels: &str) -> bool {
        self.required_labels
            .iter()
            .all(|l| crate::models::labels::split(stored_labels).any(|s| s == l))
    }

    /// True when the user is restricted at all.
    pub fn is_restricted(&self) -> bool {
        !self.required_labels.is_empty()
    }
}

/// Members' team access kept in memory, by (user, organization), each valid for
/// the organization's `teams_version` it was loaded at. Triggers bump that version
/// on every change to the organization's teams, team members and grants, and the
/// version is read with the session on every request, so a cached access is used
/// only while nothing it was built from has changed. Bounded: when full it starts
/// over (a reload is one query).
#[derive(Default)]
pub struct TeamAccessCache {
    entries: Mutex<CacheMap>,
}

/// (user, organization) → (teams version, access).
type CacheMap = HashMap<(i64, i64), (i64, Arc<TeamAccess>)>;

/// Entries kept at most.
const CACHE_CAPACITY: usize = 10_000;

impl TeamAccessCache {
    /// The access of `user` in `org` at `version`, from memory or from `load`.
    ///
    /// `load` runs after `version` was read, so what it finds is at least as new
    /// as `version`; anything newer bumped the version, and no later request will
    /// ask for this one again.
    pub fn get_or_load<E>(
        &self,
        user: i64,
        org: i64,
        version: i64,
        load: impl FnOnce() -> Result<TeamAccess, E>,
    ) -> Result<Arc<TeamAccess>, E> {
        let key = (user, org);
        if let Some((v, access)) = self.lock().get(&key) {
            if *v == version {
                return Ok(access.clone());
            }
        }
        let access = Arc::new(load()?);
        let mut entries = self.lock();
        if entries.len() >= CACHE_CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (version, access.clone()));
        Ok(access)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheMap> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_strongest_wins() {
        for r in TeamRole::ALL {
            assert_eq!(TeamRole::parse(r.as_str()), Some(r));
        }
        let a = TeamAccess::from_rows([
            (",hipaa,".to_owned(), Some(1), TeamRole::LabelerWorker),
            (String::new(), Some(1), TeamRole::ModelTrainer),
            (",gdpr,".to_owned(), None, TeamRole::FullAccess),
        ]);
        assert_eq!(a.grant(1), Some(TeamRole::ModelTrainer));
        assert_eq!(a.grant(2), None);
        assert_eq!(a.required_labels, vec!["gdpr", "hipaa"]);
        assert!(a.admits(",gdpr,hipaa,pci,"));
        assert!(!a.admits(",hipaa,"));
        assert!(TeamAccess::default().admits(""));
    }

    #[test]
    fn cache_reloads_when_the_version_moves() {
        let cache = TeamAccessCache::default();
        let mut loads = 0;
        let mut get = |version: i64, app: i64| {
            cache
                .get_or_load(7, 3, version, || {
                    loads += 1;
                    Ok::<_, ()>(TeamAccess::from_rows([(
                        String::new(),
                        Some(app),
                        TeamRole::FullAccess,
                    )]))
                })
                .unwrap()
        };
        assert_eq!(get(1, 10).grant(10), Some(TeamRole::FullAccess));
        // Same version: the cached access, even if the database says otherwise.
        assert_eq!(get(1, 11).grant(10), Some(TeamRole::FullAccess));
        // A new version: loaded again.
        let a = get(2, 11);
        assert_eq!(
            (a.grant(10), a.grant(11)),
            (None, Some(TeamRole::FullAccess))
        );
        assert_eq!(loads, 2);
    }
}
