"""The article fixtures (tags live on articles)."""

from tests.articles.conftest import author, make_article, make_user

__all__ = ["author", "make_article", "make_user"]
