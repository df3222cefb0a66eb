DROP INDEX apps_owner_name;
CREATE INDEX apps_owner_name ON apps (owner_id, name_lower, id);
DROP INDEX apps_owner_updated;
CREATE INDEX apps_owner_updated ON apps (owner_id, updated_at, id);
DROP TRIGGER apps_search_update;
DROP TRIGGER apps_search_delete;
DROP TRIGGER apps_search_insert;
DROP TABLE apps_search;
