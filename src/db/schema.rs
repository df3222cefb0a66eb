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
    }
}

diesel::table! {
    memberships (id) {
        id -> BigInt,
        org_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
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

diesel::joinable!(users -> accounts (id));
diesel::joinable!(orgs -> accounts (id));
diesel::joinable!(memberships -> orgs (org_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(apps -> accounts (owner_id));
diesel::joinable!(app_pins -> apps (app_id));
diesel::joinable!(app_pins -> users (user_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(invitations -> orgs (org_id));

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
);
