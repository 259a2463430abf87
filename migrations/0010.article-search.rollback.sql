ALTER TABLE articles DROP KEY ft_articles_title_body;
