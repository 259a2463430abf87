-- depends: 0008.create-tags
-- transactional: false
-- The indexes article lists page from (sql/articles.sql): for each sort (id, created_at, published_at),
-- all live articles, one author's, one status's, each ending in id so that ties are broken by it and a
-- keyset cursor seeks straight to its place, however deep; changed_at (when last updated, or created)
-- for sort=updated_at and updated_since. Built while articles are written (LOCK=NONE).
ALTER TABLE articles
    ADD COLUMN changed_at DATETIME(6) AS (IFNULL(updated_at, created_at)) VIRTUAL,
    ALGORITHM = INPLACE, LOCK = NONE;

ALTER TABLE articles
    ADD KEY ix_articles_deleted_at_created_at_id (deleted_at, created_at, id),
    ADD KEY ix_articles_deleted_at_published_at_id (deleted_at, published_at, id),
    ADD KEY ix_articles_deleted_at_changed_at_id (deleted_at, changed_at, id),
    ADD KEY ix_articles_author_deleted_at_created_at_id (author_id, deleted_at, created_at, id),
    ADD KEY ix_articles_author_deleted_at_published_at_id (author_id, deleted_at, published_at, id),
    ADD KEY ix_articles_status_deleted_at_id (status, deleted_at, id),
    ADD KEY ix_articles_status_deleted_at_created_at_id (status, deleted_at, created_at, id),
    ADD KEY ix_articles_status_deleted_at_published_at_id (status, deleted_at, published_at, id),
    ALGORITHM = INPLACE, LOCK = NONE;

