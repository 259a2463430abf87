-- depends: 0006.count-live-articles-in-levels
-- transactional: false
-- Articles gain a slug (unique among live articles, as emails are among live users), a status
-- (draft or published), the time they were first published, and their tags (a JSON array of names,
-- sorted; 0008 links and counts them). Online on a big table: the columns are
-- added in place without copying rows (ALGORITHM=INSTANT), the existing rows are filled 10,000 at a
-- time, each batch its own transaction (hence not transactional: writes go on between them), and the
-- unique index is built while rows are written (LOCK=NONE).
-- So that writes go on: each statement below commits on its own (yoyo leaves autocommit off, and the
-- backfill and the dedupe would then hold every article's lock until the next ALTER: on 1,000,000
-- articles a write waiting for one timed out after 50 s), and at READ COMMITTED the rows they only read
-- (the dedupe's window over every article) are read without locks. Both set back at the end.
SET SESSION autocommit = 1;
SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;

ALTER TABLE articles
    ADD COLUMN slug         VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN status       ENUM('draft', 'published') NOT NULL DEFAULT 'published',
    ADD COLUMN published_at DATETIME(6) NULL,
    ADD COLUMN tags         VARCHAR(600) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '[]',
    ALGORITHM = INSTANT;

-- For a version before this one, still serving during a rollout: its creates name none of these, and get
-- a slug from the title and a number no other has (UUID_SHORT), and, published, published_at. The
-- service itself always writes both, so these cost it nothing.
ALTER TABLE articles
    ALTER COLUMN slug SET DEFAULT (CONCAT(
        IFNULL(NULLIF(TRIM(BOTH '-' FROM REGEXP_REPLACE(LOWER(LEFT(title, 150)), '[^a-z0-9]+', '-')), ''), 'article'),
        '-', UUID_SHORT())),
    ALTER COLUMN published_at SET DEFAULT (created_at);

-- The articles already there: published when they were created, and a slug made by the database from
-- the title's ASCII letters and digits (the service transliterates: "Crème" is "creme" from the service,
-- "cr-me" from here; PATCH a better one).
BEGIN NOT ATOMIC
    DECLARE low BIGINT UNSIGNED DEFAULT 0;
    DECLARE top BIGINT UNSIGNED DEFAULT (SELECT IFNULL(MAX(id), 0) FROM articles);
    WHILE low < top DO
        UPDATE articles
           SET slug = IFNULL(NULLIF(TRIM(BOTH '-' FROM
                          REGEXP_REPLACE(LOWER(LEFT(title, 200)), '[^a-z0-9]+', '-')), ''), 'article'),
               published_at = created_at
         WHERE id > low AND id <= low + 10000 AND slug IS NULL;
        SET low = low + 10000;
    END WHILE;
END;

-- Titles alike give slugs alike: the second and later live ones (by id) get -2, -3, ..., and any that
-- still collides (a title that was "x 2" beside two "x") its id instead. Which ones is found by a plain
-- read into a temporary table (no locks at READ COMMITTED), and only those rows are then updated: an
-- UPDATE joined to the window over every article locked each row it read (writes waited 5.7 s a pass
-- on 1,000,000 articles).
CREATE TEMPORARY TABLE renamed (id BIGINT UNSIGNED PRIMARY KEY, slug VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL)
SELECT id, CONCAT(TRIM(TRAILING '-' FROM LEFT(slug, 199 - LENGTH(n))), '-', n) AS slug
  FROM (SELECT id, slug, ROW_NUMBER() OVER (PARTITION BY slug ORDER BY id) AS n
          FROM articles WHERE deleted_at IS NULL) alike
 WHERE n > 1;
UPDATE renamed STRAIGHT_JOIN articles a ON a.id = renamed.id SET a.slug = renamed.slug;
DROP TEMPORARY TABLE renamed;

CREATE TEMPORARY TABLE renamed (id BIGINT UNSIGNED PRIMARY KEY, slug VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL)
SELECT id, CONCAT(TRIM(TRAILING '-' FROM LEFT(slug, 199 - LENGTH(id))), '-', id) AS slug
  FROM (SELECT id, slug, ROW_NUMBER() OVER (PARTITION BY slug ORDER BY id) AS n
          FROM articles WHERE deleted_at IS NULL) alike
 WHERE n > 1;
UPDATE renamed STRAIGHT_JOIN articles a ON a.id = renamed.id SET a.slug = renamed.slug;
DROP TEMPORARY TABLE renamed;

-- Every article has one now (and new ones by default): NOT NULL, in place (a rebuild that writes go on during).
ALTER TABLE articles
    MODIFY COLUMN slug VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT (CONCAT(
        IFNULL(NULLIF(TRIM(BOTH '-' FROM REGEXP_REPLACE(LOWER(LEFT(title, 150)), '[^a-z0-9]+', '-')), ''), 'article'),
        '-', UUID_SHORT())),
    ALGORITHM = INPLACE, LOCK = NONE;

-- live_slug is NULL once deleted, so a deleted article's slug may be taken again; a virtual column: only
-- the index is stored.
ALTER TABLE articles
    ADD COLUMN live_slug VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin
        AS (IF(deleted_at IS NULL, slug, NULL)) VIRTUAL,
    ALGORITHM = INSTANT;

ALTER TABLE articles ADD UNIQUE KEY uq_articles_live_slug (live_slug), ALGORITHM = INPLACE, LOCK = NONE;

SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SET SESSION autocommit = 0;
