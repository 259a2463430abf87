-- depends: 0001.create-users
-- Articles, soft-deleted by deleted_at like users. An article deleted because its author was
-- deleted has deleted_with_author set, so restoring the author restores exactly those.
CREATE TABLE articles (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    author_id           BIGINT UNSIGNED NOT NULL,
    title               VARCHAR(200) NOT NULL,
    body                MEDIUMTEXT NULL,
    version             INT UNSIGNED NOT NULL DEFAULT 1,
    created_at          DATETIME(6) NOT NULL,
    updated_at          DATETIME(6) NULL,
    deleted_at          DATETIME(6) NULL,
    deleted_with_author BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (id),
    -- List pages pick their ids from these covering indexes, then fetch only those rows:
    -- live articles by id, and one author's live articles by id.
    KEY ix_articles_deleted_at_id (deleted_at, id),
    KEY ix_articles_author_deleted_at_id (author_id, deleted_at, id),
    CONSTRAINT fk_articles_author FOREIGN KEY (author_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
