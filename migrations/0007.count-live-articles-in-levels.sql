-- depends: 0006.article-documents
-- Live articles counted at three levels, so that the live articles before (or after) any id range can
-- be summed from at most 31 + 31 + 1 per 2^20 ids ranges of 4 rows, whatever the depth (0005 summed
-- every 1024-id range before it: the cost grew with the depth, and on Galera, whose interleaved ids
-- spread the articles over three times the ids, past one range's worth of rows):
--   level 0: ranges of 2^10 ids (id_range = id >> 10), as in 0005;
--   level 1: ranges of 2^15 ids, 32 level-0 ranges each (id_range = id >> 15);
--   level 2: ranges of 2^20 ids, 32 level-1 ranges each (id_range = id >> 20).
-- blogsvc/articles/deep_offsets.py and the list_articles_from_range_* queries read them.
--
-- Safe while articles are written: the old triggers go on counting level 0 (the new column's default)
-- until the new ones, which count every level, replace them (MariaDB's CREATE OR REPLACE leaves no moment
-- without a trigger); only then are levels 1 and 2 summed from level 0, each INSERT ... SELECT holding
-- shared locks on the rows it reads, so a write during it is in the sum or comes after it, never both.
ALTER TABLE article_counts
  ADD COLUMN level TINYINT UNSIGNED NOT NULL DEFAULT 0 FIRST,
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (level, id_range, shard);

CREATE OR REPLACE TRIGGER articles_counted_on_insert AFTER INSERT ON articles FOR EACH ROW
INSERT INTO article_counts (level, id_range, shard, live)
SELECT level, NEW.id >> (10 + 5 * level), NEW.id MOD 4, 1
  FROM (SELECT 0 AS level UNION ALL SELECT 1 UNION ALL SELECT 2) levels
 WHERE NEW.deleted_at IS NULL
ON DUPLICATE KEY UPDATE live = live + 1;

CREATE OR REPLACE TRIGGER articles_counted_on_update AFTER UPDATE ON articles FOR EACH ROW
INSERT INTO article_counts (level, id_range, shard, live)
SELECT level, NEW.id >> (10 + 5 * level), NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1)
  FROM (SELECT 0 AS level UNION ALL SELECT 1 UNION ALL SELECT 2) levels
 WHERE (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
ON DUPLICATE KEY UPDATE live = live + VALUES(live);

CREATE OR REPLACE TRIGGER articles_counted_on_delete AFTER DELETE ON articles FOR EACH ROW
INSERT INTO article_counts (level, id_range, shard, live)
SELECT level, OLD.id >> (10 + 5 * level), OLD.id MOD 4, -1
  FROM (SELECT 0 AS level UNION ALL SELECT 1 UNION ALL SELECT 2) levels
 WHERE OLD.deleted_at IS NULL
ON DUPLICATE KEY UPDATE live = live - 1;

INSERT INTO article_counts (level, id_range, shard, live)
SELECT 1, id_range >> 5, shard, SUM(live) FROM article_counts WHERE level = 0 GROUP BY id_range >> 5, shard
ON DUPLICATE KEY UPDATE live = VALUES(live);

INSERT INTO article_counts (level, id_range, shard, live)
SELECT 2, id_range >> 10, shard, SUM(live) FROM article_counts WHERE level = 0 GROUP BY id_range >> 10, shard
ON DUPLICATE KEY UPDATE live = VALUES(live);
