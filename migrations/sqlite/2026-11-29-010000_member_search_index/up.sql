-- A search on the Members page walks the organization's members in handle order
-- and reads each one's user row. With the user id in the index, the walk reads
-- only the index until it reaches the user; the membership row itself is read
-- for the page's matches alone.
DROP INDEX memberships_org_handle;
CREATE INDEX memberships_org_handle ON memberships(org_id, member_handle, user_id);
