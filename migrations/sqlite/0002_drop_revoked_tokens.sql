-- The revoked-token table was never consulted: refresh-token reuse is caught by the session
-- actor, which spends each token and keeps the hash of the one before (see README).
DROP TABLE IF EXISTS revoked_tokens;
