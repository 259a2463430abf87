"""Fixtures for the article tests: fresh users and articles made through the API, rows read behind it."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from tests.helpers import new_user_body

if TYPE_CHECKING:
    import pymysql
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

ARTICLE_FIELDS = {
    "id",
    "title",
    "body",
    "author_id",
    "author",
    "slug",
    "status",
    "published_at",
    "tags",
    "created_at",
    "updated_at",
}
PAGE_FIELDS = {"data", "limit", "offset", "next_cursor"}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


class MakeUser(Protocol):
    async def __call__(self, **overrides: Any) -> dict[str, Any]: ...


class MakeArticle(Protocol):
    async def __call__(self, author_id: int, **body: Any) -> dict[str, Any]: ...


class MakeArticles(Protocol):
    async def __call__(self, author_id: int, count: int) -> list[int]: ...


class ArticleRow(Protocol):
    def __call__(self, article_id: int) -> dict[str, Any] | None: ...


def _user_maker(client: AsyncTestClient[Litestar]) -> MakeUser:
    async def make(**overrides: Any) -> dict[str, Any]:
        response = await client.post("/users", json=new_user_body(**overrides))
        assert response.status_code == 201, response.text
        user: dict[str, Any] = response.json()
        return user

    return make


@pytest.fixture
def make_user(client: AsyncTestClient[Litestar]) -> MakeUser:
    """Registers a new user (unique email) through the API; returns its User body."""
    return _user_maker(client)


@pytest.fixture(scope="module")
def make_user_module(client: AsyncTestClient[Litestar]) -> MakeUser:
    """make_user for module-scoped fixtures."""
    return _user_maker(client)


@pytest.fixture
def make_article(client: AsyncTestClient[Litestar]) -> MakeArticle:
    """Writes an article through the API (a random title unless given); returns its Article body."""

    async def make(author_id: int, **body: Any) -> dict[str, Any]:
        body.setdefault("title", f"title {secrets.token_hex(4)}")
        response = await client.post(f"/users/{author_id}/articles", json=body)
        assert response.status_code == 201, response.text
        article: dict[str, Any] = response.json()
        return article

    return make


@pytest.fixture
def make_articles(make_article: MakeArticle) -> MakeArticles:
    """Writes `count` articles one after another; returns their ids in creation (= id) order."""

    async def make(author_id: int, count: int) -> list[int]:
        return [(await make_article(author_id, title=f"no. {n}", body=f"body {n}"))["id"] for n in range(count)]

    return make


@pytest.fixture
async def author(make_user: MakeUser) -> dict[str, Any]:
    """A fresh live user with no articles."""
    return await make_user()


@pytest.fixture
def article_row(db_conn: pymysql.connections.Connection) -> ArticleRow:
    """The article's row as the database holds it (deleted or not), or None."""

    def read(article_id: int) -> dict[str, Any] | None:
        with db_conn.cursor() as cursor:
            cursor.execute(
                "SELECT id, author_id, title, body, deleted_at, deleted_with_author, version"
                " FROM articles WHERE id = %s",
                (article_id,),
            )
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([d[0] for d in cursor.description], row, strict=True))

    return read
