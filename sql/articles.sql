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
-- array of id, title, body, author_id, author (the author's email), slug, status, published_at, tags,
-- created_at, updated_at (times RFC 3339 UTC with microseconds), version. msgspec decodes it in C: the
-- driver's work per column, in Python, was most of a list page's cost. JSON_QUERY makes the tags column
-- (text) an array inside the array, not a string.
JSON_ARRAY(a.id, a.title, a.body, a.author_id, u.email, a.slug, a.status,
           DATE_FORMAT(a.published_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
           JSON_QUERY(a.tags, '$'),
           DATE_FORMAT(a.created_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
           DATE_FORMAT(a.updated_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
           a.version)

-- name: insert_article<!
-- Inserts only if the author is live; the new id, or 0 when not. INSERT ... SELECT locks the
-- author's row, so a concurrent delete of the author cannot miss this article. A slug a live article
-- has is a duplicate key (uq_articles_live_slug). `tags` is a JSON array (the triggers of migration
-- 0008 link and count them).
INSERT INTO articles (author_id, title, body, slug, status, published_at, tags, created_at)
SELECT id, %(title)s, %(body)s, %(slug)s, %(status)s, IF(%(status)s = 'published', %(now)s, NULL), %(tags)s, %(now)s
  FROM users WHERE id = %(author_id)s AND deleted_at IS NULL;

-- name: taken_slugs
-- Which of the slugs in `slugs` (a JSON array) live articles have.
SELECT a.live_slug
  FROM JSON_TABLE(%(slugs)s, '$[*]' COLUMNS (slug VARCHAR(200) CHARACTER SET ascii PATH '$')) AS wanted
  JOIN articles a ON a.live_slug = wanted.slug;

-- name: get_article_by_slug$
SELECT {document}
  FROM articles a JOIN users u ON u.id = a.author_id
 WHERE a.live_slug = %(slug)s;

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

-- name: count_live_articles$
-- Every live article: the level-2 counts (one row per 2^20 ids and shard), not the rows.
SELECT COALESCE(SUM(live), 0) FROM article_level_counts WHERE level = 2;

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
-- title, slug, status, tags NULL leave them; body is set only when set_body (it may be set to NULL).
-- Published for the first time, published_at is now. 0 rows: absent, deleted, or If-Match stale.
UPDATE articles
   SET title        = COALESCE(%(title)s, title),
       body         = IF(%(set_body)s, %(body)s, body),
       slug         = COALESCE(%(slug)s, slug),
       published_at = IF(COALESCE(%(status)s, status) = 'published', IFNULL(published_at, %(now)s), published_at),
       status       = COALESCE(%(status)s, status),
       tags         = COALESCE(%(tags)s, tags),
       version      = version + 1,
       updated_at   = %(now)s
 WHERE id = %(id)s AND deleted_at IS NULL
   AND (%(if_match)s IS NULL OR FIND_IN_SET(version, %(if_match)s));

-- name: soft_delete_article!
UPDATE articles SET deleted_at = %(now)s, deleted_with_author = FALSE, version = version + 1
 WHERE id = %(id)s AND deleted_at IS NULL
   AND (%(if_match)s IS NULL OR FIND_IN_SET(version, %(if_match)s));

-- name: restore_article!
-- Only while the author is live; 0 rows: no such deleted article, or its author is deleted. A duplicate
-- key when a live article has taken its slug meanwhile.
UPDATE articles a JOIN users u ON u.id = a.author_id
   SET a.deleted_at = NULL, a.deleted_with_author = FALSE, a.version = a.version + 1
 WHERE a.id = %(id)s AND a.deleted_at IS NOT NULL AND u.deleted_at IS NULL;

-- name: deleted_article_author_is_live$
-- For a failed restore: NULL if there is no such deleted article, else whether its author is live.
SELECT u.deleted_at IS NULL
  FROM articles a JOIN users u ON u.id = a.author_id
 WHERE a.id = %(id)s AND a.deleted_at IS NOT NULL;

-- name: delete_author_articles!
-- In the transaction that deletes the author. FORCE INDEX here and below: an UPDATE locks every row it
-- reads, and MariaDB chose (deleted_at, id) for the restore, reading and locking every deleted article
-- of every author (8 concurrent writers then deadlocked dozens of times a second, tests/events).
UPDATE articles FORCE INDEX (ix_articles_author_deleted_at_id)
   SET deleted_at = %(now)s, deleted_with_author = TRUE, version = version + 1
 WHERE author_id = %(author_id)s AND deleted_at IS NULL;

-- name: restore_author_articles!
-- In the transaction that restores the author: exactly the articles deleted with it (a duplicate key
-- when a live article has taken the slug of one).
UPDATE articles FORCE INDEX (ix_articles_author_deleted_at_id)
   SET deleted_at = NULL, deleted_with_author = FALSE, version = version + 1
 WHERE author_id = %(author_id)s AND deleted_at IS NOT NULL AND deleted_with_author;

-- ---- Lists with filters, a sort, a search or a total ----
-- GET /articles and /users/{id}/articles with any of id, status, tag, q, created_after, created_before,
-- updated_since, a sort other than id, count (by id with at most an author, the list_* queries above).
--
-- Each `-- template:` is one statement for every sort and order: blogsvc/articles/lists.py fills its
-- [slots] from a fixed table and names each statement it makes (list_articles_<source>_by_<sort>_<order>).
--   [source]  where the rows come from, one of the source_* templates: the index that gives them in the
--             sort's order, narrowed by the most selective filter asked for (id, q, tag, author, status);
--   [force]   that index, as FORCE INDEX (...) (MariaDB would otherwise pick the filter's index and sort);
--   [key]     the sort key's column (for relevance, the MATCH expression); [id] the id column beside it;
--   [next]    > ascending, < descending; [dir] ASC or DESC.
-- Filters not asked for are NULL: the driver writes the values into the statement's text, so `NULL IS
-- NULL OR ...` is folded away before the plan is made and a filter costs only when given (tag_check is
-- NULL for the tag source, whose rows carry the tag: MariaDB would read all its links again). A cursor's
-- position is (last_key, last_id); ties in the key are broken by id, in the same direction.

-- fragment: filters
   AND (%(author_id)s IS NULL OR s.author_id = %(author_id)s)
   AND (%(status)s IS NULL OR s.status = %(status)s)
   AND (%(tag_check)s IS NULL OR EXISTS (SELECT 1 FROM article_tags carried
                                           WHERE carried.tag = %(tag_check)s AND carried.article_id = s.id))
   AND (%(ids)s IS NULL OR s.id IN (SELECT id FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) wanted))
   AND (%(created_after)s IS NULL OR s.created_at > %(created_after)s)
   AND (%(created_before)s IS NULL OR s.created_at < %(created_before)s)
   AND (%(updated_since)s IS NULL OR s.changed_at >= %(updated_since)s)

-- template: source_live
  FROM articles s [force]
 WHERE s.deleted_at IS NULL

-- template: source_author
  FROM articles s [force]
 WHERE s.author_id = %(author_id)s AND s.deleted_at IS NULL

-- template: source_status
  FROM articles s [force]
 WHERE s.status = %(status)s AND s.deleted_at IS NULL

-- template: source_tag
-- article_tags holds the links of live articles only, with their sort keys (migration 0008). STRAIGHT_JOIN:
-- from the links in order; MariaDB would otherwise walk all articles in id order, looking each one's up.
  FROM article_tags t [force] STRAIGHT_JOIN articles s ON s.id = t.article_id
 WHERE t.tag = %(tag)s AND s.deleted_at IS NULL

-- template: source_ids
  FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) wanted
  JOIN articles s ON s.id = wanted.id
 WHERE s.deleted_at IS NULL

-- template: source_search
-- MariaDB's full-text index in natural-language mode (migration 0010): words of fewer than 3 letters
-- (innodb_ft_min_token_size) and InnoDB's stop words are not indexed, so they match nothing.
  FROM articles s
 WHERE MATCH (s.title, s.body) AGAINST (%(q)s IN NATURAL LANGUAGE MODE) AND s.deleted_at IS NULL

-- template: page
-- The page's ids and sort keys first (from the index alone where one serves), then their rows; the
-- sort key comes back beside each article for the next cursor.
SELECT {document}, page.sort_key
  FROM (SELECT s.id, [key] AS sort_key
          [source]
           AND [key] IS NOT NULL
           {filters}
           AND (%(last_id)s IS NULL OR [key] [next] %(last_key)s OR ([key] = %(last_key)s AND [id] [next] %(last_id)s))
         ORDER BY [key] [dir], [id] [dir]
         LIMIT %(offset)s, %(fetch)s) page
  JOIN articles a ON a.id = page.id
  JOIN users u ON u.id = a.author_id
 ORDER BY page.sort_key [dir], a.id [dir]

-- template: total
-- How many live articles the list holds, whatever the page (count=true).
SELECT COUNT(*)
  [source]
   AND [key] IS NOT NULL
   {filters}
