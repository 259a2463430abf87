"""ETags on articles (and users' concurrent writes): If-None-Match, If-Match, and no lost updates."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import assert_problem

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tests.articles.conftest import MakeArticle, MakeUser


async def current(client: AsyncTestClient[Litestar], article_id: int) -> tuple[dict[str, Any], str]:
    response = await client.get(f"/articles/{article_id}")
    assert response.status_code == 200, response.text
    return response.json(), response.headers["etag"]


@pytest.fixture
async def article(author: dict[str, Any], make_article: MakeArticle) -> dict[str, Any]:
    return await make_article(author["id"], title="Original", body="original body")


async def test_etag_changes_with_every_write(client: AsyncTestClient[Litestar], article: dict[str, Any]) -> None:
    url = f"/articles/{article['id']}"
    _, first = await current(client, article["id"])
    assert (await current(client, article["id"]))[1] == first  # stable while nothing changes
    patched = await client.patch(url, json={"title": "Edited"})
    assert patched.headers["etag"] != first
    _, second = await current(client, article["id"])
    assert second == patched.headers["etag"]
    # Setting the same title again is still a write (updated_at moves): a new version.
    assert (await client.patch(url, json={"title": "Edited"})).headers["etag"] != second
    latest, _ = await current(client, article["id"])
    assert (await client.delete(url)).status_code == 204
    restored = await client.post(f"{url}/restore")
    assert restored.status_code == 200
    # Restored is the latest version again, which neither earlier tag describes.
    assert restored.json() == latest
    assert restored.headers["etag"] not in (first, second)
    assert (await current(client, article["id"]))[1] == restored.headers["etag"]


async def test_if_none_match(client: AsyncTestClient[Litestar], article: dict[str, Any]) -> None:
    url = f"/articles/{article['id']}"
    _, etag = await current(client, article["id"])

    for header in (etag, f"W/{etag}", f'"0", {etag}', "*"):
        not_modified = await client.get(url, headers={"If-None-Match": header})
        assert not_modified.status_code == 304, header
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        assert "content-type" not in not_modified.headers
        assert not_modified.headers["cache-control"] == "no-store"

    assert (await client.patch(url, json={"body": "new"})).status_code == 200
    stale = await client.get(url, headers={"If-None-Match": etag})
    assert stale.status_code == 200
    assert stale.json()["body"] == "new"
    assert stale.headers["etag"] != etag
    assert (await client.get(url, headers={"If-None-Match": '"no-such-tag"'})).status_code == 200
    # A tag on a response without one (a list page), or on a write, changes nothing.
    assert (await client.get("/articles", headers={"If-None-Match": "*"})).status_code == 200
    assert (await client.patch(url, json={"title": "t"}, headers={"If-None-Match": "*"})).status_code == 200

    assert (await client.delete(url)).status_code == 204
    assert_problem(await client.get(url, headers={"If-None-Match": stale.headers["etag"]}), 404)
    assert_problem(await client.get(url, headers={"If-None-Match": "*"}), 404)


@pytest.mark.parametrize("stale_kind", ["old", "weak-current", "unknown", "garbage"])
async def test_patch_with_stale_if_match_is_412_and_changes_nothing(
    client: AsyncTestClient[Litestar], article: dict[str, Any], stale_kind: str
) -> None:
    url = f"/articles/{article['id']}"
    _, old = await current(client, article["id"])
    edited = (await client.patch(url, json={"body": "second version"})).json()
    _, etag = await current(client, article["id"])
    # If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches.
    header = {"old": old, "weak-current": f"W/{etag}", "unknown": '"999999"', "garbage": "not a tag"}[stale_kind]

    assert_problem(await client.patch(url, json={"title": "Lost?", "body": None}, headers={"If-Match": header}), 412)
    content, after = await current(client, article["id"])
    assert content == edited
    assert after == etag


async def test_delete_with_stale_if_match_is_412_and_changes_nothing(
    client: AsyncTestClient[Litestar], article: dict[str, Any]
) -> None:
    url = f"/articles/{article['id']}"
    _, old = await current(client, article["id"])
    edited = (await client.patch(url, json={"title": "Kept"})).json()
    assert_problem(await client.delete(url, headers={"If-Match": old}), 412)
    assert (await current(client, article["id"]))[0] == edited
    assert (await client.get(f"/users/{article['author_id']}/articles")).json()["data"] == [edited]


async def test_writes_with_current_if_match_go_ahead(
    client: AsyncTestClient[Litestar], article: dict[str, Any]
) -> None:
    url = f"/articles/{article['id']}"
    _, etag = await current(client, article["id"])
    patched = await client.patch(url, json={"title": "Matched"}, headers={"If-Match": etag})
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Matched"
    # A list naming the current tag among others matches, and so does *.
    listed = await client.patch(url, json={"body": "listed"}, headers={"If-Match": f'"0", {patched.headers["etag"]}'})
    assert listed.status_code == 200, listed.text
    starred = await client.patch(url, json={"body": "starred"}, headers={"If-Match": "*"})
    assert starred.status_code == 200, starred.text
    assert (await current(client, article["id"]))[0]["body"] == "starred"
    # With no If-Match at all the write goes ahead too.
    assert (await client.patch(url, json={"body": "unconditional"})).status_code == 200

    _, etag = await current(client, article["id"])
    assert (await client.delete(url, headers={"If-Match": etag})).status_code == 204
    assert_problem(await client.get(url), 404)


async def test_if_match_on_deleted_article_is_404(client: AsyncTestClient[Litestar], article: dict[str, Any]) -> None:
    url = f"/articles/{article['id']}"
    _, etag = await current(client, article["id"])
    assert (await client.delete(url)).status_code == 204
    assert_problem(await client.patch(url, json={"title": "x"}, headers={"If-Match": etag}), 404)
    assert_problem(await client.delete(url, headers={"If-Match": etag}), 404)


async def test_concurrent_patches_with_the_same_if_match_lose_no_update(
    client: AsyncTestClient[Litestar], article: dict[str, Any]
) -> None:
    url = f"/articles/{article['id']}"
    for round_no in range(5):
        _, etag = await current(client, article["id"])
        bodies = [{"title": f"round {round_no} by A", "body": "A"}, {"title": f"round {round_no} by B", "body": "B"}]
        responses = await asyncio.gather(*(client.patch(url, json=b, headers={"If-Match": etag}) for b in bodies))
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
        winner, body = next((r, b) for r, b in zip(responses, bodies, strict=True) if r.status_code == 200)
        assert {k: winner.json()[k] for k in body} == body
        content, final = await current(client, article["id"])
        assert content == winner.json()
        assert final == winner.headers["etag"]


async def test_concurrent_patch_and_delete_with_the_same_if_match(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    for _ in range(5):
        article = await make_article(author["id"])
        url = f"/articles/{article['id']}"
        _, etag = await current(client, article["id"])
        patched, deleted = await asyncio.gather(
            client.patch(url, json={"title": "racing"}, headers={"If-Match": etag}),
            client.delete(url, headers={"If-Match": etag}),
        )
        if deleted.status_code == 204:
            assert patched.status_code in (404, 412), patched.text
            assert_problem(await client.get(url), 404)
        else:
            assert (patched.status_code, deleted.status_code) == (200, 412), (patched.text, deleted.text)
            assert (await current(client, article["id"]))[0]["title"] == "racing"


async def test_concurrent_user_puts_with_the_same_if_match(
    client: AsyncTestClient[Litestar], make_user: MakeUser
) -> None:
    user = await make_user(first_name="Ada", last_name="Lovelace", city="London")
    url = f"/users/{user['id']}"
    for round_no in range(5):
        response = await client.get(url)
        etag = response.headers["etag"]
        bodies = [
            {"email": user["email"], "first_name": f"A{round_no}", "last_name": "A", "city": "A", "is_active": True},
            {"email": user["email"], "first_name": f"B{round_no}", "last_name": "B", "city": "B", "is_active": False},
        ]
        responses = await asyncio.gather(*(client.put(url, json=b, headers={"If-Match": etag}) for b in bodies))
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
        winner, body = next((r, b) for r, b in zip(responses, bodies, strict=True) if r.status_code == 200)
        assert {k: winner.json()[k] for k in body} == body
        final = await client.get(url)
        assert final.json() == winner.json()
        assert final.headers["etag"] == winner.headers["etag"]
