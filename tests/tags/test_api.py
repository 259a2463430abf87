"""Tags on articles (normalised, validated, replaced by PATCH) and GET /tags with counts of live articles
that stay right through deletes, restores, cascades and tag edits."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import pytest

from tests.articles.test_api import assert_clean_problem

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tests.articles.conftest import MakeArticle, MakeUser


def tag() -> str:
    """A tag no other test uses."""
    return f"t{secrets.token_hex(5)}"


async def all_tags(client: AsyncTestClient[Litestar], **query: Any) -> list[dict[str, Any]]:
    """Every tag GET /tags lists, walked page by page with its cursors."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 7, **query}
    while True:
        response = await client.get("/tags", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["data"]
        if page["next_cursor"] is None:
            return found
        params["cursor"] = page["next_cursor"]


async def counts(client: AsyncTestClient[Litestar], *names: str) -> dict[str, int]:
    """How many live articles carry each of `names`, as GET /tags says (0: not listed)."""
    listed = {entry["name"]: entry["articles"] for entry in await all_tags(client)}
    return {name: listed.get(name, 0) for name in names}


async def test_tags_are_trimmed_lower_cased_deduplicated_and_sorted(
    make_article: MakeArticle, author: dict[str, Any]
) -> None:
    one, two = tag(), tag()
    article = await make_article(author["id"], tags=[f"  {two.upper()} ", one, two, f"{one}\t"])
    assert article["tags"] == sorted([one, two])
    assert (await make_article(author["id"]))["tags"] == []


async def test_ten_tags_with_duplicates_are_fine(make_article: MakeArticle, author: dict[str, Any]) -> None:
    name = tag()
    article = await make_article(author["id"], tags=[name] * 10)
    assert article["tags"] == [name]


@pytest.mark.parametrize(
    "tags",
    [
        [f"t{n}" for n in range(11)],
        [""],
        ["   "],
        ["two words"],
        ["under_score"],
        ["-dash"],
        ["double--dash"],
        ["ünï"],
        ["x" * 51],
        [7],
        "news",
        None,
    ],
)
async def test_bad_tags_are_400(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any], tags: Any
) -> None:
    assert_clean_problem(
        await client.post(f"/users/{author['id']}/articles", json={"title": "T", "tags": tags}), 400, "tags"
    )
    article = await make_article(author["id"])
    assert_clean_problem(await client.patch(f"/articles/{article['id']}", json={"tags": tags}), 400, "tags")


async def test_patch_replaces_the_whole_set(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    a, b, c = sorted([tag(), tag(), tag()])
    article = await make_article(author["id"], tags=[a, b])
    replaced = await client.patch(f"/articles/{article['id']}", json={"tags": [c, b]})
    assert replaced.json()["tags"] == [b, c]
    assert await counts(client, a, b, c) == {a: 0, b: 1, c: 1}
    assert (await client.patch(f"/articles/{article['id']}", json={"title": "new"})).json()["tags"] == [b, c]
    cleared = await client.patch(f"/articles/{article['id']}", json={"tags": []})
    assert cleared.json()["tags"] == []
    assert await counts(client, a, b, c) == {a: 0, b: 0, c: 0}


async def test_counts_follow_deletes_restores_and_cascades(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_article: MakeArticle
) -> None:
    shared, own = tag(), tag()
    owner, other = await make_user(), await make_user()
    first = await make_article(owner["id"], tags=[shared, own])
    await make_article(owner["id"], tags=[shared], status="draft")
    await make_article(other["id"], tags=[shared])
    assert await counts(client, shared, own) == {shared: 3, own: 1}

    assert (await client.delete(f"/articles/{first['id']}")).status_code == 204
    assert await counts(client, shared, own) == {shared: 2, own: 0}
    assert (await client.post(f"/articles/{first['id']}/restore")).status_code == 200
    assert await counts(client, shared, own) == {shared: 3, own: 1}

    assert (await client.delete(f"/users/{owner['id']}")).status_code == 204  # takes both of its articles
    assert await counts(client, shared, own) == {shared: 1, own: 0}
    assert (await client.post(f"/users/{owner['id']}/restore")).status_code == 200
    assert await counts(client, shared, own) == {shared: 3, own: 1}


async def test_sorted_by_name_or_by_count_and_walked_whole(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    popular, middling = tag(), tag()
    for tags in ([popular, middling], [popular, middling], [popular]):
        await make_article(author["id"], tags=tags)

    by_name = await all_tags(client)
    names = [entry["name"] for entry in by_name]
    assert names == sorted(names) and len(set(names)) == len(names)
    assert all(entry["articles"] > 0 for entry in by_name)
    assert [entry["name"] for entry in await all_tags(client, order="desc")] == names[::-1]

    by_count = await all_tags(client, sort="count")
    assert sorted(by_count, key=lambda e: (-e["articles"], e["name"])) == by_count
    assert {e["name"]: e["articles"] for e in by_count} == {e["name"]: e["articles"] for e in by_name}
    assert {"name": popular, "articles": 3} in by_count and {"name": middling, "articles": 2} in by_count
    assert await all_tags(client, sort="count", order="asc") == by_count[::-1]


async def test_count_true_gives_the_total(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    await make_article(author["id"], tags=[tag()])
    page = (await client.get("/tags", params={"count": "true", "limit": 1})).json()
    assert page["total"] == len(await all_tags(client)) >= 1
    assert "total" not in (await client.get("/tags")).json()
    assert "total" not in (await client.get("/tags", params={"count": "false"})).json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": "popularity"}, "sort"),
        ({"sort": "relevance"}, "sort"),
        ({"count": "maybe"}, "count"),
        ({"order": "up"}, "order"),
        ({"limit": 0}, "limit"),
        ({"cursor": "nonsense"}, None),
    ],
)
async def test_a_bad_query_is_400(client: AsyncTestClient[Litestar], query: dict[str, Any], field: str | None) -> None:
    assert_clean_problem(await client.get("/tags", params=query), 400, field)


async def test_a_cursor_of_another_sort_or_order_is_400(
    client: AsyncTestClient[Litestar], make_article: MakeArticle, author: dict[str, Any]
) -> None:
    await make_article(author["id"], tags=[tag(), tag()])
    cursor = (await client.get("/tags", params={"limit": 1})).json()["next_cursor"]
    assert cursor is not None
    assert (await client.get("/tags", params={"limit": 1, "cursor": cursor})).status_code == 200
    for other in ({"sort": "count"}, {"order": "desc"}):
        assert_clean_problem(await client.get("/tags", params={"limit": 1, "cursor": cursor, **other}), 400)
