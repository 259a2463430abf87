-- depends: 0003.create-auth-attempts
-- Idempotency-Key records for POST routes (blogsvc/security/idempotency.py): one row per caller and
-- key, claimed by the first request (the primary key stops a second), finished with that request's
-- response, replayed to repeats for 24 hours, then deleted by the service's housekeeping.
CREATE TABLE idempotency_keys (
    -- SHA-256 of the caller's token digest and the key: callers' keys never meet, and the key is
    -- not stored as sent.
    key_hash         BINARY(32) NOT NULL,
    -- HMAC-SHA-256 of method, path, query and body, keyed by the service secret: a body may hold
    -- a password, so an unkeyed hash would be one to guess at.
    fingerprint      BINARY(32) NOT NULL,
    -- Random per claim: only the request holding it may finish or release the key.
    claim            BINARY(16) NOT NULL,
    -- A claim still unfinished after this was abandoned (its worker died); the key is free again.
    lease_until      DATETIME(6) NOT NULL,
    -- The first response: NULL while the first request is in flight.
    status           SMALLINT UNSIGNED NULL,
    response_headers TEXT NULL,
    response_body    MEDIUMBLOB NULL,
    created_at       DATETIME(6) NOT NULL,
    expires_at       DATETIME(6) NOT NULL,
    PRIMARY KEY (key_hash),
    KEY ix_idempotency_keys_expires_at (expires_at)
) ENGINE = InnoDB;
