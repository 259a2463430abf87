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
    -- Reads page by it; NULLs (not numbered yet) come first, in id order, for the sequencer.
    UNIQUE KEY uq_events_feed_id (feed_id),
    KEY ix_events_type_feed_id (type, feed_id)
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

-- A user and an article as the API shows them (User and Article in blogsvc/*/schemas.py: the same
-- fields, times RFC 3339 UTC with microseconds), deleted or not, for the triggers below.
-- tests/events/test_feed.py checks each event's data against what GET answers.
CREATE VIEW user_documents AS
SELECT id, JSON_OBJECT(
           'id', id, 'email', email, 'first_name', first_name, 'last_name', last_name, 'city', city,
           'is_active', JSON_EXTRACT(IF(is_active, 'true', 'false'), '$'),
           'created_at', DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
           'updated_at', DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%fZ')) AS document
  FROM users;

CREATE VIEW article_documents AS
SELECT a.id, JSON_OBJECT(
           'id', a.id, 'title', a.title, 'body', a.body, 'author_id', a.author_id, 'author', u.email,
           'slug', a.slug, 'status', a.status,
           'published_at', DATE_FORMAT(a.published_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
           'tags', JSON_QUERY(a.tags, '$'),
           'created_at', DATE_FORMAT(a.created_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
           'updated_at', DATE_FORMAT(a.updated_at, '%Y-%m-%dT%H:%i:%s.%fZ')) AS document
  FROM articles a JOIN users u ON u.id = a.author_id;

-- A change's type: created; deleted or restored when deleted_at came or went; updated when the version
-- moved on a live row. Nothing else is an event: the password re-hash on verify keeps the version.
CREATE TRIGGER users_evented_on_insert AFTER INSERT ON users FOR EACH ROW
INSERT INTO events (type, subject, time, data)
SELECT 'blogsvc.user.created', CONCAT('/users/', NEW.id), UTC_TIMESTAMP(6), document
  FROM user_documents WHERE id = NEW.id;

CREATE TRIGGER users_evented_on_update AFTER UPDATE ON users FOR EACH ROW
INSERT INTO events (type, subject, time, data)
SELECT CASE WHEN NEW.deleted_at IS NULL AND OLD.deleted_at IS NOT NULL THEN 'blogsvc.user.restored'
            WHEN NEW.deleted_at IS NOT NULL THEN 'blogsvc.user.deleted'
            ELSE 'blogsvc.user.updated' END,
       CONCAT('/users/', NEW.id), UTC_TIMESTAMP(6), document
  FROM user_documents
 WHERE id = NEW.id AND NOT (OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NOT NULL)
   AND ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) OR OLD.version <> NEW.version);

CREATE TRIGGER articles_evented_on_insert AFTER INSERT ON articles FOR EACH ROW
INSERT INTO events (type, subject, time, data)
SELECT 'blogsvc.article.created', CONCAT('/articles/', NEW.id), UTC_TIMESTAMP(6), document
  FROM article_documents WHERE id = NEW.id AND NEW.deleted_at IS NULL;

CREATE TRIGGER articles_evented_on_update AFTER UPDATE ON articles FOR EACH ROW
INSERT INTO events (type, subject, time, data)
SELECT CASE WHEN NEW.deleted_at IS NULL AND OLD.deleted_at IS NOT NULL THEN 'blogsvc.article.restored'
            WHEN NEW.deleted_at IS NOT NULL THEN 'blogsvc.article.deleted'
            ELSE 'blogsvc.article.updated' END,
       CONCAT('/articles/', NEW.id), UTC_TIMESTAMP(6), document
  FROM article_documents
 WHERE id = NEW.id AND NOT (OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NOT NULL)
   AND ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) OR OLD.version <> NEW.version);
