-- App content: concepts (labels), inputs (texts and images) and their labels,
-- models with their versions and stars, and the durable job queue that trains them.

CREATE TABLE concepts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    concept_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (app_id, concept_id)
);

-- Image bytes and thumbnails stay in the row (BLOB columns last, so listings that
-- do not select them never read them).
CREATE TABLE inputs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    input_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'image')),
    text TEXT,
    mime TEXT,
    width INTEGER,
    height INTEGER,
    byte_size BIGINT NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    image BLOB,
    thumbnail BLOB,
    UNIQUE (app_id, input_id),
    CHECK ((kind = 'text' AND text IS NOT NULL) OR (kind = 'image' AND image IS NOT NULL))
);
CREATE INDEX inputs_app_id ON inputs(app_id, id);

-- value 1 = the input shows the concept, 0 = it does not (a negative label).
CREATE TABLE input_concepts (
    input_id BIGINT NOT NULL REFERENCES inputs(id) ON DELETE CASCADE,
    concept_id BIGINT NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
    value DOUBLE PRECISION NOT NULL CHECK (value >= 0 AND value <= 1),
    PRIMARY KEY (input_id, concept_id)
);
CREATE INDEX input_concepts_concept ON input_concepts(concept_id, input_id);

CREATE TABLE ml_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    model_type TEXT NOT NULL CHECK (model_type IN ('text-classifier', 'visual-classifier')),
    visibility TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'public')),
    star_count BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (app_id, model_id)
);
CREATE INDEX ml_models_app_updated ON ml_models(app_id, updated_at, id);

-- The concepts a model learns.
CREATE TABLE model_concepts (
    model_id BIGINT NOT NULL REFERENCES ml_models(id) ON DELETE CASCADE,
    concept_id BIGINT NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
    PRIMARY KEY (model_id, concept_id)
);
CREATE INDEX model_concepts_concept ON model_concepts(concept_id);

-- Durable background work, claimed atomically (UPDATE ... WHERE status = 'queued').
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    run_after TIMESTAMP NOT NULL,
    locked_by TEXT,
    locked_until TIMESTAMP,
    progress INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_queue ON jobs(status, run_after, id);

-- status_code: 21103 queued, 21101 training, 21100 trained, 21106 / 21110-21119 failed.
CREATE TABLE model_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id BIGINT NOT NULL REFERENCES ml_models(id) ON DELETE CASCADE,
    version_id TEXT NOT NULL UNIQUE,
    status_code INTEGER NOT NULL,
    failure_reason TEXT,
    job_id BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    total_input_count BIGINT NOT NULL DEFAULT 0,
    train_count BIGINT NOT NULL DEFAULT 0,
    test_count BIGINT NOT NULL DEFAULT 0,
    active_concept_count BIGINT NOT NULL DEFAULT 0,
    metrics TEXT,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    artifact BLOB
);
CREATE INDEX model_versions_model ON model_versions(model_id, created_at, id);

CREATE TABLE model_stars (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    model_id BIGINT NOT NULL REFERENCES ml_models(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, model_id)
);
CREATE INDEX model_stars_model ON model_stars(model_id);
