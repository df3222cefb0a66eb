-- Invitations to join an organization. The emailed link carries a random token;
-- only its SHA-256 is stored. Resending replaces the hash, so the old link dies.
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'org_contributor', 'team_contributor', 'org_user', 'financial_manager')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    -- The account that had this address when the invitation was sent: only it sees
    -- the invitation inside the app (e-mail addresses are not verified).
    invitee_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    expires_at TIMESTAMP NOT NULL,
    delivery_state TEXT NOT NULL DEFAULT 'sending' CHECK (delivery_state IN ('sending', 'sent', 'failed')),
    delivery_error TEXT,
    accepted_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    responded_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX invitations_org_status ON invitations(org_id, status, created_at);
CREATE INDEX invitations_invitee ON invitations(invitee_user_id, status);
-- At most one pending invitation per address and organization.
CREATE UNIQUE INDEX invitations_one_pending ON invitations(org_id, email) WHERE status = 'pending';

-- Who did what to whom, from where: member and invitation events (and later others).
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT REFERENCES orgs(id) ON DELETE SET NULL,
    actor_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    actor_label TEXT NOT NULL DEFAULT '',
    event_type TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_label TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}',
    source_ip TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_org_time ON audit_events(org_id, created_at, id);
CREATE INDEX audit_events_time ON audit_events(created_at);
