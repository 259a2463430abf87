-- Named queries for Idempotency-Key records. A record is claimed by the first request with its key
-- (the primary key lets only one INSERT succeed), finished with that request's response, and read
-- by repeats. Only the holder of the claim may finish or release it. Binary values go in as hex (or
-- base64 for the body): aiomysql cannot send bytes parameters with the PyMySQL it runs on.

-- name: claim_key!
-- A duplicate key (DuplicateKey) means another request has the key.
INSERT INTO idempotency_keys (key_hash, fingerprint, claim, lease_until, created_at, expires_at)
VALUES (UNHEX(%(key_hash)s), UNHEX(%(fingerprint)s), UNHEX(%(claim)s), %(lease_until)s, %(now)s, %(expires_at)s);

-- name: take_over_key!
-- The key is free again if its record has expired, or if its first request never finished (lease
-- run out). 0 rows: it is not; the row lock lets only one of several takers through.
UPDATE idempotency_keys
   SET fingerprint = UNHEX(%(fingerprint)s), claim = UNHEX(%(claim)s), lease_until = %(lease_until)s,
       status = NULL, response_headers = NULL, response_body = NULL,
       created_at = %(now)s, expires_at = %(expires_at)s
 WHERE key_hash = UNHEX(%(key_hash)s)
   AND (expires_at <= %(now)s OR (status IS NULL AND lease_until <= %(now)s));

-- name: get_key^
SELECT fingerprint, status, response_headers, response_body
  FROM idempotency_keys
 WHERE key_hash = UNHEX(%(key_hash)s) AND expires_at > %(now)s;

-- name: finish_key!
UPDATE idempotency_keys
   SET status = %(status)s, response_headers = %(response_headers)s, response_body = FROM_BASE64(%(response_body)s)
 WHERE key_hash = UNHEX(%(key_hash)s) AND claim = UNHEX(%(claim)s) AND status IS NULL;

-- name: release_key!
-- The first request failed (5xx, or it raised): a retry may run it again.
DELETE FROM idempotency_keys WHERE key_hash = UNHEX(%(key_hash)s) AND claim = UNHEX(%(claim)s) AND status IS NULL;

-- name: delete_expired_keys!
-- Housekeeping, a batch at a time.
DELETE FROM idempotency_keys WHERE expires_at <= %(now)s ORDER BY expires_at LIMIT %(batch)s;
