ALTER TABLE articles
    DROP KEY uq_articles_live_slug,
    DROP COLUMN live_slug,
    DROP COLUMN slug,
    DROP COLUMN status,
    DROP COLUMN published_at,
    DROP COLUMN tags;
