-- Signing keys kept in the database (API.md §5.4), when no JWT_PRIVATE_KEY_PATH is set: every
-- node signs with the same key and verifies with every published one. The private half is
-- Fernet-sealed with the session encryption keys; `version` orders writes (compare-and-set by
-- `tradesage keys reseal`). A key is in JWKS from `publish_at` until `expires_at` (its
-- retirement plus the longest life of a token it signed), and signs from `activates_at` until
-- `retires_at`.
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    public_pem TEXT NOT NULL,
    private_sealed TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    publish_at TIMESTAMPTZ NOT NULL,
    activates_at TIMESTAMPTZ NOT NULL,
    retires_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS signing_keys_expires_at ON signing_keys (expires_at);
