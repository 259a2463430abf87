-- Back to 0005's triggers, which count the 1024-id ranges only.
CREATE OR REPLACE TRIGGER articles_counted_on_insert AFTER INSERT ON articles FOR EACH ROW
INSERT INTO article_counts (id_range, shard, live)
SELECT NEW.id DIV 1024, NEW.id MOD 4, 1 FROM DUAL WHERE NEW.deleted_at IS NULL
ON DUPLICATE KEY UPDATE live = live + 1;

CREATE OR REPLACE TRIGGER articles_counted_on_update AFTER UPDATE ON articles FOR EACH ROW
INSERT INTO article_counts (id_range, shard, live)
SELECT NEW.id DIV 1024, NEW.id MOD 4, IF(NEW.deleted_at IS NULL, 1, -1)
  FROM DUAL WHERE (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
ON DUPLICATE KEY UPDATE live = live + VALUES(live);

CREATE OR REPLACE TRIGGER articles_counted_on_delete AFTER DELETE ON articles FOR EACH ROW
INSERT INTO article_counts (id_range, shard, live)
SELECT OLD.id DIV 1024, OLD.id MOD 4, -1 FROM DUAL WHERE OLD.deleted_at IS NULL
ON DUPLICATE KEY UPDATE live = live - 1;

DROP TABLE article_level_counts;
