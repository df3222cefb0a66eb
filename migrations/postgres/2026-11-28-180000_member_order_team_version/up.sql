-- 1. The Members page lists an organization's members by handle. Memberships now
-- carry the member's handle (handles never change; a trigger fills it on insert),
-- so page 1 reads the first entries of the (org_id, member_handle) index instead
-- of sorting the whole membership.
ALTER TABLE memberships ADD COLUMN member_handle TEXT NOT NULL DEFAULT '';
UPDATE memberships m SET member_handle = a.handle FROM accounts a WHERE a.id = m.user_id;
CREATE INDEX memberships_org_handle ON memberships(org_id, member_handle);
CREATE FUNCTION memberships_member_handle() RETURNS trigger AS $$
BEGIN
    NEW.member_handle := (SELECT handle FROM accounts WHERE accounts.id = NEW.user_id);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER memberships_member_handle BEFORE INSERT ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_member_handle();

-- 2. Every change to an organization's teams, their members or their grants bumps
-- the organization's teams_version (triggers, so no code path can forget). The
-- server keeps each member's team access in memory keyed by this version, read
-- with the session on every request: a change counts from the next request.
ALTER TABLE orgs ADD COLUMN teams_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION teams_version_of_team() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE orgs SET teams_version = teams_version + 1 WHERE id = OLD.org_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE orgs SET teams_version = teams_version + 1 WHERE id = NEW.org_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER teams_version AFTER INSERT OR UPDATE OR DELETE ON teams
    FOR EACH ROW EXECUTE FUNCTION teams_version_of_team();

-- For team_members and team_apps: the organization of the row's team.
CREATE FUNCTION teams_version_of_team_row() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE orgs SET teams_version = teams_version + 1
         WHERE id = (SELECT org_id FROM teams WHERE teams.id = OLD.team_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE orgs SET teams_version = teams_version + 1
         WHERE id = (SELECT org_id FROM teams WHERE teams.id = NEW.team_id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER teams_version AFTER INSERT OR UPDATE OR DELETE ON team_members
    FOR EACH ROW EXECUTE FUNCTION teams_version_of_team_row();
CREATE TRIGGER teams_version AFTER INSERT OR UPDATE OR DELETE ON team_apps
    FOR EACH ROW EXECUTE FUNCTION teams_version_of_team_row();

-- 3. A Team Contributor's My Apps walks the owner's apps in page order and keeps
-- the public ones and those granted to their teams. With the visibility in the
-- sort indexes, that walk reads only the index; the grant check is one probe of
-- team_apps by app (models::app::GrantedTo).
DROP INDEX apps_owner_updated;
CREATE INDEX apps_owner_updated ON apps (owner_id, updated_at, id, name_lower, handle, visibility);
DROP INDEX apps_owner_name;
CREATE INDEX apps_owner_name ON apps (owner_id, name_lower, id, handle, visibility);
