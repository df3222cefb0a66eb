-- SAML identity providers of an organization. `certificate` is the IdP's signing
-- certificate as base64 DER; `metadata_xml` keeps the metadata it was created from.
-- At most one provider of an organization is enabled at a time (the partial index);
-- an email domain leads to at most one provider across all organizations.
CREATE TABLE identity_providers (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    sso_url TEXT NOT NULL,
    certificate TEXT NOT NULL,
    metadata_xml TEXT,
    email_domain TEXT UNIQUE,
    default_role TEXT NOT NULL CHECK (default_role IN ('org_contributor', 'team_contributor', 'org_user', 'financial_manager')),
    enabled BOOLEAN NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, name)
);
CREATE UNIQUE INDEX identity_providers_one_enabled ON identity_providers(org_id) WHERE enabled;

-- "Require SSO": members other than admins must sign in through the enabled provider.
CREATE TABLE sso_settings (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    require_sso BOOLEAN NOT NULL,
    updated_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at TIMESTAMP NOT NULL
);

-- AuthnRequests Atrium sent: a response must answer one of them (InResponseTo),
-- and each is consumed by the first response that does.
CREATE TABLE saml_requests (
    request_id TEXT PRIMARY KEY,
    idp_id BIGINT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    next TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX saml_requests_expiry ON saml_requests(expires_at);

-- Assertion ids already accepted (replay cache), kept until the assertion expires.
CREATE TABLE saml_assertions (
    assertion_id TEXT NOT NULL,
    idp_id BIGINT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (idp_id, assertion_id)
);
CREATE INDEX saml_assertions_expiry ON saml_assertions(expires_at);
