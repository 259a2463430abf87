-- depends: 0010.article-search
-- The change feed (GET /events, blogsvc relay). Triggers write an event row in the transaction of every
-- change of a user or an article, so a committed change has exactly one and a rolled-back change none,
-- whichever statement made it (a user's delete or restore cascades to its articles: an event each).
--
-- Ordering: an id taken at insert (an auto-increment) comes in another order than the commits, so a
-- reader of `id > last` could pass over a row that commits later. The feed's id is `feed_id` instead, given after
-- commit by one sequencer at a time (blogsvc/events/sequencer.py): under the lock of the event_sequencer
-- row, it numbers committed rows that have none, from last_feed_id on, and commits. Numberings are thus
-- serial, each one's ids above every earlier one's, so a reader never sees an id with a lower one still
-- to come. The lease in that row only keeps the others from trying: on a Galera cluster (whose row locks
-- are per node) two numberings that overlap conflict at certification and one is rolled back.
-- `id` only tells rows apart and orders a transaction's events: a time-based UUID (MariaDB's UUID type
-- sorts those by time per server), not an AUTO_INCREMENT, which InnoDB (innodb_autoinc_lock_mode=1)
-- would lock for the whole of the UPDATE whose trigger inserts the event: a cascade then failed with
-- 1467 "Failed to read auto-increment value" under concurrent writers.
CREATE TABLE events (
    id      UUID NOT NULL DEFAULT UUID(),
    feed_id BIGINT UNSIGNED NULL,
    type    VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    subject VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    time    DATETIME(6) NOT NULL,
    -- The resource as GET answers it after the change (as it was, for a delete): a JSON object.
    data    MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (id),
    -- Reads page by it (a type filter too: one more index per event cost more than it saved); NULLs
    -- (not numbered yet) come first, in id order, for the sequencer.
    UNIQUE KEY uq_events_feed_id (feed_id)
) ENGINE = InnoDB;

CREATE TABLE event_sequencer (
    id             TINYINT UNSIGNED NOT NULL,
    last_feed_id   BIGINT UNSIGNED NOT NULL DEFAULT 0,
    -- Events up to here were deleted as older than the retention (an `after` below it is a 410).
    pruned_through BIGINT UNSIGNED NOT NULL DEFAULT 0,
    holder         VARCHAR(100) NULL,
    lease_until    DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:00',
    PRIMARY KEY (id),
    CONSTRAINT ck_event_sequencer_one_row CHECK (id = 1)
) ENGINE = InnoDB;
INSERT INTO event_sequencer (id) VALUES (1);

-- blogsvc relay: per stream, how far it has published (acknowledged), and who relays it now.
CREATE TABLE event_relays (
    stream          VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    relayed_through BIGINT UNSIGNED NOT NULL DEFAULT 0,
    holder          VARCHAR(100) NULL,
    lease_until     DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:00',
    PRIMARY KEY (stream)
) ENGINE = InnoDB;

-- The triggers. An event's data is the user or article as the API shows it (User and Article in
-- blogsvc/*/schemas.py: the same fields, times RFC 3339 UTC with microseconds), made from the trigger's
-- NEW row (an article's author email aside, nothing is read). Written out in each trigger: a view over
-- the tables, then a stored function, each cost the database 40 us or more a write (bench/ab.sh,
-- docs/benchmarks.md). tests/events/test_feed.py checks every kind of event's data against what GET
-- answers. A change's type: created; deleted or restored when deleted_at came or went; updated when the
-- version moved on a live row. Nothing else is an event: the password re-hash on verify keeps the version.
CREATE TRIGGER users_evented_on_insert AFTER INSERT ON users FOR EACH ROW
INSERT INTO events (type, subject, time, data)
VALUES ('blogsvc.user.created', CONCAT('/users/', NEW.id), UTC_TIMESTAMP(6),
        JSON_OBJECT(
              'id', NEW.id, 'email', NEW.email, 'first_name', NEW.first_name, 'last_name', NEW.last_name,
              'city', NEW.city, 'is_active', JSON_EXTRACT(IF(NEW.is_active, 'true', 'false'), '$'),
              'created_at', DATE_FORMAT(NEW.created_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
              'updated_at', DATE_FORMAT(NEW.updated_at, '%Y-%m-%dT%H:%i:%s.%fZ')));

CREATE TRIGGER users_evented_on_update AFTER UPDATE ON users FOR EACH ROW
BEGIN
  DECLARE kind VARCHAR(40) DEFAULT CASE
      WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'blogsvc.user.deleted'
      WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'blogsvc.user.restored'
      WHEN NEW.deleted_at IS NULL AND OLD.version <> NEW.version THEN 'blogsvc.user.updated'
    END;
  IF kind IS NOT NULL THEN
    INSERT INTO events (type, subject, time, data)
    VALUES (kind, CONCAT('/users/', NEW.id), UTC_TIMESTAMP(6),
            JSON_OBJECT(
              'id', NEW.id, 'email', NEW.email, 'first_name', NEW.first_name, 'last_name', NEW.last_name,
              'city', NEW.city, 'is_active', JSON_EXTRACT(IF(NEW.is_active, 'true', 'false'), '$'),
              'created_at', DATE_FORMAT(NEW.created_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
              'updated_at', DATE_FORMAT(NEW.updated_at, '%Y-%m-%dT%H:%i:%s.%fZ')));
  END IF;
END;

CREATE TRIGGER articles_evented_on_insert AFTER INSERT ON articles FOR EACH ROW
INSERT INTO events (type, subject, time, data)
VALUES ('blogsvc.article.created', CONCAT('/articles/', NEW.id), UTC_TIMESTAMP(6),
        JSON_OBJECT(
              'id', NEW.id, 'title', NEW.title, 'body', NEW.body, 'author_id', NEW.author_id,
              'author', (SELECT email FROM users WHERE id = NEW.author_id), 'slug', NEW.slug,
              'status', NEW.status, 'published_at', DATE_FORMAT(NEW.published_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
              'tags', JSON_QUERY(NEW.tags, '$'),
              'created_at', DATE_FORMAT(NEW.created_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
              'updated_at', DATE_FORMAT(NEW.updated_at, '%Y-%m-%dT%H:%i:%s.%fZ')));

CREATE TRIGGER articles_evented_on_update AFTER UPDATE ON articles FOR EACH ROW
BEGIN
  DECLARE kind VARCHAR(40) DEFAULT CASE
      WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'blogsvc.article.deleted'
      WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'blogsvc.article.restored'
      WHEN NEW.deleted_at IS NULL AND OLD.version <> NEW.version THEN 'blogsvc.article.updated'
    END;
  IF kind IS NOT NULL THEN
    INSERT INTO events (type, subject, time, data)
    VALUES (kind, CONCAT('/articles/', NEW.id), UTC_TIMESTAMP(6),
            JSON_OBJECT(
              'id', NEW.id, 'title', NEW.title, 'body', NEW.body, 'author_id', NEW.author_id,
              'author', (SELECT email FROM users WHERE id = NEW.author_id), 'slug', NEW.slug,
              'status', NEW.status, 'published_at', DATE_FORMAT(NEW.published_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
              'tags', JSON_QUERY(NEW.tags, '$'),
              'created_at', DATE_FORMAT(NEW.created_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
              'updated_at', DATE_FORMAT(NEW.updated_at, '%Y-%m-%dT%H:%i:%s.%fZ')));
  END IF;
END;
