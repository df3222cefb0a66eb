//! Model changes in the audit log of the organization that owns the app: a model
//! created, changed (name, description, visibility, concepts), deleted, a training
//! run started, a version deleted. Apps of a user (not an organization) have no
//! log, so nothing is recorded for them. Call these inside the transaction that
//! makes the change.

use diesel::QueryResult;
use serde_json::{json, Map, Value};

use crate::db::DbConn;
use crate::models::account::Owner;
use crate::models::app::App;
use crate::models::audit::{self, AuditActor, AuditTarget, EventKind};
use crate::models::ml_model::MlModel;
use crate::models::OrgId;

/// The model as an audit target: its numeric id, `owner/app/model` as its name.
pub fn target(owner: &Owner, app: &App, model: &MlModel) -> AuditTarget {
    AuditTarget {
        kind: "model",
        id: model.id.to_string(),
        label: format!("{}/{}/{}", owner.handle, app.handle, model.model_id),
    }
}

/// Records `kind` about `model` when its app belongs to an organization.
pub fn record(
    conn: &mut DbConn,
    owner: &Owner,
    app: &App,
    model: &MlModel,
    actor: &AuditActor,
    kind: EventKind,
    details: Value,
) -> QueryResult<()> {
    if !owner.is_org() {
        return Ok(());
    }
    audit::record(
        conn,
        Some(OrgId(owner.id.0)),
        actor,
        kind,
        &target(owner, app, model),
        details,
    )
}

/// The details of an update: each field that changed, `{from, to}`, and the
/// concepts the change named (when it named any).
pub fn changes(before: &MlModel, after: &MlModel, concepts: Option<&[String]>) -> Value {
    let mut out = Map::new();
    let mut field = |name: &str, from: &str, to: &str| {
        if from != to {
            out.insert(name.to_owned(), json!({ "from": from, "to": to }));
        }
    };
    field("name", &before.name, &after.name);
    field("description", &before.description, &after.description);
    field(
        "visibility",
        before.visibility().as_str(),
        after.visibility().as_str(),
    );
    if let Some(c) = concepts {
        out.insert("concepts".to_owned(), json!(c));
    }
    Value::Object(out)
}
