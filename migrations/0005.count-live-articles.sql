-- depends: 0004.create-idempotency-keys
-- Live articles counted per range of 1024 ids, so that a list page at a deep offset starts from the
-- range holding it instead of walking every index entry before it (sql/articles.sql, seek_*).
-- Triggers keep the counts in the same transaction as the change they count: an insert, a soft
-- delete or restore (deleted_at turning NULL or not), a hard delete. Each range has 4 rows, by id
-- modulo 4, so that articles created one after another update different rows rather than queue
-- for one; a range's count is the sum of its rows (a row may go negative).
CREATE TABLE article_counts (
    id_range BIGINT UNSIGNED NOT NULL,
    shard    TINYINT UNSIGNED NOT NULL,
    live     INT NOT NULL,
    PRIMARY KEY (id_range, shard)
) ENGINE = InnoDB;

CREATE TRIGGER articles_counted_on_insert AFTER INSERT ON articles FOR EACH ROW
INSERT INTO article_counts (id_range, shard, live)
SELECT NEW.id DIV 1024, NEW.id MOD 4, 1 FROM DUAL WHERE NEW.deleted_at IS NULL
ON DUPLICATE KEY UPDATE live = live + 1;

CREATE TRIGGER articles_counted_on_update AFTER UPDATE ON articles FOR EACH ROW
INSERT INTO article_counts (id_range, shard, live)
SELECT NEW.id DIV 1024, NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1)
  FROM DUAL WHERE (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
ON DUPLICATE KEY UPDATE live = live + VALUES(live);

CREATE TRIGGER articles_counted_on_delete AFTER DELETE ON articles FOR EACH ROW
INSERT INTO article_counts (id_range, shard, live)
SELECT OLD.id DIV 1024, OLD.id MOD 4, -1 FROM DUAL WHERE OLD.deleted_at IS NULL
ON DUPLICATE KEY UPDATE live = live - 1;

-- The articles already there (apply with no article writes in flight, as a deploy's migration job
-- runs before the new version serves). A count made here replaces whatever a trigger counted
-- before it; writes after it add to it.
INSERT INTO article_counts (id_range, shard, live)
SELECT id DIV 1024, id MOD 4, COUNT(*) FROM articles WHERE deleted_at IS NULL GROUP BY id DIV 1024, id MOD 4
ON DUPLICATE KEY UPDATE live = VALUES(live);
