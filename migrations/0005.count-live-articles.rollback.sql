DROP TRIGGER articles_counted_on_delete;
DROP TRIGGER articles_counted_on_update;
DROP TRIGGER articles_counted_on_insert;
DROP TABLE article_counts;
