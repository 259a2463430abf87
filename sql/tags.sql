-- Named queries for tags (migration 0008: the triggers on articles keep `articles`, the live articles
-- carrying a tag). A tag no live article carries is not listed. Keyset paging: `name` (and `articles`)
-- are where the previous page ended, NULL from the start.

-- name: list_tags_by_name_asc
SELECT name, articles FROM tags
 WHERE articles > 0 AND (%(name)s IS NULL OR name > %(name)s)
 ORDER BY name LIMIT %(offset)s, %(fetch)s;

-- name: list_tags_by_name_desc
SELECT name, articles FROM tags
 WHERE articles > 0 AND (%(name)s IS NULL OR name < %(name)s)
 ORDER BY name DESC LIMIT %(offset)s, %(fetch)s;

-- name: list_tags_by_count_desc
-- Most articles first, then by name (ix_tags_articles_name is articles DESC, name).
SELECT name, articles FROM tags FORCE INDEX (ix_tags_articles_name)
 WHERE articles > 0
   AND (%(articles)s IS NULL OR articles < %(articles)s OR (articles = %(articles)s AND name > %(name)s))
 ORDER BY articles DESC, name LIMIT %(offset)s, %(fetch)s;

-- name: list_tags_by_count_asc
-- The same list from its end: fewest articles first, then by name from z.
SELECT name, articles FROM tags FORCE INDEX (ix_tags_articles_name)
 WHERE articles > 0
   AND (%(articles)s IS NULL OR articles > %(articles)s OR (articles = %(articles)s AND name < %(name)s))
 ORDER BY articles, name DESC LIMIT %(offset)s, %(fetch)s;

-- name: count_tags$
SELECT COUNT(*) FROM tags WHERE articles > 0;
