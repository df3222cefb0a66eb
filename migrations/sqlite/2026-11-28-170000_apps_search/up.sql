-- My Apps search finds a substring of an app's name or id ("arl" finds "Charlie").
-- A LIKE '%term%' filter has to read every app of the owner when few match, so
-- SQLite also keeps a trigram index of the two columns: a search of 3 characters
-- or more first asks it which apps can match, and when they are few, reads only
-- those (the LIKE filter still decides; see models::app::search_hits).
-- External content: the text lives in `apps`; the triggers keep the index in step.
CREATE VIRTUAL TABLE apps_search USING fts5(
    name_lower, handle,
    content = 'apps', content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO apps_search (apps_search) VALUES ('rebuild');

CREATE TRIGGER apps_search_insert AFTER INSERT ON apps BEGIN
    INSERT INTO apps_search (rowid, name_lower, handle)
    VALUES (new.id, new.name_lower, new.handle);
END;

CREATE TRIGGER apps_search_delete AFTER DELETE ON apps BEGIN
    INSERT INTO apps_search (apps_search, rowid, name_lower, handle)
    VALUES ('delete', old.id, old.name_lower, old.handle);
END;

CREATE TRIGGER apps_search_update AFTER UPDATE OF name_lower, handle ON apps BEGIN
    INSERT INTO apps_search (apps_search, rowid, name_lower, handle)
    VALUES ('delete', old.id, old.name_lower, old.handle);
    INSERT INTO apps_search (rowid, name_lower, handle)
    VALUES (new.id, new.name_lower, new.handle);
END;

-- When a term is common, the page is found by walking the owner's apps in page
-- order and testing each; with the two searched columns in the sort indexes, that
-- walk reads only the index and visits the table for the rows it returns.
DROP INDEX apps_owner_updated;
CREATE INDEX apps_owner_updated ON apps (owner_id, updated_at, id, name_lower, handle);
DROP INDEX apps_owner_name;
CREATE INDEX apps_owner_name ON apps (owner_id, name_lower, id, handle);
