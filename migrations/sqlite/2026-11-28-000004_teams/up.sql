-- Teams of an organization, their members and the apps granted to them.
-- Compliance labels: stored as ",gdpr,hipaa," (sorted, lower case, each wrapped in
-- commas) so that "carries label L" is the plain condition LIKE '%,L,%'.
ALTER TABLE apps ADD COLUMN labels TEXT NOT NULL DEFAULT '';

CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL,
    name TEXT NOT NULL,
    default_role TEXT NOT NULL CHECK (default_role IN ('full_access', 'model_trainer', 'labeler_lead', 'labeler_worker')),
    -- The labels an app must carry for the team's members to reach it ('' = none).
    restricted_labels TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, team_id)
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id, team_id);

-- A grant: the team's members work in the app with this team role (NULL: the
-- team's default role, followed when it changes).
CREATE TABLE team_apps (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    role TEXT CHECK (role IN ('full_access', 'model_trainer', 'labeler_lead', 'labeler_worker')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (team_id, app_id)
);
CREATE INDEX team_apps_app ON team_apps(app_id);
-- Covers the per-request grants query (team -> app, role) without table reads.
CREATE INDEX team_apps_team_role ON team_apps(team_id, app_id, role);
