-- An organization's password policy: one row per organization, absent = defaults.
-- Lengths and counts are checked by the application and bounded here too.
CREATE TABLE password_policies (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    minimum_length INTEGER NOT NULL CHECK (minimum_length BETWEEN 8 AND 256),
    maximum_length INTEGER NOT NULL CHECK (maximum_length BETWEEN 8 AND 256),
    upper_case_needed BOOLEAN NOT NULL,
    lower_case_needed BOOLEAN NOT NULL,
    numeric_needed BOOLEAN NOT NULL,
    non_alphanumeric_needed BOOLEAN NOT NULL,
    -- 0 = passwords never expire.
    password_life_span_days INTEGER NOT NULL CHECK (password_life_span_days BETWEEN 0 AND 3650),
    -- How many previous passwords may not be reused (0 = no rule).
    password_reuse_epoch INTEGER NOT NULL CHECK (password_reuse_epoch BETWEEN 0 AND 24),
    exclude_names BOOLEAN NOT NULL,
    exclude_email BOOLEAN NOT NULL,
    no_common_vocabs BOOLEAN NOT NULL,
    updated_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (minimum_length <= maximum_length)
);

-- The argon2 hashes of a user's previous passwords (the current one included), for
-- the reuse rule. Never plaintext.
CREATE TABLE password_history (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, created_at);

-- "Forgot password" links: only the SHA-256 of the token is stored; one use, short life.
CREATE TABLE password_resets (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets(user_id, created_at);
