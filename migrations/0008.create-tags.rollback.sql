-- Back to 0006: its triggers, and article_counts again, summed from level 0 of article_level_counts.
CREATE TABLE article_counts (
    id_range BIGINT UNSIGNED NOT NULL,
    shard    TINYINT UNSIGNED NOT NULL,
    live     INT NOT NULL,
    PRIMARY KEY (id_range, shard)
) ENGINE = InnoDB;

INSERT INTO article_counts (id_range, shard, live)
SELECT id_range, shard, live FROM article_level_counts WHERE level = 0;

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

DROP TABLE article_tags;
DROP TABLE tags;
