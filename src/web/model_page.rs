//! The model page: its header (star, **Edit Visibility**, **Train Model**, **Use
//! Model**, delete) and the **Overview** tab (details, edit, the predict box).
//! The Versions and Concepts tabs are in `model_versions.rs`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::policy::{can, Action, Target};
use crate::auth::session::Viewer;
use crate::content::predict::{predict as run_predict, OwnedSample, PredictFailure, Prediction};
use crate::error::AppError;
use crate::models::account::Owner;
use crate::models::app::{App, Visibility};
use crate::models::audit::EventKind;
use crate::models::concept::Concept;
use crate::models::ml_model::MlModel;
use crate::models::model_audit;
use crate::models::version::ModelVersion;
use crate::state::AppState;
use crate::web::app_page::{sidebar, Sidebar};
use crate::web::forms::{self, FormData, Limits};
use crate::web::models::{load_model, validate_concept_choice, validate_model_fields, ModelCtx};
use crate::web::{flash, is_htmx, page, redirect, render, FieldErrors, Nav};

/// What the header of every tab shows.
pub struct ModelHeader {
    pub owner: Owner,
    pub app: App,
    pub model: MlModel,
    pub type_title: &'static str,
    pub starred: bool,
    pub latest: Option<ModelVersion>,
    pub can_edit: bool,
    pub can_train: bool,
    pub can_star: bool,
    pub can_predict: bool,
    /// The app's sidebar, for those who may open the app itself.
    pub sidebar: Option<Sidebar>,
}

impl ModelHeader {
    /// The model's base URL.
    pub fn base(&self) -> String {
        format!(
            "/{}/{}/models/{}",
            self.owner.handle, self.app.handle, self.model.model_id
        )
    }
}

/// Builds the header (two queries: the star and the latest version).
pub async fn header(
    state: &AppState,
    viewer: &Viewer,
    ctx: ModelCtx,
) -> Result<ModelHeader, AppError> {
    let ModelCtx { owner, app, model } = ctx;
    let key = model.key();
    let uid = viewer.user.as_ref().map(|u| u.id);
    let (starred, latest) = crate::db::run(&state.pool, move |conn| {
        let starred = match uid {
            Some(u) => MlModel::is_starred(conn, u, key)?,
            None => false,
        };
        Ok((starred, ModelVersion::latest(conn, key)?))
    })
    .await?;
    let actor = &viewer.actor;
    let target = Target::Model(&app, &model);
    Ok(ModelHeader {
        type_title: model.model_type().title(),
        starred,
        latest,
        can_edit: can(actor, Action::EditModels, target).is_ok(),
        can_train: can(actor, Action::TrainModel, target).is_ok(),
        can_star: viewer.user.is_some() && can(actor, Action::StarModel, target).is_ok(),
        can_predict: viewer.user.is_some() && can(actor, Action::Predict, target).is_ok(),
        sidebar: can(actor, Action::ReadContent, Target::App(&app))
            .is_ok()
            .then(|| sidebar(viewer, &owner, &app, "models")),
        owner,
        app,
        model,
    })
}

/// The edit form, as typed.
#[derive(Debug, Clone, Default)]
pub struct EditForm {
    pub name: String,
    pub description: String,
    pub concepts: Vec<String>,
    pub new_concepts: String,
}

impl EditForm {
    pub fn has(&self, concept: &str) -> bool {
        self.concepts.iter().any(|c| c == concept)
    }
}

/// The predict box's state.
#[derive(Debug, Default)]
pub struct PredictBox {
    pub text: String,
    pub result: Option<Prediction>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "model/overview.html")]
struct OverviewPage {
    nav: Nav,
    h: ModelHeader,
    concepts: Vec<Concept>,
    known: Vec<Concept>,
    form: EditForm,
    errors: FieldErrors,
    predict: PredictBox,
    created: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "model/overview.html", block = "predict_result")]
struct PredictResult {
    predict: PredictBox,
}

async fn overview_page(
    state: &AppState,
    viewer: &Viewer,
    ctx: ModelCtx,
    form: Option<EditForm>,
    errors: FieldErrors,
    predict: PredictBox,
) -> Result<OverviewPage, AppError> {
    let (key, app_id) = (ctx.model.key(), ctx.app.app_id());
    let (concepts, known) = crate::db::run(&state.pool, move |conn| {
        Ok((
            MlModel::concepts(conn, key, None)?,
            Concept::all(conn, app_id, 1000)?,
        ))
    })
    .await?;
    let h = header(state, viewer, ctx).await?;
    let form = form.unwrap_or_else(|| EditForm {
        name: h.model.name.clone(),
        description: h.model.description.clone(),
        concepts: concepts.iter().map(|c| c.concept_id.clone()).collect(),
        new_concepts: String::new(),
    });
    Ok(OverviewPage {
        nav: Nav::new(viewer),
        created: crate::web::fmt_time(&h.model.created_at),
        updated: crate::web::fmt_time(&h.model.updated_at),
        h,
        concepts,
        known,
        form,
        errors,
        predict,
    })
}

/// `GET /{owner}/{app}/models/{model}`: the Overview tab.
pub async fn overview(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::ReadContent).await?;
    page(
        &overview_page(
            &state,
            &viewer,
            ctx,
            None,
            FieldErrors::new(),
            PredictBox::default(),
        )
        .await?,
    )
}

/// `POST /{owner}/{app}/models/{model}`: saves name, description and concepts.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/models/{m}"))?.clone();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::EditModels).await?;
    let data = FormData {
        fields: form.into_inner(),
        files: Vec::new(),
    };
    let form = EditForm {
        name: data.get("name").to_owned(),
        description: data.get("description").to_owned(),
        concepts: data
            .all("concepts")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        new_concepts: data.get("new_concepts").to_owned(),
    };
    let mut errors = FieldErrors::new();
    let fields = validate_model_fields(
        &mut errors,
        &form.name,
        &ctx.model.model_id,
        &form.description,
        ctx.model.visibility().as_str(),
    );
    let concepts = validate_concept_choice(&mut errors, &form.concepts, &form.new_concepts);
    let (Some(fields), Some(concepts)) = (fields, concepts) else {
        let p = overview_page(
            &state,
            &viewer,
            ctx,
            Some(form),
            errors,
            PredictBox::default(),
        )
        .await?;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &p);
    };
    let (key, app_id) = (ctx.model.key(), ctx.app.app_id());
    let actor = crate::web::members::audit_actor(&req, &user);
    let (owner, app, before) = (ctx.owner.clone(), ctx.app.clone(), ctx.model.clone());
    crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction(conn, |conn| {
            let keys: Vec<i64> = Concept::ensure(conn, app_id, &concepts)?
                .iter()
                .map(|c| c.id)
                .collect();
            let after = MlModel::update(conn, key, &fields, Some(&keys))?;
            let details = model_audit::changes(&before, &after, Some(&concepts));
            model_audit::record(
                conn,
                &owner,
                &app,
                &after,
                &actor,
                EventKind::ModelUpdate,
                details,
            )
        })?)
    })
    .await?;
    flash(&viewer.session, "Model saved.");
    Ok(redirect(
        &req,
        &format!(
            "/{}/{}/models/{}",
            ctx.owner.handle, ctx.app.handle, ctx.model.model_id
        ),
    ))
}

#[derive(Template)]
#[template(path = "model/visibility.html")]
struct VisibilityPage {
    nav: Nav,
    base: String,
    model: MlModel,
}

#[derive(Template)]
#[template(path = "model/visibility.html", block = "dialog")]
struct VisibilityDialog {
    nav: Nav,
    base: String,
    model: MlModel,
}

fn base_of(ctx: &ModelCtx) -> String {
    format!(
        "/{}/{}/models/{}",
        ctx.owner.handle, ctx.app.handle, ctx.model.model_id
    )
}

/// `GET /{owner}/{app}/models/{model}/visibility`: the **Edit Visibility** dialog.
pub async fn visibility_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/models/{m}"))?;
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::EditModels).await?;
    let (nav, base) = (Nav::new(&viewer), base_of(&ctx));
    if is_htmx(&req) {
        page(&VisibilityDialog {
            nav,
            base,
            model: ctx.model,
        })
    } else {
        page(&VisibilityPage {
            nav,
            base,
            model: ctx.model,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VisibilityForm {
    pub visibility: String,
}

/// `POST /{owner}/{app}/models/{model}/visibility`
pub async fn set_visibility(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
    form: web::Form<VisibilityForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/models/{m}"))?.clone();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::EditModels).await?;
    let visibility = Visibility::parse(&form.visibility)
        .ok_or_else(|| AppError::BadRequest("Choose private or public.".to_owned()))?;
    let key = ctx.model.key();
    let actor = crate::web::members::audit_actor(&req, &user);
    let (owner, app, before) = (ctx.owner.clone(), ctx.app.clone(), ctx.model.clone());
    crate::db::run(&state.pool, move |conn| {
        Ok(crate::db::transaction(conn, |conn| {
            let after = MlModel::set_visibility(conn, key, visibility)?;
            if after.visibility != before.visibility {
                model_audit::record(
                    conn,
                    &owner,
                    &app,
                    &after,
                    &actor,
                    EventKind::ModelUpdate,
                    model_audit::changes(&before, &after, None),
                )?;
            }
            Ok::<_, diesel::result::Error>(after)
        })?)
    })
    .await?;
    flash(
        &viewer.session,
        format!("The model is now {}.", visibility.as_str()),
    );
    Ok(redirect(&req, &base_of(&ctx)))
}

#[derive(Template)]
#[template(path = "model/star.html")]
struct StarButton {
    nav: Nav,
    h: ModelHeader,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StarForm {
    pub starred: String,
}

/// `POST /{owner}/{app}/models/{model}/star`: stars (`starred=true`) or unstars.
pub async fn star(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
    form: web::Form<StarForm>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/models/{m}"))?.clone();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::StarModel).await?;
    let starred = match form.starred.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(AppError::BadRequest(
                "starred must be true or false.".to_owned(),
            ))
        }
    };
    let key = ctx.model.key();
    let model = crate::db::run(&state.pool, move |conn| {
        MlModel::set_starred(conn, user.id, key, starred)?;
        Ok(crate::db::schema::ml_models::table
            .find(key.0)
            .select(MlModel::as_select())
            .first::<MlModel>(conn)?)
    })
    .await?;
    let base = base_of(&ctx);
    if is_htmx(&req) {
        let ctx = ModelCtx { model, ..ctx };
        let h = header(&state, &viewer, ctx).await?;
        return page(&StarButton {
            nav: Nav::new(&viewer),
            h,
        });
    }
    Ok(redirect(&req, &base))
}

/// `POST /{owner}/{app}/models/{model}/train`: **Train Model** (a new version, queued).
pub async fn train(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    let user = viewer.require(&format!("/{o}/{a}/models/{m}"))?.clone();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::TrainModel).await?;
    let key = ctx.model.key();
    let actor = crate::web::members::audit_actor(&req, &user);
    let (owner, app, model) = (ctx.owner.clone(), ctx.app.clone(), ctx.model.clone());
    let version = crate::db::run(&state.pool, move |conn| {
        crate::db::transaction(conn, |conn| {
            let v = crate::content::training::enqueue(conn, key, Some(user.id))?;
            model_audit::record(
                conn,
                &owner,
                &app,
                &model,
                &actor,
                EventKind::ModelTrain,
                serde_json::json!({ "version": v.version_id }),
            )?;
            Ok(v)
        })
    })
    .await?;
    state.jobs.notify();
    tracing::info!(user_id = user.id.0, model = %ctx.model.model_id, version = %version.version_id, "training queued");
    flash(
        &viewer.session,
        format!("Training queued: version {}.", version.version_id),
    );
    Ok(redirect(&req, &format!("{}/versions", base_of(&ctx))))
}

/// `POST /{owner}/{app}/models/{model}/predict`: the predict box (a text, or an
/// image file in a multipart form). htmx receives the result block only.
pub async fn predict(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    viewer.require(&format!("/{o}/{a}/models/{m}"))?;
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::Predict).await?;
    let limits = Limits {
        total: crate::ml::picture::MAX_IMAGE_BYTES + 256 * 1024,
        field: crate::content::upload::MAX_TEXT_BYTES + 64 * 1024,
        files: 1,
    };
    let mut boxed = PredictBox::default();
    match forms::read(&req, payload, limits).await {
        Err(message) => boxed.error = Some(message),
        Ok(data) => {
            boxed.text = data.get("text").to_owned();
            let sample = match data.files.into_iter().next() {
                Some(f) => OwnedSample::Image(f.bytes),
                None if ctx.model.is_text() => OwnedSample::Text(boxed.text.clone()),
                None => OwnedSample::Image(Vec::new()),
            };
            match run_predict(&state, &ctx.model, None, sample).await {
                Ok(p) => boxed.result = Some(p),
                Err(PredictFailure::Internal(e)) => return Err(e),
                Err(f) => boxed.error = Some(f.message()),
            }
        }
    }
    let status = if boxed.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    if is_htmx(&req) {
        return render(status, &PredictResult { predict: boxed });
    }
    let p = overview_page(&state, &viewer, ctx, None, FieldErrors::new(), boxed).await?;
    render(status, &p)
}

#[derive(Template)]
#[template(path = "model/use.html")]
struct UsePage {
    nav: Nav,
    snippets: Snippets,
}

#[derive(Template)]
#[template(path = "model/use.html", block = "dialog")]
struct UseDialog {
    snippets: Snippets,
}

/// The ready-to-run API examples with the real ids.
pub struct Snippets {
    pub title: String,
    pub curl: String,
    pub python: String,
    pub version: Option<String>,
}

/// Builds the snippets for a model (its latest trained version when there is one).
pub fn snippets(
    base_url: &str,
    owner: &str,
    app: &str,
    model: &MlModel,
    version: Option<&str>,
) -> Snippets {
    let version_path = version
        .map(|v| format!("/versions/{v}"))
        .unwrap_or_default();
    let (data_json, data_py, note) = if model.is_text() {
        (
            r#"{"inputs": [{"data": {"text": {"raw": "The text to classify"}}}]}"#.to_owned(),
            r#"resources_pb2.Data(text=resources_pb2.Text(raw="The text to classify"))"#.to_owned(),
            "",
        )
    } else {
        (
            r#"{"inputs": [{"data": {"image": {"base64": "'"$(base64 -w0 photo.jpg)"'"}}}]}"#.to_owned(),
            r#"resources_pb2.Data(image=resources_pb2.Image(base64=open("photo.jpg", "rb").read()))"#.to_owned(),
            "# photo.jpg: the image to classify\n",
        )
    };
    let curl = format!(
        "{note}curl -X POST \"{base_url}/v2/users/{owner}/apps/{app}/models/{model_id}{version_path}/outputs\" \\\n  -H \"Authorization: Key $ATRIUM_PAT\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{data_json}'",
        model_id = model.model_id,
    );
    let version_arg = version
        .map(|v| format!("        version_id=\"{v}\",\n"))
        .unwrap_or_default();
    let python = format!(
        "# pip install clarifai-grpc 'protobuf<7'\nimport os\n\nfrom clarifai_grpc.channel.clarifai_channel import ClarifaiChannel\nfrom clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc\nfrom clarifai_grpc.grpc.api.status import status_code_pb2\n\n{note}channel = ClarifaiChannel.get_json_channel(base_url=\"{base_url}\")\nstub = service_pb2_grpc.V2Stub(channel)\nmetadata = ((\"authorization\", \"Key \" + os.environ[\"ATRIUM_PAT\"]),)\n\nresponse = stub.PostModelOutputs(\n    service_pb2.PostModelOutputsRequest(\n        user_app_id=resources_pb2.UserAppIDSet(user_id=\"{owner}\", app_id=\"{app}\"),\n        model_id=\"{model_id}\",\n{version_arg}        inputs=[resources_pb2.Input(data={data_py})],\n    ),\n    metadata=metadata,\n)\nif response.status.code != status_code_pb2.SUCCESS:\n    raise Exception(response.status.description)\nfor concept in response.outputs[0].data.concepts:\n    print(f\"{{concept.name}}: {{concept.value:.3f}}\")\n",
        model_id = model.model_id,
    );
    Snippets {
        title: model.name.clone(),
        curl,
        python,
        version: version.map(str::to_owned),
    }
}

/// `GET /{owner}/{app}/models/{model}/use`: **Use Model**.
pub async fn use_model(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (o, a, m) = path.into_inner();
    let ctx = load_model(&state, &viewer, &o, &a, &m, Action::ReadContent).await?;
    let key = ctx.model.key();
    let version = crate::db::run(&state.pool, move |conn| {
        Ok(ModelVersion::latest_trained(conn, key)?)
    })
    .await?;
    let snippets = snippets(
        &state.config.public_url,
        &ctx.owner.handle,
        &ctx.app.handle,
        &ctx.model,
        version.as_ref().map(|v| v.version_id.as_str()),
    );
    if is_htmx(&req) {
        page(&UseDialog { snippets })
    } else {
        page(&UsePage {
            nav: Nav::new(&viewer),
            snippets,
        })
    }
}
