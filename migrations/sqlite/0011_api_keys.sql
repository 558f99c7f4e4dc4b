-- API keys (API.md §5.3). A key is `tsk_<id>_<secret>`: the id part finds the row without a
-- scan, and only the SHA-256 of the 32-byte random secret is kept (`secret_hash`, hex). The
-- clear columns serve the lists and the per-user cap; `state` is the key's Fernet-sealed state
-- as its actor persists it (compare-and-set on `version`), like a session's.
CREATE TABLE IF NOT EXISTS api_keys (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    allowed_ips TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT,
    state TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS api_keys_owner ON api_keys (tenant_id, user_id, id);
