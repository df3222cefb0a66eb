DROP TABLE saml_assertions;
DROP TABLE saml_requests;
DROP TABLE sso_settings;
DROP TABLE identity_providers;
