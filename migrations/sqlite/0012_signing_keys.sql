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
    created_at TEXT NOT NULL,
    publish_at TEXT NOT NULL,
    activates_at TEXT NOT NULL,
    retires_at TEXT,
    expires_at TEXT,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS signing_keys_expires_at ON signing_keys (expires_at);
