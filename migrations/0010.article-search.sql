-- depends: 0009.index-article-lists
-- transactional: false
-- q: MariaDB's full-text search over title and body (sql/articles.sql, source_search). The first
-- FULLTEXT index of an InnoDB table rebuilds it to add a hidden document id, and MariaDB lets reads,
-- not writes, go on meanwhile (LOCK=SHARED is the least it allows): writes to articles wait for the
-- whole build, 70-85 s per million articles here (docs/operations.md). A migration of its own so
-- that the wait is this one step's.
ALTER TABLE articles ADD FULLTEXT KEY ft_articles_title_body (title, body), ALGORITHM = INPLACE, LOCK = SHARED;
