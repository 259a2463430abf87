-- Users, soft-deleted by deleted_at. Times are UTC (the pool sets time_zone = '+00:00').
CREATE TABLE users (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    email         VARCHAR(254) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    first_name    VARCHAR(100) NOT NULL DEFAULT '',
    last_name     VARCHAR(100) NOT NULL DEFAULT '',
    city          VARCHAR(100) NOT NULL DEFAULT '',
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    version       INT UNSIGNED NOT NULL DEFAULT 1,
    created_at    DATETIME(6) NOT NULL,
    updated_at    DATETIME(6) NULL,
    deleted_at    DATETIME(6) NULL,
    -- Email is unique among live users, ignoring case: NULL once deleted (NULLs never collide),
    -- and a binary collation so that only case folds, not accents.
    live_email    VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
                  AS (IF(deleted_at IS NULL, LOWER(email), NULL)) STORED,
    PRIMARY KEY (id),
    UNIQUE KEY uq_users_live_email (live_email),
    -- Live users in id order, for pages that must not scan past deleted rows.
    KEY ix_users_deleted_at_id (deleted_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
