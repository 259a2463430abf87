-- depends: 0007.article-slug-status
-- Tags. An article's own `tags` column (0007: a JSON array of names, sorted) is what it carries; from it the
-- triggers below keep, in the same transaction as every change of an article:
--   article_tags: a row per live article and tag, with the article's sort keys, so that a tag's
--     articles are paged by id, created_at or published_at from an index (a deleted article has none:
--     restoring it, alone or with its author, puts them back from its `tags`);
--   tags: a row per name ever used, with the number of live articles carrying it (GET /tags).
-- Tag names are ASCII (lower-case letters, digits, dashes) by the service's rule.
CREATE TABLE tags (
    name     VARCHAR(50) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    articles INT NOT NULL DEFAULT 0,
    PRIMARY KEY (name),
    -- sort=count: most articles first, then by name; read backwards for the reverse.
    KEY ix_tags_articles_name (articles DESC, name)
) ENGINE = InnoDB;

CREATE TABLE article_tags (
    tag          VARCHAR(50) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    article_id   BIGINT UNSIGNED NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    published_at DATETIME(6) NULL,
    PRIMARY KEY (tag, article_id),
    KEY ix_article_tags_article_id (article_id),
    KEY ix_article_tags_tag_created_at_article_id (tag, created_at, article_id),
    KEY ix_article_tags_tag_published_at_article_id (tag, published_at, article_id),
    CONSTRAINT fk_article_tags_tag FOREIGN KEY (tag) REFERENCES tags (name),
    CONSTRAINT fk_article_tags_article FOREIGN KEY (article_id) REFERENCES articles (id)
) ENGINE = InnoDB;

-- 0006's triggers, with the tags; article_counts, which only the version before 0006 read, is no longer
-- kept (dropped below). Tags are linked only when an article has some ('[]' is none), and linked again
-- when it is deleted, restored, retagged or published (its published_at changes).
CREATE OR REPLACE TRIGGER articles_counted_on_insert AFTER INSERT ON articles FOR EACH ROW
BEGIN
  IF NEW.deleted_at IS NULL THEN
    INSERT INTO article_level_counts (level, id_range, shard, live)
    VALUES (0, NEW.id >> 10, NEW.id MOD 4, 1), (1, NEW.id >> 15, NEW.id MOD 4, 1),
           (2, NEW.id >> 20, NEW.id MOD 4, 1)
    ON DUPLICATE KEY UPDATE live = live + 1;
    IF NEW.tags <> '[]' THEN
      INSERT INTO tags (name, articles)
      SELECT name, 1 FROM JSON_TABLE(NEW.tags, '$[*]' COLUMNS (name VARCHAR(50) PATH '$')) carried
      ON DUPLICATE KEY UPDATE articles = articles + 1;
      INSERT INTO article_tags (tag, article_id, created_at, published_at)
      SELECT name, NEW.id, NEW.created_at, NEW.published_at
        FROM JSON_TABLE(NEW.tags, '$[*]' COLUMNS (name VARCHAR(50) PATH '$')) carried;
    END IF;
  END IF;
END;

CREATE OR REPLACE TRIGGER articles_counted_on_update AFTER UPDATE ON articles FOR EACH ROW
BEGIN
  DECLARE relink BOOLEAN DEFAULT (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
      OR OLD.tags <> NEW.tags OR NOT (OLD.published_at <=> NEW.published_at);
  IF (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
    INSERT INTO article_level_counts (level, id_range, shard, live)
    VALUES (0, NEW.id >> 10, NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1)),
           (1, NEW.id >> 15, NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1)),
           (2, NEW.id >> 20, NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1))
    ON DUPLICATE KEY UPDATE live = live + VALUES(live);
  END IF;
  IF relink AND OLD.deleted_at IS NULL AND OLD.tags <> '[]' THEN
    DELETE FROM article_tags WHERE article_id = OLD.id;
    UPDATE tags JOIN JSON_TABLE(OLD.tags, '$[*]' COLUMNS (name VARCHAR(50) PATH '$')) carried
        ON tags.name = carried.name
       SET tags.articles = tags.articles - 1;
  END IF;
  IF relink AND NEW.deleted_at IS NULL AND NEW.tags <> '[]' THEN
    INSERT INTO tags (name, articles)
    SELECT name, 1 FROM JSON_TABLE(NEW.tags, '$[*]' COLUMNS (name VARCHAR(50) PATH '$')) carried
    ON DUPLICATE KEY UPDATE articles = articles + 1;
    INSERT INTO article_tags (tag, article_id, created_at, published_at)
    SELECT name, NEW.id, NEW.created_at, NEW.published_at
      FROM JSON_TABLE(NEW.tags, '$[*]' COLUMNS (name VARCHAR(50) PATH '$')) carried;
  END IF;
END;

CREATE OR REPLACE TRIGGER articles_counted_on_delete AFTER DELETE ON articles FOR EACH ROW
BEGIN
  IF OLD.deleted_at IS NULL THEN
    INSERT INTO article_level_counts (level, id_range, shard, live)
    VALUES (0, OLD.id >> 10, OLD.id MOD 4, -1), (1, OLD.id >> 15, OLD.id MOD 4, -1),
           (2, OLD.id >> 20, OLD.id MOD 4, -1)
    ON DUPLICATE KEY UPDATE live = live - 1;
    IF OLD.tags <> '[]' THEN
      DELETE FROM article_tags WHERE article_id = OLD.id;
      UPDATE tags JOIN JSON_TABLE(OLD.tags, '$[*]' COLUMNS (name VARCHAR(50) PATH '$')) carried
          ON tags.name = carried.name
         SET tags.articles = tags.articles - 1;
    END IF;
  END IF;
END;

DROP TABLE article_counts;
