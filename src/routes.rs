//! The route table: every path of the browser side (the `/v2` API adds its own
//! scope from `api::configure`). Handlers are plain functions in `web::*`.

use actix_web::web::{self, get, post};
use actix_web::HttpResponse;

use crate::error::AppError;
use crate::web::{
    account, app_page, apps, audit_log, concepts, inputs, invitations, members, model_page,
    model_versions, models, orgs, passwords, profile, security, sessions, sso, sso_admin, teams,
    tokens, two_factor, two_factor_policy, upload,
};

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(crate::api::configure);
    cfg.app_data(
        web::FormConfig::default()
            .limit(256 * 1024)
            .error_handler(|e, _| {
                AppError::BadRequest(format!("The form could not be read: {e}")).into()
            }),
    )
    .app_data(web::QueryConfig::default().error_handler(|e, _| {
        AppError::BadRequest(format!("The query string could not be read: {e}")).into()
    }))
    .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
    .route("/healthz", get().to(healthz))
    .route("/metrics", get().to(crate::metrics::render))
    .route("/static/{file}", get().to(crate::assets::serve))
    .route("/", get().to(home))
    .route("/signup", get().to(account::signup_page))
    .route("/signup", post().to(account::signup))
    .route("/login", get().to(account::login_page))
    .route("/login", post().to(account::login))
    .route("/logout", post().to(account::logout))
    .route("/login/two-factor", get().to(two_factor::challenge_page))
    .route("/login/two-factor", post().to(two_factor::challenge))
    .route("/settings/two-factor", get().to(two_factor::settings))
    .route("/settings/two-factor/setup", post().to(two_factor::setup))
    .route(
        "/settings/two-factor/confirm",
        post().to(two_factor::confirm),
    )
    .route(
        "/settings/two-factor/disable",
        post().to(two_factor::disable),
    )
    .route(
        "/settings/two-factor/recovery-codes",
        post().to(two_factor::regenerate),
    )
    .route(
        "/settings/sessions/revoke-others",
        post().to(sessions::revoke_others),
    )
    .route(
        "/settings/sessions/{id}/revoke",
        post().to(sessions::revoke_one),
    )
    // SAML single sign-on (sign-in side; the ACS is exempt from CSRF, see auth::csrf).
    .route("/sso", get().to(sso::form_page))
    .route("/sso", post().to(sso::submit))
    .route("/sso/{org}", get().to(sso::start_for_org))
    .route("/sso/{org}/metadata", get().to(sso::metadata))
    .route("/sso/{org}/acs", post().to(sso::acs))
    .route("/settings/profile", get().to(profile::profile_page))
    .route("/settings/profile", post().to(profile::update_profile))
    .route("/settings/password", post().to(profile::change_password))
    .route("/password/rules", post().to(passwords::rules))
    .route("/password/expired", get().to(passwords::expired_page))
    .route("/password/expired", post().to(passwords::expired))
    .route("/password/forgot", get().to(passwords::forgot_page))
    .route("/password/forgot", post().to(passwords::forgot))
    .route("/password/reset/{token}", get().to(passwords::reset_page))
    .route("/password/reset/{token}", post().to(passwords::reset))
    .route("/settings/tokens", get().to(tokens::list))
    .route("/settings/tokens", post().to(tokens::create))
    .route(
        "/settings/tokens/{key_id}/revoke",
        post().to(tokens::revoke),
    )
    .route("/settings/apps-view", post().to(apps::set_view))
    .route("/organizations/new", get().to(orgs::new_page))
    .route("/organizations", post().to(orgs::create))
    .route("/switch", post().to(orgs::switch))
    .route("/invitations", get().to(invitations::mine))
    .route(
        "/invitations/received/{id}/accept",
        post().to(invitations::accept_bound),
    )
    .route(
        "/invitations/received/{id}/decline",
        post().to(invitations::decline_bound),
    )
    .route("/invitations/{token}", get().to(invitations::show))
    .route(
        "/invitations/{token}/accept",
        post().to(invitations::accept),
    )
    .route(
        "/invitations/{token}/decline",
        post().to(invitations::decline),
    )
    .route("/starred", get().to(models::starred))
    .route("/{owner}/apps", get().to(apps::list))
    .route("/{owner}/apps", post().to(apps::create))
    .route("/{owner}/apps/new", get().to(apps::new_app))
    .route("/{owner}/account", get().to(orgs::account))
    .route("/{owner}/account", post().to(orgs::update))
    .route("/{owner}/account/leave", post().to(orgs::leave))
    .route("/{owner}/account/delete", post().to(orgs::delete))
    .route("/{owner}/account/security", get().to(security::index))
    .route(
        "/{owner}/account/security/password-policy",
        post().to(security::save_policy),
    )
    .route(
        "/{owner}/account/security/audit-log",
        get().to(audit_log::index),
    )
    .route(
        "/{owner}/account/security/audit-log.csv",
        get().to(audit_log::export),
    )
    .route(
        "/{owner}/account/security/two-factor",
        post().to(two_factor_policy::save),
    )
    // SAML identity providers and "Require SSO" (Security → Single sign-on).
    .route("/{owner}/account/security/sso", get().to(sso_admin::index))
    .route(
        "/{owner}/account/security/sso/providers",
        post().to(sso_admin::create),
    )
    .route(
        "/{owner}/account/security/sso/providers/{id}/enabled",
        post().to(sso_admin::toggle),
    )
    .route(
        "/{owner}/account/security/sso/providers/{id}/delete",
        post().to(sso_admin::delete),
    )
    .route(
        "/{owner}/account/security/sso/require",
        post().to(sso_admin::set_require),
    )
    .route("/{owner}/account/members", get().to(members::index))
    .route(
        "/{owner}/account/members/invite",
        get().to(members::invite_form),
    )
    .route(
        "/{owner}/account/members/invite",
        post().to(members::invite),
    )
    .route(
        "/{owner}/account/members/{member}/role",
        post().to(members::change_role),
    )
    .route(
        "/{owner}/account/members/{member}/remove",
        get().to(members::remove_form),
    )
    .route(
        "/{owner}/account/members/{member}/remove",
        post().to(members::remove),
    )
    .route(
        "/{owner}/account/invitations/{id}/resend",
        post().to(members::resend),
    )
    .route(
        "/{owner}/account/invitations/{id}/rescind",
        post().to(members::rescind),
    )
    .configure(team_routes)
    .route("/{owner}/{app}", get().to(app_page::overview))
    .route("/{owner}/{app}", post().to(app_page::update_overview))
    .route("/{owner}/{app}/settings", get().to(app_page::settings))
    .route(
        "/{owner}/{app}/settings",
        post().to(app_page::update_settings),
    )
    .route(
        "/{owner}/{app}/settings/labels",
        post().to(app_page::update_labels),
    )
    .route("/{owner}/{app}/duplicate", get().to(apps::duplicate_form))
    .route("/{owner}/{app}/duplicate", post().to(apps::duplicate))
    .route("/{owner}/{app}/delete", get().to(apps::delete_form))
    .route("/{owner}/{app}/delete", post().to(apps::delete))
    .route("/{owner}/{app}/pin", post().to(apps::pin))
    .configure(content_routes)
    .route("/{owner}", get().to(apps::owner_home))
    .default_service(web::to(not_found));
}

/// Account → Teams and each team's page.
fn team_routes(cfg: &mut web::ServiceConfig) {
    const T: &str = "/{owner}/account/teams/{team}";
    cfg.route("/{owner}/account/teams", get().to(teams::index))
        .route("/{owner}/account/teams", post().to(teams::create))
        .route("/{owner}/account/teams/new", get().to(teams::create_form))
        .route(T, get().to(teams::page::show))
        .route(T, post().to(teams::page::update))
        .route(&format!("{T}/delete"), post().to(teams::delete))
        .route(
            &format!("{T}/restriction"),
            post().to(teams::page::set_restriction),
        )
        .route(&format!("{T}/apps"), post().to(teams::page::grant))
        .route(
            &format!("{T}/apps/{{app}}/revoke"),
            post().to(teams::page::revoke),
        )
        .route(
            &format!("{T}/members/add"),
            get().to(teams::page::add_members_form),
        )
        .route(
            &format!("{T}/members/add"),
            post().to(teams::page::add_members),
        )
        .route(
            &format!("{T}/members/{{member}}/remove"),
            post().to(teams::page::remove_member),
        );
}

/// The app content: inputs, concepts, models and their versions.
fn content_routes(cfg: &mut web::ServiceConfig) {
    const M: &str = "/{owner}/{app}/models/{model}";
    cfg.route("/{owner}/{app}/inputs", get().to(inputs::list))
        .route(
            "/{owner}/{app}/inputs/upload",
            get().to(upload::upload_form),
        )
        .route("/{owner}/{app}/inputs/upload", post().to(upload::upload))
        .route(
            "/{owner}/{app}/inputs/selection",
            post().to(inputs::selection),
        )
        .route("/{owner}/{app}/inputs/{input}", get().to(inputs::detail))
        .route(
            "/{owner}/{app}/inputs/{input}/concepts",
            post().to(inputs::label_one),
        )
        .route(
            "/{owner}/{app}/inputs/{input}/delete",
            post().to(inputs::delete_one),
        )
        .route(
            "/{owner}/{app}/inputs/{input}/image",
            get().to(inputs::image),
        )
        .route(
            "/{owner}/{app}/inputs/{input}/thumbnail",
            get().to(inputs::thumbnail),
        )
        .route("/{owner}/{app}/concepts", get().to(concepts::list))
        .route("/{owner}/{app}/concepts", post().to(concepts::create))
        .route(
            "/{owner}/{app}/concepts/{concept}/rename",
            post().to(concepts::rename),
        )
        .route(
            "/{owner}/{app}/concepts/{concept}/delete",
            post().to(concepts::delete),
        )
        .route("/{owner}/{app}/models", get().to(models::list))
        .route("/{owner}/{app}/models", post().to(models::create))
        .route("/{owner}/{app}/models/new", get().to(models::new_model))
        .route(M, get().to(model_page::overview))
        .route(M, post().to(model_page::update))
        .route(
            &format!("{M}/visibility"),
            get().to(model_page::visibility_form),
        )
        .route(
            &format!("{M}/visibility"),
            post().to(model_page::set_visibility),
        )
        .route(&format!("{M}/star"), post().to(model_page::star))
        .route(&format!("{M}/train"), post().to(model_page::train))
        .route(&format!("{M}/predict"), post().to(model_page::predict))
        .route(&format!("{M}/use"), get().to(model_page::use_model))
        .route(&format!("{M}/delete"), get().to(models::delete_form))
        .route(&format!("{M}/delete"), post().to(models::delete))
        .route(&format!("{M}/versions"), get().to(model_versions::versions))
        .route(
            &format!("{M}/versions/{{version}}/delete"),
            post().to(model_versions::delete_version),
        )
        .route(&format!("{M}/concepts"), get().to(model_versions::concepts));
}

/// `GET /healthz`: 200 once the server is up and the database answers.
async fn healthz(state: web::Data<crate::state::AppState>) -> HttpResponse {
    let ok = crate::db::run(&state.pool, |conn| {
        use diesel::connection::SimpleConnection;
        conn.batch_execute("SELECT 1").map_err(AppError::from)
    })
    .await;
    match ok {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable"),
    }
}

/// `GET /`: the active profile's apps, or the sign-in page.
async fn home(viewer: crate::auth::session::Viewer) -> HttpResponse {
    let to = match &viewer.user {
        Some(u) => format!("/{}/apps", u.active_handle()),
        None => "/login".to_owned(),
    };
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
