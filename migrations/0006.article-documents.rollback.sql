DROP VIEW article_documents;
