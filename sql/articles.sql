-- Named queries for articles. Every read and write of a live article says `deleted_at IS NULL`;
-- a live article always has a live author (deleting a user deletes its articles, and an article
-- is restored only while its author is live).
-- An article is read as one column, {document} below. `%%` is a literal `%` because parameters are
-- bound with `%(name)s`.
-- List pages pick their ids from a covering index first (no sort, no table rows read for the
-- rows skipped), then join only those ids to their rows and authors. FORCE INDEX because, for a cursor
-- near the start, MariaDB would otherwise read an author's index entries from the first one (ref
-- access) instead of seeking to the cursor (range access).
-- Deep offsets (blogsvc/articles/deep_offsets.py) read the live counts of article_level_counts
-- (migration 0006): per range of 1024 ids (level 0), of 32 such ranges (level 1), of 32 of those (level 2).

-- fragment: document
-- An article as the API shows it, in one column of articles `a` joined to their authors `u`: a JSON
-- array of id, title, body, author_id, author (the author's email), created_at, updated_at (RFC 3339
-- UTC with microseconds), version. msgspec decodes it in C: the driver's work per column, in Python,
-- was most of a list page's cost.
JSON_ARRAY(a.id, a.title, a.body, a.author_id, u.email,
           DATE_FORMAT(a.created_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
           DATE_FORMAT(a.updated_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
           a.version)

-- name: insert_article<!
-- Inserts only if the author is live; the new id, or 0 when not. INSERT ... SELECT locks the
-- author's row, so a concurrent delete of the author cannot miss this article.
INSERT INTO articles (author_id, title, body, created_at)
SELECT id, %(title)s, %(body)s, %(now)s FROM users WHERE id = %(author_id)s AND deleted_at IS NULL;

-- name: get_articles
-- The live ones among a list of ids: single-article reads that arrive together share this
-- statement (blogsvc/db/coalescing.py), which hands each row to its reader by the id in front.
-- `ids` is a JSON array of ids (a lone read passes one): a driver cannot bind a list, and
-- JSON_TABLE joins on the primary key, row by row (eq_ref).
SELECT a.id, {document}
  FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS wanted
  JOIN articles a ON a.id = wanted.id
  JOIN users u ON u.id = a.author_id
 WHERE a.deleted_at IS NULL;

-- name: get_article_version$
SELECT version FROM articles WHERE id = %(id)s AND deleted_at IS NULL;

-- name: live_author_exists$
SELECT 1 FROM users WHERE id = %(author_id)s AND deleted_at IS NULL;

-- name: list_articles_asc
SELECT {document}
  FROM (SELECT id FROM articles FORCE INDEX (ix_articles_deleted_at_id)
         WHERE deleted_at IS NULL AND id > %(after)s AND id < %(before)s
         ORDER BY id LIMIT %(offset)s, %(fetch)s) page
  JOIN articles a ON a.id = page.id
  JOIN users u ON u.id = a.author_id
 ORDER BY a.id;

-- name: list_articles_desc
SELECT {document}
  FROM (SELECT id FROM articles FORCE INDEX (ix_articles_deleted_at_id)
         WHERE deleted_at IS NULL AND id > %(after)s AND id < %(before)s
         ORDER BY id DESC LIMIT %(offset)s, %(fetch)s) page
  JOIN articles a ON a.id = page.id
  JOIN users u ON u.id = a.author_id
 ORDER BY a.id DESC;

-- name: seek_articles_asc^
-- Where the live articles' page at %(offset)s starts: the first id of the 1024-id range holding
-- that row, and how many live rows the ranges before it hold (the exact path: every range's count).
SELECT id_range * 1024, live_through - live
  FROM (SELECT id_range, SUM(live) AS live, SUM(SUM(live)) OVER (ORDER BY id_range) AS live_through
          FROM article_level_counts WHERE level = 0 GROUP BY id_range) ranges
 WHERE live_through > %(offset)s
 ORDER BY id_range LIMIT 1;

-- name: seek_articles_desc^
-- The same from the top: the last id of the range holding the row, and the live rows above it.
SELECT id_range * 1024 + 1023, live_through - live
  FROM (SELECT id_range, SUM(live) AS live, SUM(SUM(live)) OVER (ORDER BY id_range DESC) AS live_through
          FROM article_level_counts WHERE level = 0 GROUP BY id_range) ranges
 WHERE live_through > %(offset)s
 ORDER BY id_range DESC LIMIT 1;

-- name: live_article_ranges
-- The live articles per 1024-id range that has any: each worker keeps a copy to guess where a
-- deep page starts, and the list_articles_from_range_* queries check the guess.
SELECT id_range, SUM(live) AS live FROM article_level_counts WHERE level = 0
 GROUP BY id_range HAVING live > 0 ORDER BY id_range;

-- name: list_articles_from_range_asc
-- list_articles_asc from a guessed range (after = its first id - 1): rows only if `passed` is
-- still the number of live articles before the range, read in the same snapshot as the page.
-- Those are summed from the 1024-id ranges before it in its level-1 range (x & ~31: the first of
-- x's 32), the level-1 ranges before that in its level-2 range, and the level-2 ranges before that.
SELECT {document}
  FROM (SELECT id FROM articles FORCE INDEX (ix_articles_deleted_at_id)
         WHERE deleted_at IS NULL AND id > %(after)s AND id < %(before)s
           AND (SELECT COALESCE(SUM(live), 0) FROM article_level_counts
                 WHERE (level = 0 AND id_range >= %(id_range)s & ~31 AND id_range < %(id_range)s)
                    OR (level = 1 AND id_range >= (%(id_range)s >> 5) & ~31 AND id_range < %(id_range)s >> 5)
                    OR (level = 2 AND id_range < %(id_range)s >> 10)) = %(passed)s
         ORDER BY id LIMIT %(offset)s, %(fetch)s) page
  JOIN articles a ON a.id = page.id
  JOIN users u ON u.id = a.author_id
 ORDER BY a.id;

-- name: list_articles_from_range_desc
-- The same from the top: before = the range's last id + 1, `passed` the live articles above it,
-- summed the same way from above (x | 31: the last of x's 32).
SELECT {document}
  FROM (SELECT id FROM articles FORCE INDEX (ix_articles_deleted_at_id)
         WHERE deleted_at IS NULL AND id > %(after)s AND id < %(before)s
           AND (SELECT COALESCE(SUM(live), 0) FROM article_level_counts
                 WHERE (level = 0 AND id_range > %(id_range)s AND id_range <= %(id_range)s | 31)
                    OR (level = 1 AND id_range > %(id_range)s >> 5 AND id_range <= (%(id_range)s >> 5) | 31)
                    OR (level = 2 AND id_range > %(id_range)s >> 10)) = %(passed)s
         ORDER BY id DESC LIMIT %(offset)s, %(fetch)s) page
  JOIN articles a ON a.id = page.id
  JOIN users u ON u.id = a.author_id
 ORDER BY a.id DESC;

-- name: list_author_articles_asc
SELECT {document}
  FROM (SELECT id FROM articles FORCE INDEX (ix_articles_author_deleted_at_id)
         WHERE author_id = %(author_id)s AND deleted_at IS NULL AND id > %(after)s AND id < %(before)s
         ORDER BY id LIMIT %(offset)s, %(fetch)s) page
  JOIN articles a ON a.id = page.id
  JOIN users u ON u.id = a.author_id
 ORDER BY a.id;

-- name: list_author_articles_desc
SELECT {document}
  FROM (SELECT id FROM articles FORCE INDEX (ix_articles_author_deleted_at_id)
         WHERE author_id = %(author_id)s AND deleted_at IS NULL AND id > %(after)s AND id < %(before)s
         ORDER BY id DESC LIMIT %(offset)s, %(fetch)s) page
  JOIN articles a ON a.id = page.id
  JOIN users u ON u.id = a.author_id
 ORDER BY a.id DESC;

-- name: update_article!
-- title NULL leaves it; body is set only when set_body (it may be set to NULL).
-- 0 rows: absent, deleted, or If-Match stale.
UPDATE articles
   SET title      = COALESCE(%(title)s, title),
       body       = IF(%(set_body)s, %(body)s, body),
       version    = version + 1,
       updated_at = %(now)s
 WHERE id = %(id)s AND deleted_at IS NULL
   AND (%(if_match)s IS NULL OR FIND_IN_SET(version, %(if_match)s));

-- name: soft_delete_article!
UPDATE articles SET deleted_at = %(now)s, deleted_with_author = FALSE, version = version + 1
 WHERE id = %(id)s AND deleted_at IS NULL
   AND (%(if_match)s IS NULL OR FIND_IN_SET(version, %(if_match)s));

-- name: restore_article!
-- Only while the author is live; 0 rows: no such deleted article, or its author is deleted.
UPDATE articles a JOIN users u ON u.id = a.author_id
   SET a.deleted_at = NULL, a.deleted_with_author = FALSE, a.version = a.version + 1
 WHERE a.id = %(id)s AND a.deleted_at IS NOT NULL AND u.deleted_at IS NULL;

-- name: deleted_article_author_is_live$
-- For a failed restore: NULL if there is no such deleted article, else whether its author is live.
SELECT u.deleted_at IS NULL
  FROM articles a JOIN users u ON u.id = a.author_id
 WHERE a.id = %(id)s AND a.deleted_at IS NOT NULL;

-- name: delete_author_articles!
-- In the transaction that deletes the author.
UPDATE articles SET deleted_at = %(now)s, deleted_with_author = TRUE, version = version + 1
 WHERE author_id = %(author_id)s AND deleted_at IS NULL;

-- name: restore_author_articles!
-- In the transaction that restores the author: exactly the articles deleted with it.
UPDATE articles SET deleted_at = NULL, deleted_with_author = FALSE, version = version + 1
 WHERE author_id = %(author_id)s AND deleted_at IS NOT NULL AND deleted_with_author;
