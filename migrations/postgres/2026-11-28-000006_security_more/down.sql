DROP TABLE two_factor_policies;
DROP TABLE recovery_codes;
DROP TABLE user_totp;
DROP TABLE user_sessions;
DROP INDEX audit_events_org_type;
ALTER TABLE audit_events DROP COLUMN success;
