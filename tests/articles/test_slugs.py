"""Slugs: made from titles, given, unique among live articles, found by GET /articles/by-slug/{slug}."""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from blogsvc.articles import slugs
from tests.articles.test_api import assert_clean_problem
from tests.e2e_server import Server

if TYPE_CHECKING:
    from pathlib import Path

    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from blogsvc.config import Settings
    from tests.articles.conftest import MakeArticle, MakeUser


def word() -> str:
    """A word no other test uses, so that slugs made from it are free."""
    return f"w{secrets.token_hex(5)}"


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Crème Brûlée!", "creme-brulee"),
        ("  Straße über Köln  ", "strasse-uber-koln"),
        ("Ada's notes -- on the Engine", "ada-s-notes-on-the-engine"),
        ("Ωμέγα", "omega"),
        ("北京", "beijing"),
        ("!!! ???", "article"),
        ("x" * 200, "x" * 200),
        ("ab " * 70, ("ab-" * 67)[:200].rstrip("-")),
    ],
)
def test_slug_from_title(title: str, slug: str) -> None:
    assert slugs.from_title(title) == slug


def test_numbered_slugs_fit_in_200_characters() -> None:
    assert slugs.numbered("a" * 200, 12) == "a" * 197 + "-12"
    assert slugs.numbered("ab-" * 66 + "cd", 3) == ("ab-" * 66)[:197].rstrip("-") + "-3"
    assert slugs.numbered("short", 2) == "short-2"


async def test_a_title_gives_the_slug_and_taken_ones_get_numbers(
    make_article: MakeArticle, author: dict[str, Any]
) -> None:
    title = f"Crème {word()}"
    made = [await make_article(author["id"], title=title) for _ in range(4)]
    base = slugs.from_title(title)
    assert [article["slug"] for article in made] == [base, f"{base}-2", f"{base}-3", f"{base}-4"]


async def test_the_first_free_number_is_taken(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    base = word()
    first, second, third = [await make_article(author["id"], title=base) for _ in range(3)]
    assert (await client.delete(f"/articles/{second['id']}")).status_code == 204
    again = await make_article(author["id"], title=base)
    assert (first["slug"], third["slug"], again["slug"]) == (base, f"{base}-3", f"{base}-2")


async def test_concurrent_creates_of_one_title_get_different_slugs(
    settings: Settings, tmp_path: Path, author: dict[str, Any]
) -> None:
    """30 creates of one title at once through a real server of two workers, more than their pools have
    connections, all racing for the same slugs: each gets its own and none gives up (with 5 rounds, 12
    racing creates got 503s)."""
    server = Server(settings, tmp_path / "serve.log", workers=2)
    try:
        server.wait_until_healthy()
        title = f"Race {word()}"
        racing = 30
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            responses = await asyncio.gather(
                *(http.post(f"/users/{author['id']}/articles", json={"title": title}) for _ in range(racing))
            )
    finally:
        server.stop()
    assert [response.status_code for response in responses] == [201] * racing, [r.text for r in responses]
    base = slugs.from_title(title)
    made = [response.json()["slug"] for response in responses]
    assert sorted(made) == sorted([base] + [f"{base}-{n}" for n in range(2, racing + 1)])


async def test_a_given_slug_is_kept_and_a_taken_one_is_409(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    slug = f"my-{word()}"
    article = await make_article(author["id"], title="Anything at all", slug=slug)
    assert article["slug"] == slug
    response = await client.post(f"/users/{author['id']}/articles", json={"title": "Other", "slug": slug})
    assert "slug" in assert_clean_problem(response, 409)["detail"]


@pytest.mark.parametrize(
    "slug", ["", "Upper", "two  spaces", "-leading", "trailing-", "double--dash", "ünï", "line\n", "a" * 201, 7]
)
async def test_a_slug_that_breaks_the_pattern_is_400(
    client: AsyncTestClient[Litestar], author: dict[str, Any], slug: Any
) -> None:
    response = await client.post(f"/users/{author['id']}/articles", json={"title": "T", "slug": slug})
    assert_clean_problem(response, 400, "slug")


async def test_a_new_title_leaves_the_slug(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    article = await make_article(author["id"], title=word())
    response = await client.patch(f"/articles/{article['id']}", json={"title": "Something else entirely"})
    assert response.status_code == 200, response.text
    assert response.json()["slug"] == article["slug"]


async def test_patch_sets_a_slug_unless_a_live_article_has_it(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    one, other = await make_article(author["id"], title=word()), await make_article(author["id"], title=word())
    wanted = f"new-{word()}"
    response = await client.patch(f"/articles/{one['id']}", json={"slug": wanted})
    assert response.status_code == 200 and response.json()["slug"] == wanted, response.text
    assert (await client.patch(f"/articles/{one['id']}", json={"slug": wanted})).status_code == 200  # its own
    taken = await client.patch(f"/articles/{other['id']}", json={"slug": wanted})
    assert "slug" in assert_clean_problem(taken, 409)["detail"]
    assert (await client.get(f"/articles/{other['id']}")).json()["slug"] == other["slug"]
    assert_clean_problem(await client.patch(f"/articles/{other['id']}", json={"slug": "Not A Slug"}), 400, "slug")


async def test_a_deleted_articles_slug_may_be_taken_and_then_restoring_it_is_409(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    slug = word()
    gone = await make_article(author["id"], title="First", slug=slug)
    assert (await client.delete(f"/articles/{gone['id']}")).status_code == 204
    taker = await make_article(author["id"], title="Second", slug=slug)
    restore = await client.post(f"/articles/{gone['id']}/restore")
    assert "slug" in assert_clean_problem(restore, 409)["detail"]
    assert (await client.get(f"/articles/{gone['id']}")).status_code == 404
    # Once the taker lets it go, the restore goes through.
    assert (await client.patch(f"/articles/{taker['id']}", json={"slug": f"{slug}-moved"})).status_code == 200
    restored = await client.post(f"/articles/{gone['id']}/restore")
    assert restored.status_code == 200 and restored.json()["slug"] == slug, restored.text


async def test_restoring_a_user_whose_articles_slug_was_taken_is_409_and_restores_nothing(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_article: MakeArticle
) -> None:
    owner, other = await make_user(), await make_user()
    slug = word()
    kept = await make_article(owner["id"], title="Kept", slug=slug)
    assert (await client.delete(f"/users/{owner['id']}")).status_code == 204
    await make_article(other["id"], title="Taker", slug=slug)
    restore = await client.post(f"/users/{owner['id']}/restore")
    assert "slug" in assert_clean_problem(restore, 409)["detail"]
    assert (await client.get(f"/users/{owner['id']}")).status_code == 404
    assert (await client.get(f"/articles/{kept['id']}")).status_code == 404


# ---- GET /articles/by-slug/{slug} ----


async def test_get_by_slug_is_the_article_with_its_etag(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    article = await make_article(author["id"], title=word(), tags=["x"])
    by_id = await client.get(f"/articles/{article['id']}")
    by_slug = await client.get(f"/articles/by-slug/{article['slug']}")
    assert by_slug.status_code == 200, by_slug.text
    assert by_slug.json() == by_id.json() == article
    assert by_slug.headers["etag"] == by_id.headers["etag"]
    not_modified = await client.get(
        f"/articles/by-slug/{article['slug']}", headers={"If-None-Match": by_slug.headers["etag"]}
    )
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == by_slug.headers["etag"]
    head = await client.head(f"/articles/by-slug/{article['slug']}")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == by_slug.headers["etag"]
    changed = await client.patch(f"/articles/{article['id']}", json={"body": "new"})
    stale = await client.get(f"/articles/by-slug/{article['slug']}", headers={"If-None-Match": by_slug.headers["etag"]})
    assert stale.status_code == 200 and stale.headers["etag"] == changed.headers["etag"] != by_slug.headers["etag"]


async def test_get_by_slug_is_404_when_absent_or_deleted(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    assert_clean_problem(await client.get(f"/articles/by-slug/{word()}"), 404)
    article = await make_article(author["id"], title=word())
    assert (await client.delete(f"/articles/{article['id']}")).status_code == 204
    assert_clean_problem(await client.get(f"/articles/by-slug/{article['slug']}"), 404)


@pytest.mark.parametrize("slug", ["Upper", "a--b", "-a", "%C3%BC", "a" * 201])
async def test_get_by_a_bad_slug_is_400(client: AsyncTestClient[Litestar], slug: str) -> None:
    assert_clean_problem(await client.get(f"/articles/by-slug/{slug}"), 400, "slug")
