-- Two-factor sign-in (API.md §5.2). A user's two-factor state (TOTP secret, recovery-code
-- hashes, last used time step) is one Fernet-sealed value in `users.mfa_state`, written by
-- compare-and-set on `mfa_version`; only the flag `mfa_enabled` is in clear, for the views.
-- Pending two-factor sign-ins are sealed too, found by the SHA-256 of their token.
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS require_mfa BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE users ADD COLUMN IF NOT EXISTS mfa_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN IF NOT EXISTS mfa_state TEXT;
ALTER TABLE users ADD COLUMN IF NOT EXISTS mfa_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS mfa_challenges (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS mfa_challenges_expires_at ON mfa_challenges (expires_at);
