-- Failed sign-ins are recorded too: whether the recorded action succeeded.
ALTER TABLE audit_events ADD COLUMN success BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX audit_events_org_type ON audit_events(org_id, event_type, created_at);

-- Server-side record of every browser session, whatever the session store: the
-- session holds a random id, only its SHA-256 is stored here. A row deleted =
-- that session is signed out on its next request.
CREATE TABLE user_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    -- The user's session epoch when signed in: older = ended by a password change.
    epoch BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions(user_id, last_seen_at);

-- TOTP two-factor (RFC 6238): the secret is encrypted with a key derived from the
-- instance's session key. `enabled_at` is NULL until the first code confirms it;
-- `last_step` is the newest time step accepted, so a code is never accepted twice.
CREATE TABLE user_totp (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    enabled_at TIMESTAMP,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

-- One-time recovery codes: SHA-256 of each code, marked when used.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- "Require two-factor" for an organization's members, with a grace period counted
-- from when it was switched on (or from when a member joined, if later).
CREATE TABLE two_factor_policies (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    required BOOLEAN NOT NULL,
    grace_days INTEGER NOT NULL CHECK (grace_days BETWEEN 0 AND 90),
    required_since TIMESTAMP NOT NULL,
    updated_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at TIMESTAMP NOT NULL
);
