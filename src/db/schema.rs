//! The diesel schema, shared by both backends (SQLite and PostgreSQL migrations
//! create the same tables with the same names).

diesel::table! {
    accounts (id) {
        id -> BigInt,
        handle -> Text,
        kind -> Text,
        app_count -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        session_epoch -> BigInt,
        apps_view -> Text,
        password_changed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    orgs (id) {
        id -> BigInt,
        name -> Text,
        billing_email -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// Bumped by triggers on every change to the org's teams, team members
        /// and grants (the key of the in-memory team access cache).
        teams_version -> BigInt,
    }
}

diesel::table! {
    memberships (id) {
        id -> BigInt,
        org_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
        /// The member's handle, filled by a trigger on insert (the Members order).
        member_handle -> Text,
    }
}

diesel::table! {
    apps (id) {
        id -> BigInt,
        owner_id -> BigInt,
        handle -> Text,
        name -> Text,
        name_lower -> Text,
        description -> Text,
        default_language -> Text,
        visibility -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        labels -> Text,
    }
}

diesel::table! {
    app_pins (user_id, app_id) {
        user_id -> BigInt,
        app_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        key_id -> Text,
        user_id -> BigInt,
        description -> Text,
        secret_hash -> Text,
        scopes -> Text,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signin_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        public_id -> Text,
        org_id -> BigInt,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Nullable<BigInt>,
        invitee_user_id -> Nullable<BigInt>,
        status -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        delivery_state -> Text,
        delivery_error -> Nullable<Text>,
        accepted_by -> Nullable<BigInt>,
        responded_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        org_id -> Nullable<BigInt>,
        actor_user_id -> Nullable<BigInt>,
        actor_label -> Text,
        event_type -> Text,
        target_kind -> Text,
        target_id -> Text,
        target_label -> Text,
        details -> Text,
        source_ip -> Text,
        created_at -> Timestamp,
        success -> Bool,
    }
}

diesel::table! {
    password_policies (org_id) {
        org_id -> BigInt,
        minimum_length -> Integer,
        maximum_length -> Integer,
        upper_case_needed -> Bool,
        lower_case_needed -> Bool,
        numeric_needed -> Bool,
        non_alphanumeric_needed -> Bool,
        password_life_span_days -> Integer,
        password_reuse_epoch -> Integer,
        exclude_names -> Bool,
        exclude_email -> Bool,
        no_common_vocabs -> Bool,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    password_history (id) {
        id -> BigInt,
        user_id -> BigInt,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    concepts (id) {
        id -> BigInt,
        app_id -> BigInt,
        concept_id -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inputs (id) {
        id -> BigInt,
        app_id -> BigInt,
        input_id -> Text,
        kind -> Text,
        text -> Nullable<Text>,
        mime -> Nullable<Text>,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        byte_size -> BigInt,
        metadata -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        image -> Nullable<Binary>,
        thumbnail -> Nullable<Binary>,
    }
}

diesel::table! {
    input_concepts (input_id, concept_id) {
        input_id -> BigInt,
        concept_id -> BigInt,
        value -> Double,
    }
}

diesel::table! {
    ml_models (id) {
        id -> BigInt,
        app_id -> BigInt,
        model_id -> Text,
        name -> Text,
        name_lower -> Text,
        description -> Text,
        model_type -> Text,
        visibility -> Text,
        star_count -> BigInt,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    model_concepts (model_id, concept_id) {
        model_id -> BigInt,
        concept_id -> BigInt,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_after -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        progress -> Integer,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    model_versions (id) {
        id -> BigInt,
        model_id -> BigInt,
        version_id -> Text,
        status_code -> Integer,
        failure_reason -> Nullable<Text>,
        job_id -> Nullable<BigInt>,
        total_input_count -> BigInt,
        train_count -> BigInt,
        test_count -> BigInt,
        active_concept_count -> BigInt,
        metrics -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        artifact -> Nullable<Binary>,
    }
}

diesel::table! {
    model_stars (user_id, model_id) {
        user_id -> BigInt,
        model_id -> BigInt,
        created_at -> Timestamp,
    }
}

// --- security_more: sessions, two-factor (2026-11-28-000006) ---
diesel::table! {
    user_sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        epoch -> BigInt,
        ip -> Text,
        user_agent -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    user_totp (user_id) {
        user_id -> BigInt,
        secret -> Text,
        enabled_at -> Nullable<Timestamp>,
        last_step -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    two_factor_policies (org_id) {
        org_id -> BigInt,
        required -> Bool,
        grace_days -> Integer,
        required_since -> Timestamp,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}
diesel::joinable!(user_sessions -> users (user_id));
// --- end security_more ---
// Teams (issue 4).
diesel::table! {
    teams (id) {
        id -> BigInt,
        org_id -> BigInt,
        team_id -> Text,
        name -> Text,
        default_role -> Text,
        restricted_labels -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    team_apps (team_id, app_id) {
        team_id -> BigInt,
        app_id -> BigInt,
        role -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_apps -> teams (team_id));
diesel::joinable!(team_apps -> apps (app_id));
diesel::joinable!(team_members -> users (user_id));

// --- SAML single sign-on (identity providers, settings, request and replay caches) ---

diesel::table! {
    identity_providers (id) {
        id -> BigInt,
        public_id -> Text,
        org_id -> BigInt,
        name -> Text,
        entity_id -> Text,
        sso_url -> Text,
        certificate -> Text,
        metadata_xml -> Nullable<Text>,
        email_domain -> Nullable<Text>,
        default_role -> Text,
        enabled -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sso_settings (org_id) {
        org_id -> BigInt,
        require_sso -> Bool,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    saml_requests (request_id) {
        request_id -> Text,
        idp_id -> BigInt,
        next -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    saml_assertions (idp_id, assertion_id) {
        assertion_id -> Text,
        idp_id -> BigInt,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(users -> accounts (id));
diesel::joinable!(orgs -> accounts (id));
diesel::joinable!(memberships -> orgs (org_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(apps -> accounts (owner_id));
diesel::joinable!(app_pins -> apps (app_id));
diesel::joinable!(app_pins -> users (user_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(invitations -> orgs (org_id));
diesel::joinable!(concepts -> apps (app_id));
diesel::joinable!(inputs -> apps (app_id));
diesel::joinable!(input_concepts -> inputs (input_id));
diesel::joinable!(input_concepts -> concepts (concept_id));
diesel::joinable!(ml_models -> apps (app_id));
diesel::joinable!(model_concepts -> ml_models (model_id));
diesel::joinable!(model_concepts -> concepts (concept_id));
diesel::joinable!(model_versions -> ml_models (model_id));
diesel::joinable!(model_versions -> jobs (job_id));
diesel::joinable!(model_stars -> ml_models (model_id));
diesel::joinable!(model_stars -> users (user_id));
diesel::joinable!(identity_providers -> orgs (org_id));
diesel::joinable!(saml_requests -> identity_providers (idp_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    orgs,
    memberships,
    apps,
    app_pins,
    api_keys,
    signin_throttle,
    invitations,
    audit_events,
    password_policies,
    password_history,
    password_resets,
    concepts,
    inputs,
    input_concepts,
    ml_models,
    model_concepts,
    jobs,
    model_versions,
    model_stars,
    user_sessions,
    user_totp,
    recovery_codes,
    two_factor_policies,
    teams,
    team_members,
    team_apps,
    identity_providers,
    sso_settings,
    saml_requests,
    saml_assertions,
);
