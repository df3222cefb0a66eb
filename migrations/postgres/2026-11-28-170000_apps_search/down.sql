COMMENT ON COLUMN apps.name_lower IS NULL;
