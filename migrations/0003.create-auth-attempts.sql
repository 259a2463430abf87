-- depends: 0002.create-articles
-- Attempts at POST /auth/verify per email, for the brute-force lockout (blogsvc/security/lockout.py).
-- The email is kept only as the SHA-256 of its lower-cased form: no address is stored that no
-- user has. Rows whose window has closed are deleted by the service's housekeeping.
CREATE TABLE auth_attempts (
    email_key    BINARY(32) NOT NULL,
    attempts     INT UNSIGNED NOT NULL,
    window_start DATETIME(6) NOT NULL,
    PRIMARY KEY (email_key),
    KEY ix_auth_attempts_window_start (window_start)
) ENGINE = InnoDB;
