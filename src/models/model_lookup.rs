//! "The model `M` of the app `A` of the owner `U`", as every content API request
//! and every prediction asks it: the owner, the app, the model and the model's
//! latest trained version in one written-out statement (prepared once per
//! connection) instead of four built through the query DSL one after the other.

use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use crate::db::{DbConn, MultiBackend};
use crate::models::account::{AccountKind, Owner};
use crate::models::app::App;
use crate::models::app_list::Listed;
use crate::models::ml_model::MlModel;
use crate::models::AccountId;

type ModelSql = (
    BigInt,
    BigInt,
    Text,
    Text,
    Text,
    Text,
    Text,
    Text,
    BigInt,
    Nullable<BigInt>,
    Timestamp,
    Timestamp,
);

/// A model's latest trained version: its row id and its version id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestTrained {
    pub id: i64,
    pub version_id: String,
}

/// One row: the owner's id, handle, kind and app count, the app, the model and
/// its latest trained version.
type Row = (
    (i64, String, String, i64),
    App,
    Option<MlModel>,
    (Option<i64>, Option<String>),
);

/// The owner, the app, the model and its latest trained version.
pub type FoundWithLatest = (Owner, App, Option<MlModel>, Option<LatestTrained>);

#[derive(Debug, QueryId)]
struct ModelLookup {
    owner: String,
    app: String,
    model: String,
}

impl Query for ModelLookup {
    type SqlType = (
        (BigInt, Text, Text, BigInt),
        <App as Listed>::Sql,
        Nullable<ModelSql>,
        (Nullable<BigInt>, Nullable<Text>),
    );
}

impl RunQueryDsl<DbConn> for ModelLookup {}

impl QueryFragment<MultiBackend> for ModelLookup {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql("SELECT accounts.id, accounts.handle, accounts.kind, accounts.app_count, ");
        out.push_sql(<App as Listed>::COLUMNS);
        out.push_sql(
            ", ml_models.id, ml_models.app_id, ml_models.model_id, ml_models.name, \
             ml_models.name_lower, ml_models.description, ml_models.model_type, \
             ml_models.visibility, ml_models.star_count, ml_models.created_by, \
             ml_models.created_at, ml_models.updated_at, latest.id, latest.version_id \
             FROM accounts INNER JOIN apps ON apps.owner_id = accounts.id AND apps.handle = ",
        );
        out.push_bind_param::<Text, _>(&self.app)?;
        out.push_sql(
            " LEFT JOIN ml_models ON ml_models.app_id = apps.id AND ml_models.model_id = ",
        );
        out.push_bind_param::<Text, _>(&self.model)?;
        // The latest trained version, through the index `model_versions_model`.
        out.push_sql(
            " LEFT JOIN model_versions AS latest ON latest.id = (SELECT model_versions.id \
             FROM model_versions WHERE model_versions.model_id = ml_models.id \
             AND model_versions.status_code = ",
        );
        out.push_bind_param::<Integer, _>(&TRAINED)?;
        out.push_sql(" ORDER BY model_versions.created_at DESC, model_versions.id DESC LIMIT 1)");
        out.push_sql(" WHERE accounts.handle = ");
        out.push_bind_param::<Text, _>(&self.owner)?;
        out.push_sql(" LIMIT 1");
        Ok(())
    }
}

/// The status of a trained version, bound (so the statement text stays fixed).
static TRAINED: i32 = crate::models::version::status::TRAINED;

/// The owner `owner`, their app `app` and its model `model` (`None` when the app
/// has no such model); `None` when the owner or the app does not exist.
pub fn find_model(
    conn: &mut DbConn,
    owner: &str,
    app: &str,
    model: &str,
) -> QueryResult<Option<(Owner, App, Option<MlModel>)>> {
    Ok(find_model_and_latest(conn, owner, app, model)?
        .map(|(owner, app, model, _)| (owner, app, model)))
}

/// Like [`find_model`], with the model's latest trained version (`None` when it
/// has none, or when there is no such model).
pub fn find_model_and_latest(
    conn: &mut DbConn,
    owner: &str,
    app: &str,
    model: &str,
) -> QueryResult<Option<FoundWithLatest>> {
    let row: Option<Row> = ModelLookup {
        owner: owner.to_owned(),
        app: app.to_owned(),
        model: model.to_owned(),
    }
    .get_result(conn)
    .optional()?;
    Ok(
        row.map(|((id, handle, kind, app_count), app, model, latest)| {
            let latest = match latest {
                (Some(id), Some(version_id)) => Some(LatestTrained { id, version_id }),
                _ => None,
            };
            (
                Owner {
                    id: AccountId(id),
                    handle,
                    kind: AccountKind::parse(&kind),
                    app_count,
                },
                app,
                model,
                latest,
            )
        }),
    )
}
