ALTER TABLE articles
    DROP KEY ix_articles_deleted_at_created_at_id,
    DROP KEY ix_articles_deleted_at_published_at_id,
    DROP KEY ix_articles_deleted_at_changed_at_id,
    DROP KEY ix_articles_author_deleted_at_created_at_id,
    DROP KEY ix_articles_author_deleted_at_published_at_id,
    DROP KEY ix_articles_status_deleted_at_id,
    DROP KEY ix_articles_status_deleted_at_created_at_id,
    DROP KEY ix_articles_status_deleted_at_published_at_id;

ALTER TABLE articles DROP COLUMN changed_at;
