-- 1. The Members page lists an organization's members by handle. Memberships now
-- carry the member's handle (handles never change; a trigger fills it on insert),
-- so page 1 reads the first entries of the (org_id, member_handle) index instead
-- of sorting the whole membership.
ALTER TABLE memberships ADD COLUMN member_handle TEXT NOT NULL DEFAULT '';
UPDATE memberships
   SET member_handle = (SELECT handle FROM accounts WHERE accounts.id = memberships.user_id);
CREATE INDEX memberships_org_handle ON memberships(org_id, member_handle);
CREATE TRIGGER memberships_member_handle AFTER INSERT ON memberships BEGIN
    UPDATE memberships
       SET member_handle = (SELECT handle FROM accounts WHERE accounts.id = new.user_id)
     WHERE id = new.id;
END;

-- 2. Every change to an organization's teams, their members or their grants bumps
-- the organization's teams_version (triggers, so no code path can forget). The
-- server keeps each member's team access in memory keyed by this version, read
-- with the session on every request: a change counts from the next request.
ALTER TABLE orgs ADD COLUMN teams_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER teams_version_teams_insert AFTER INSERT ON teams BEGIN
    UPDATE orgs SET teams_version = teams_version + 1 WHERE id = new.org_id;
END;
CREATE TRIGGER teams_version_teams_update AFTER UPDATE ON teams BEGIN
    UPDATE orgs SET teams_version = teams_version + 1 WHERE id IN (old.org_id, new.org_id);
END;
CREATE TRIGGER teams_version_teams_delete AFTER DELETE ON teams BEGIN
    UPDATE orgs SET teams_version = teams_version + 1 WHERE id = old.org_id;
END;

CREATE TRIGGER teams_version_members_insert AFTER INSERT ON team_members BEGIN
    UPDATE orgs SET teams_version = teams_version + 1
     WHERE id = (SELECT org_id FROM teams WHERE teams.id = new.team_id);
END;
CREATE TRIGGER teams_version_members_update AFTER UPDATE ON team_members BEGIN
    UPDATE orgs SET teams_version = teams_version + 1
     WHERE id IN (SELECT org_id FROM teams WHERE teams.id IN (old.team_id, new.team_id));
END;
CREATE TRIGGER teams_version_members_delete AFTER DELETE ON team_members BEGIN
    UPDATE orgs SET teams_version = teams_version + 1
     WHERE id = (SELECT org_id FROM teams WHERE teams.id = old.team_id);
END;

CREATE TRIGGER teams_version_apps_insert AFTER INSERT ON team_apps BEGIN
    UPDATE orgs SET teams_version = teams_version + 1
     WHERE id = (SELECT org_id FROM teams WHERE teams.id = new.team_id);
END;
CREATE TRIGGER teams_version_apps_update AFTER UPDATE ON team_apps BEGIN
    UPDATE orgs SET teams_version = teams_version + 1
     WHERE id IN (SELECT org_id FROM teams WHERE teams.id IN (old.team_id, new.team_id));
END;
CREATE TRIGGER teams_version_apps_delete AFTER DELETE ON team_apps BEGIN
    UPDATE orgs SET teams_version = teams_version + 1
     WHERE id = (SELECT org_id FROM teams WHERE teams.id = old.team_id);
END;

-- 3. A Team Contributor's My Apps walks the owner's apps in page order and keeps
-- the public ones and those granted to their teams. With the visibility in the
-- sort indexes, that walk reads only the index; the grant check is one probe of
-- team_apps by app (models::app::GrantedTo).
DROP INDEX apps_owner_updated;
CREATE INDEX apps_owner_updated ON apps (owner_id, updated_at, id, name_lower, handle, visibility);
DROP INDEX apps_owner_name;
CREATE INDEX apps_owner_name ON apps (owner_id, name_lower, id, handle, visibility);
