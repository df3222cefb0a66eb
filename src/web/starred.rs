//! The **Starred** page of the profile menu: the models the user starred that
//! they may still open (a model made private again drops out).

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::policy::{can, Action, Target};
use crate::auth::session::Viewer;
use crate::error::AppError;
use crate::models::app::App;
use crate::models::ml_model::MlModel;
use crate::state::AppState;
use crate::web::{page, Nav};

/// One starred model the user may still see.
pub struct StarredRow {
    pub owner: String,
    pub app: App,
    pub model: MlModel,
    pub type_title: &'static str,
}

#[derive(Template)]
#[template(path = "models/starred.html")]
struct StarredPage {
    nav: Nav,
    rows: Vec<StarredRow>,
}

/// `GET /starred`: the models the user starred (those they can still open).
pub async fn starred(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, AppError> {
    let user = viewer.require("/starred")?.clone();
    let stars = crate::db::run(&state.pool, move |conn| {
        Ok(MlModel::starred_by(conn, user.id)?)
    })
    .await?;
    let rows = stars
        .into_iter()
        .filter(|s| {
            can(
                &viewer.actor,
                Action::ReadContent,
                Target::Model(&s.app, &s.model),
            )
            .is_ok()
        })
        .map(|s| StarredRow {
            type_title: s.model.model_type().title(),
            owner: s.owner_handle,
            app: s.app,
            model: s.model,
        })
        .collect();
    page(&StarredPage {
        nav: Nav::new(&viewer),
        rows,
    })
}
