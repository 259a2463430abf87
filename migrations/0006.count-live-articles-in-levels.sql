-- depends: 0005.count-live-articles
-- Live articles counted at three levels, so that the live articles before (or after) any 1024-id range
-- can be summed from a bounded number of rows whatever the depth (0005 summed every range before it:
-- the cost grew with the depth, and on Galera, whose interleaved ids spread the articles over three
-- times the ids, past one range's worth of rows):
--   level 0: ranges of 2^10 ids (id_range = id >> 10), as article_counts (0005);
--   level 1: ranges of 2^15 ids, 32 level-0 ranges each (id_range = id >> 15);
--   level 2: ranges of 2^20 ids, 32 level-1 ranges each (id_range = id >> 20).
-- A sum then reads at most 31 level-0, 31 level-1 and one level-2 range per 2^20 ids, 4 rows each, in
-- one table (two tables cost a second subquery a page: about 20 us of server CPU, measured).
-- blogsvc/articles/deep_offsets.py and the list_articles_from_range_* queries read them.
--
-- A table of its own beside article_counts, which the triggers keep as before for the version that
-- runs during a rollout (this one reads only the new table; a later migration can retire the old).
-- Safe while articles are written: the new triggers (MariaDB's CREATE OR REPLACE: there is no moment
-- without one) count every level from the moment they exist, and only then are the levels copied and
-- summed from article_counts, each INSERT ... SELECT holding shared locks on the rows it reads, so a
-- write during it is in the sum or comes after it, never both.
CREATE TABLE article_level_counts (
    level    TINYINT UNSIGNED NOT NULL,
    id_range BIGINT UNSIGNED NOT NULL,
    shard    TINYINT UNSIGNED NOT NULL,
    live     INT NOT NULL,
    PRIMARY KEY (level, id_range, shard)
) ENGINE = InnoDB;

-- 0005's triggers are replaced by ones that count every level: one trigger a row, not two (a second
-- trigger measured slower), and IF ... VALUES, because INSERT ... SELECT over a derived table of the
-- levels materialised that table for every row written.
CREATE OR REPLACE TRIGGER articles_counted_on_insert AFTER INSERT ON articles FOR EACH ROW
BEGIN
  IF NEW.deleted_at IS NULL THEN
    INSERT INTO article_counts (id_range, shard, live) VALUES (NEW.id >> 10, NEW.id MOD 4, 1)
    ON DUPLICATE KEY UPDATE live = live + 1;
    INSERT INTO article_level_counts (level, id_range, shard, live)
    VALUES (0, NEW.id >> 10, NEW.id MOD 4, 1), (1, NEW.id >> 15, NEW.id MOD 4, 1),
           (2, NEW.id >> 20, NEW.id MOD 4, 1)
    ON DUPLICATE KEY UPDATE live = live + 1;
  END IF;
END;

CREATE OR REPLACE TRIGGER articles_counted_on_update AFTER UPDATE ON articles FOR EACH ROW
BEGIN
  IF (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
    INSERT INTO article_counts (id_range, shard, live)
    VALUES (NEW.id >> 10, NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1))
    ON DUPLICATE KEY UPDATE live = live + VALUES(live);
    INSERT INTO article_level_counts (level, id_range, shard, live)
    VALUES (0, NEW.id >> 10, NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1)),
           (1, NEW.id >> 15, NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1)),
           (2, NEW.id >> 20, NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1))
    ON DUPLICATE KEY UPDATE live = live + VALUES(live);
  END IF;
END;

CREATE OR REPLACE TRIGGER articles_counted_on_delete AFTER DELETE ON articles FOR EACH ROW
BEGIN
  IF OLD.deleted_at IS NULL THEN
    INSERT INTO article_counts (id_range, shard, live) VALUES (OLD.id >> 10, OLD.id MOD 4, -1)
    ON DUPLICATE KEY UPDATE live = live - 1;
    INSERT INTO article_level_counts (level, id_range, shard, live)
    VALUES (0, OLD.id >> 10, OLD.id MOD 4, -1), (1, OLD.id >> 15, OLD.id MOD 4, -1),
           (2, OLD.id >> 20, OLD.id MOD 4, -1)
    ON DUPLICATE KEY UPDATE live = live - 1;
  END IF;
END;

INSERT INTO article_level_counts (level, id_range, shard, live)
SELECT 0, id_range, shard, live FROM article_counts
ON DUPLICATE KEY UPDATE live = VALUES(live);

INSERT INTO article_level_counts (level, id_range, shard, live)
SELECT 1, id_range >> 5, shard, SUM(live) FROM article_counts GROUP BY id_range >> 5, shard
ON DUPLICATE KEY UPDATE live = VALUES(live);

INSERT INTO article_level_counts (level, id_range, shard, live)
SELECT 2, id_range >> 10, shard, SUM(live) FROM article_counts GROUP BY id_range >> 10, shard
ON DUPLICATE KEY UPDATE live = VALUES(live);
