-- Users and organizations share one handle namespace: every user and every org
-- owns exactly one row here, and its id is the user's / org's primary key.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handle TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'org')),
    app_count BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    session_epoch BIGINT NOT NULL DEFAULT 0,
    apps_view TEXT NOT NULL DEFAULT 'grid' CHECK (apps_view IN ('grid', 'list')),
    password_changed_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    billing_email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One organization per user: UNIQUE(user_id) makes a second membership impossible,
-- whatever races the application code may have.
CREATE TABLE memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'org_contributor', 'team_contributor', 'org_user', 'financial_manager')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX memberships_org_role ON memberships(org_id, role);

CREATE TABLE apps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    handle TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    default_language TEXT NOT NULL DEFAULT 'en',
    visibility TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'public')),
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (owner_id, handle)
);
CREATE INDEX apps_owner_updated ON apps(owner_id, updated_at, id);
CREATE INDEX apps_owner_name ON apps(owner_id, name_lower, id);
CREATE INDEX apps_public ON apps(visibility, owner_id);

CREATE TABLE app_pins (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, app_id)
);
CREATE INDEX app_pins_app ON app_pins(app_id);

-- Personal access tokens: only a SHA-256 of the secret is stored.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    description TEXT NOT NULL DEFAULT '',
    secret_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX api_keys_user ON api_keys(user_id, created_at);

-- Failed sign-in counters, keyed by a hash of the e-mail / handle and of the client IP.
CREATE TABLE signin_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
