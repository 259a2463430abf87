-- Named queries of the change feed (migration 0011: events, event_sequencer, event_relays). The triggers of
-- 0011 write the events; these number them (the sequencer), read them (GET /events, blogsvc relay), prune
-- them and keep each relay's place. A lease is a holder and a time it runs to, in the database's clock.

-- fragment: cloudevent
-- An event as GET /events and the relay give it: a CloudEvents 1.0 JSON object in one column.
JSON_OBJECT('specversion', '1.0', 'id', CAST(feed_id AS CHAR), 'source', '/blogsvc', 'type', type,
            'subject', subject, 'time', DATE_FORMAT(time, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
            'datacontenttype', 'application/json', 'data', JSON_QUERY(data, '$'))

-- name: feed_page
-- Numbered events after `after`, in order: feed_id, type, the event.
SELECT feed_id, type, {cloudevent}
  FROM events
 WHERE feed_id > %(after)s
 ORDER BY feed_id
 LIMIT %(limit)s;

-- name: feed_page_of_types
-- The same, only of the types in `types` (a JSON array).
SELECT feed_id, type, {cloudevent}
  FROM events
 WHERE feed_id > %(after)s
   AND type IN (SELECT type FROM JSON_TABLE(%(types)s, '$[*]' COLUMNS (type VARCHAR(40) PATH '$')) wanted)
 ORDER BY feed_id
 LIMIT %(limit)s;

-- name: pruned_through$
SELECT pruned_through FROM event_sequencer WHERE id = 1;

-- name: last_feed_id$
-- The newest numbered event's id (0: none yet); the long-poll watcher asks this over and over.
SELECT IFNULL(MAX(feed_id), 0) FROM events;

-- name: claim_sequencer!
-- 1 row: `holder` holds the lease for `seconds` more (it had it, or it had run out).
UPDATE event_sequencer
   SET holder = %(holder)s, lease_until = UTC_TIMESTAMP(6) + INTERVAL %(seconds)s SECOND
 WHERE id = 1 AND (holder = %(holder)s OR lease_until < UTC_TIMESTAMP(6));

-- name: release_sequencer!
UPDATE event_sequencer SET lease_until = '1970-01-01 00:00:00' WHERE id = 1 AND holder = %(holder)s;

-- name: unnumbered_events
-- Committed events without a number, oldest first (a plain read never sees uncommitted rows).
SELECT id FROM events WHERE feed_id IS NULL ORDER BY id LIMIT %(limit)s;

-- name: advance_sequencer!
-- In a numbering's transaction, first: move last_feed_id on by `count`, the row locked until COMMIT (so
-- numberings run one after another); 0 rows when `holder` no longer holds the lease.
UPDATE event_sequencer SET last_feed_id = last_feed_id + %(count)s
 WHERE id = 1 AND holder = %(holder)s AND lease_until > UTC_TIMESTAMP(6);

-- name: number_events!
-- Then number the events of `ids` (a JSON array, in order) from the old last_feed_id + 1 on; fewer rows
-- than ids when another numbered some meanwhile. STRAIGHT_JOIN: each row found by its primary key (a
-- scan of a small table would lock every row).
UPDATE JSON_TABLE(%(ids)s, '$[*]' COLUMNS (n FOR ORDINALITY, id CHAR(36) PATH '$')) batch
  STRAIGHT_JOIN events e ON e.id = batch.id
   SET e.feed_id = (SELECT last_feed_id FROM event_sequencer WHERE id = 1) - %(count)s + batch.n
 WHERE e.feed_id IS NULL;

-- name: lock_sequencer^
-- In a prune's transaction: the last id given and the pruning mark, the row locked until COMMIT; no row
-- when `holder` no longer holds the lease.
SELECT last_feed_id, pruned_through
  FROM event_sequencer
 WHERE id = 1 AND holder = %(holder)s AND lease_until > UTC_TIMESTAMP(6)
   FOR UPDATE;

-- name: first_kept$
-- The first of the next `limit` events that is not older than `before`, if any: a prune ends before it
-- (so an event is never pruned while an older-numbered one is kept).
SELECT feed_id
  FROM events
 WHERE feed_id > %(pruned)s AND feed_id <= %(pruned)s + %(limit)s AND time >= %(before)s
 ORDER BY feed_id
 LIMIT 1;

-- name: delete_events_through!
DELETE FROM events WHERE feed_id > %(pruned)s AND feed_id <= %(through)s;

-- name: set_pruned_through!
UPDATE event_sequencer SET pruned_through = %(through)s WHERE id = 1;

-- name: add_relay!
INSERT INTO event_relays (stream) VALUES (%(stream)s) ON DUPLICATE KEY UPDATE stream = stream;

-- name: claim_relay!
-- 1 row: `holder` relays `stream` for `seconds` more (it did, or the lease had run out).
UPDATE event_relays
   SET holder = %(holder)s, lease_until = UTC_TIMESTAMP(6) + INTERVAL %(seconds)s SECOND
 WHERE stream = %(stream)s AND (holder = %(holder)s OR lease_until < UTC_TIMESTAMP(6));

-- name: release_relay!
UPDATE event_relays SET lease_until = '1970-01-01 00:00:00' WHERE stream = %(stream)s AND holder = %(holder)s;

-- name: relayed_through$
SELECT relayed_through FROM event_relays WHERE stream = %(stream)s;

-- name: record_relayed!
-- After an acknowledged publish: how far the stream has the feed. 0 rows: `holder` lost the lease.
UPDATE event_relays
   SET relayed_through = %(through)s, lease_until = UTC_TIMESTAMP(6) + INTERVAL %(seconds)s SECOND
 WHERE stream = %(stream)s AND holder = %(holder)s AND lease_until > UTC_TIMESTAMP(6);
