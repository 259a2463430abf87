"""Status (draft or published) and published_at: when an article was first published."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.articles.test_api import assert_clean_problem

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tests.articles.conftest import MakeArticle


async def test_published_by_default_since_its_creation(make_article: MakeArticle, author: dict[str, Any]) -> None:
    article = await make_article(author["id"])
    assert article["status"] == "published"
    assert article["published_at"] == article["created_at"]


async def test_published_at_is_the_first_publication_and_stays(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    draft = await make_article(author["id"], status="draft")
    assert (draft["status"], draft["published_at"]) == ("draft", None)
    edited = (await client.patch(f"/articles/{draft['id']}", json={"body": "still a draft"})).json()
    assert (edited["status"], edited["published_at"]) == ("draft", None)

    published = (await client.patch(f"/articles/{draft['id']}", json={"status": "published"})).json()
    assert published["status"] == "published"
    assert published["published_at"] == published["updated_at"] is not None

    back = (await client.patch(f"/articles/{draft['id']}", json={"status": "draft"})).json()
    assert (back["status"], back["published_at"]) == ("draft", published["published_at"])
    again = (await client.patch(f"/articles/{draft['id']}", json={"status": "published"})).json()
    assert (again["status"], again["published_at"]) == ("published", published["published_at"])
    assert again["updated_at"] > published["published_at"]


@pytest.mark.parametrize("status", ["Published", "deleted", "", None, 1])
async def test_a_bad_status_is_400(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any], status: Any
) -> None:
    assert_clean_problem(
        await client.post(f"/users/{author['id']}/articles", json={"title": "T", "status": status}), 400, "status"
    )
    article = await make_article(author["id"])
    assert_clean_problem(await client.patch(f"/articles/{article['id']}", json={"status": status}), 400, "status")
