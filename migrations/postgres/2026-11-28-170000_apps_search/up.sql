-- The SQLite tree adds a trigram index (FTS5) for My Apps search under this name.
-- PostgreSQL keeps the LIKE filter over the (owner, sort) indexes: its trigram
-- index (pg_trgm) is an extension that needs a privilege to install, which Atrium
-- does not require of its database user. This records how the column is searched.
COMMENT ON COLUMN apps.name_lower IS
    'Lower-cased name; My Apps search matches a substring of it or of handle (LIKE)';
