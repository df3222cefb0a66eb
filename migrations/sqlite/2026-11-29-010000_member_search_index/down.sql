DROP INDEX memberships_org_handle;
CREATE INDEX memberships_org_handle ON memberships(org_id, member_handle);
