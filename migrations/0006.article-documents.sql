-- depends: 0005.count-live-articles
-- An article as the API shows it, in one column: a JSON array of id, title, body, author_id, author
-- (the author's email), created_at, updated_at (RFC 3339 UTC with microseconds), version. Every
-- article query of sql/articles.sql reads it from here, so the projection is written once; MariaDB
-- merges the view into each query (ALGORITHM=MERGE), so the plans are those of the joins written
-- out. msgspec decodes the array in C: the driver's work per column, in Python, was most of a list
-- page's cost. The filter columns come along for the queries' WHERE clauses.
CREATE ALGORITHM = MERGE SQL SECURITY INVOKER VIEW article_documents AS
SELECT a.id, a.author_id, a.deleted_at,
       JSON_ARRAY(a.id, a.title, a.body, a.author_id, u.email,
                  DATE_FORMAT(a.created_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
                  DATE_FORMAT(a.updated_at, '%Y-%m-%dT%H:%i:%s.%fZ'),
                  a.version) AS document
  FROM articles a
  JOIN users u ON u.id = a.author_id;
