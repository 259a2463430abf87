-- Named queries for the brute-force lockout of POST /auth/verify. An email is kept only as the
-- SHA-256 of its lower-cased form (LOWER() as users.live_email has it, so every spelling that finds
-- a user counts against one row), for unknown addresses as much as for users.
-- A row counts the attempts in a fixed window that opens at the first attempt after the last one
-- closed. The count is raised before the password is checked, in one statement that also says what
-- it raised it to (below), so concurrent attempts each get their own number: exactly MAX_ATTEMPTS
-- of them get through, however many run at once.

-- name: count_attempt<!
-- One more attempt; a window that has passed (opened at or before window_floor) starts again at now.
-- LAST_INSERT_ID(n) makes the new count this statement's "insert id" (session-local, nothing to do
-- with AUTO_INCREMENT). MariaDB assigns left to right, so `attempts` must come first: it still sees
-- the old window_start.
INSERT INTO auth_attempts (email_key, attempts, window_start)
VALUES (UNHEX(SHA2(LOWER(%(email)s), 256)), LAST_INSERT_ID(1), %(now)s)
ON DUPLICATE KEY UPDATE
    attempts     = LAST_INSERT_ID(IF(window_start <= %(window_floor)s, 1, attempts + 1)),
    window_start = IF(window_start <= %(window_floor)s, %(now)s, window_start);

-- name: get_window_start$
-- When the window still open opened (for Retry-After).
SELECT window_start FROM auth_attempts
 WHERE email_key = UNHEX(SHA2(LOWER(%(email)s), 256)) AND window_start > %(window_floor)s;

-- name: forget_attempts!
-- After a right password: the count starts again.
DELETE FROM auth_attempts WHERE email_key = UNHEX(SHA2(LOWER(%(email)s), 256));

-- name: delete_closed_windows!
-- Housekeeping, a batch at a time (ORDER BY makes the LIMIT deterministic, safe for replication).
DELETE FROM auth_attempts WHERE window_start <= %(window_floor)s ORDER BY window_start LIMIT %(batch)s;
