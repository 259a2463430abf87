"""Paging the three article lists: limit/offset, cursor walks (also while rows come and go), bad parameters."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from tests.articles.conftest import PAGE_FIELDS
from tests.helpers import assert_problem

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import pymysql
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tests.articles.conftest import MakeArticles, MakeUser

LISTINGS = ["user-route", "author-filter", "all"]
ORDERS = ["asc", "desc"]


@dataclass
class Listing:
    """One list route (with its filter) as a test walks it."""

    url: str
    filters: dict[str, Any] = field(default_factory=dict)
    # GET /articles holds every test's articles: an ascending walk over ours starts at an offset.
    first_offset: int = 0
    # ... and a descending one stops once it has passed our oldest.
    stop_below: int | None = None


def live_articles_below(db_conn: pymysql.connections.Connection, article_id: int) -> int:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM articles WHERE deleted_at IS NULL AND id < %s", (article_id,))
        (count,) = cursor.fetchone()
    return int(count)


def listing_for(
    kind: str, author_id: int, ids: list[int], order: str, db_conn: pymysql.connections.Connection
) -> Listing:
    if kind == "user-route":
        return Listing(f"/users/{author_id}/articles")
    if kind == "author-filter":
        return Listing("/articles", {"author_id": author_id})
    # Ours are the newest articles (tests run one at a time), so they start the descending list
    # and end the ascending one.
    if order == "asc":
        return Listing("/articles", first_offset=live_articles_below(db_conn, min(ids)))
    return Listing("/articles", stop_below=min(ids))


async def walk(
    client: AsyncTestClient[Litestar],
    listing: Listing,
    limit: int,
    order: str,
    between_pages: Callable[[int], Awaitable[None]] | None = None,
) -> tuple[list[int], list[dict[str, Any]]]:
    """Follows next_cursor from the first page to the last; the ids visited, in order, and the pages."""
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {**listing.filters, "limit": limit, "order": order}
    if listing.first_offset:
        params["offset"] = listing.first_offset
    while True:
        response = await client.get(listing.url, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == PAGE_FIELDS
        assert page["limit"] == limit
        pages.append(page)
        ids = [article["id"] for article in page["data"]]
        assert ids == sorted(ids, reverse=order == "desc")
        if page["next_cursor"] is None:
            break
        # A page with more to come is a full page.
        assert len(ids) == limit, page
        if listing.stop_below is not None and min(ids) <= listing.stop_below:
            break
        assert len(pages) < 50, "the walk does not end"
        if between_pages is not None:
            await between_pages(len(pages))
        params = {**listing.filters, "limit": limit, "order": order, "cursor": page["next_cursor"]}
    visited = [article["id"] for page in pages for article in page["data"]]
    if listing.stop_below is not None:
        visited = [i for i in visited if i >= listing.stop_below]
    return visited, pages


@pytest.fixture
async def ten(make_user: MakeUser, make_articles: MakeArticles) -> tuple[int, list[int]]:
    """A fresh author and the ids of its ten articles, ascending."""
    author = await make_user()
    return author["id"], await make_articles(author["id"], 10)


# ---- limit and offset ----


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("kind", ["user-route", "author-filter"])
async def test_limit_and_offset(
    client: AsyncTestClient[Litestar],
    db_conn: pymysql.connections.Connection,
    ten: tuple[int, list[int]],
    kind: str,
    order: str,
) -> None:
    author_id, ids = ten
    listing = listing_for(kind, author_id, ids, order, db_conn)
    ordered = ids if order == "asc" else ids[::-1]

    async def page(limit: int, offset: int) -> dict[str, Any]:
        params = {**listing.filters, "limit": limit, "offset": offset, "order": order}
        response = await client.get(listing.url, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert (body["limit"], body["offset"]) == (limit, offset)
        return body

    middle = await page(3, 2)
    assert [a["id"] for a in middle["data"]] == ordered[2:5]
    assert middle["next_cursor"] is not None
    # The cursor of an offset page carries on right after it.
    after = await client.get(
        listing.url, params={**listing.filters, "limit": 3, "order": order, "cursor": middle["next_cursor"]}
    )
    assert [a["id"] for a in after.json()["data"]] == ordered[5:8]

    exactly_to_the_end = await page(2, 8)
    assert [a["id"] for a in exactly_to_the_end["data"]] == ordered[8:]
    assert exactly_to_the_end["next_cursor"] is None
    assert [a["id"] for a in (await page(3, 9))["data"]] == ordered[9:]
    beyond = await page(3, 10)
    assert (beyond["data"], beyond["next_cursor"]) == ([], None)
    assert [a["id"] for a in (await page(1, 0))["data"]] == ordered[:1]
    everything = await page(100, 0)
    assert ([a["id"] for a in everything["data"]], everything["next_cursor"]) == (ordered, None)


async def test_limit_and_offset_on_all_articles(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection, ten: tuple[int, list[int]]
) -> None:
    _, ids = ten
    newest = (await client.get("/articles", params={"order": "desc", "limit": 4, "offset": 3})).json()
    assert [a["id"] for a in newest["data"]] == ids[::-1][3:7]
    start = live_articles_below(db_conn, ids[0])
    oldest_first = (await client.get("/articles", params={"limit": 4, "offset": start + 2})).json()
    assert [a["id"] for a in oldest_first["data"]] == ids[2:6]
    assert oldest_first["offset"] == start + 2
    last = (await client.get("/articles", params={"limit": 4, "offset": start + 6})).json()
    assert ([a["id"] for a in last["data"]], last["next_cursor"]) == (ids[6:], None)


# ---- cursor walks ----


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("kind", LISTINGS)
async def test_cursor_walk_visits_every_live_article_once_in_order(
    client: AsyncTestClient[Litestar],
    db_conn: pymysql.connections.Connection,
    ten: tuple[int, list[int]],
    kind: str,
    order: str,
) -> None:
    author_id, ids = ten
    visited, pages = await walk(client, listing_for(kind, author_id, ids, order, db_conn), 3, order)
    assert visited == (ids if order == "asc" else ids[::-1])
    if kind != "all" or order == "asc":
        assert [len(page["data"]) for page in pages] == [3, 3, 3, 1]
        assert [page["next_cursor"] is None for page in pages] == [False, False, False, True]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("kind", ["user-route", "author-filter"])
@pytest.mark.parametrize(("count", "limit", "sizes"), [(6, 3, [3, 3]), (3, 3, [3]), (6, 5, [5, 1]), (0, 3, [0])])
async def test_next_cursor_is_null_exactly_on_the_last_page(
    client: AsyncTestClient[Litestar],
    db_conn: pymysql.connections.Connection,
    make_user: MakeUser,
    make_articles: MakeArticles,
    kind: str,
    order: str,
    count: int,
    limit: int,
    sizes: list[int],
) -> None:
    author = await make_user()
    ids = await make_articles(author["id"], count)
    visited, pages = await walk(client, listing_for(kind, author["id"], ids, order, db_conn), limit, order)
    assert visited == (ids if order == "asc" else ids[::-1])
    assert [len(page["data"]) for page in pages] == sizes
    assert [page["next_cursor"] is None for page in pages] == [False] * (len(sizes) - 1) + [True]


async def test_next_cursor_is_null_when_only_deleted_rows_follow(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_articles: MakeArticles
) -> None:
    author = await make_user()
    ids = await make_articles(author["id"], 8)
    for article_id in ids[6:]:
        assert (await client.delete(f"/articles/{article_id}")).status_code == 204
    visited, pages = await walk(client, Listing(f"/users/{author['id']}/articles"), 3, "asc")
    assert visited == ids[:6]
    assert [page["next_cursor"] is None for page in pages] == [False, True]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("kind", LISTINGS)
async def test_cursor_walk_while_articles_come_and_go(
    client: AsyncTestClient[Litestar],
    db_conn: pymysql.connections.Connection,
    ten: tuple[int, list[int]],
    kind: str,
    order: str,
) -> None:
    author_id, ids = ten
    listing = listing_for(kind, author_id, ids, order, db_conn)
    ordered = ids if order == "asc" else ids[::-1]
    deleted: list[int] = []
    inserted: list[int] = []

    async def delete(article_id: int) -> None:
        assert (await client.delete(f"/articles/{article_id}")).status_code == 204
        deleted.append(article_id)

    async def insert() -> None:
        response = await client.post(f"/users/{author_id}/articles", json={"title": f"new {len(inserted)}"})
        assert response.status_code == 201, response.text
        inserted.append(response.json()["id"])

    async def between_pages(pages_seen: int) -> None:
        if pages_seen == 1:
            await delete(ordered[2])  # the last one seen: the cursor's own row
            await delete(ordered[5])  # one not yet visited
            await insert()
            await insert()
        elif pages_seen == 2:
            await delete(ordered[9])  # the last of the pre-existing ones
            await delete(ordered[1])  # one already visited: changes nothing ahead
            await insert()

    visited, _ = await walk(client, listing, 3, order, between_pages)
    assert len(visited) == len(set(visited)), visited
    # Deleting rows already visited (the cursor's own row among them) changes nothing ahead.
    survivors = [i for i in ordered if i not in (ordered[5], ordered[9])]
    # New articles get higher ids: at the end of an ascending walk, behind a descending one.
    expected = survivors + inserted if order == "asc" else survivors
    assert visited == expected
    assert len(inserted) == 3 and all(new > max(ids) for new in inserted)


# ---- bad parameters ----

BAD_PARAMS = [
    pytest.param({"limit": 0}, "limit", id="limit-0"),
    pytest.param({"limit": 101}, "limit", id="limit-101"),
    pytest.param({"limit": -1}, "limit", id="limit-negative"),
    pytest.param({"limit": "x"}, "limit", id="limit-x"),
    pytest.param({"limit": ""}, "limit", id="limit-empty"),
    pytest.param({"limit": "2.5"}, "limit", id="limit-fraction"),
    pytest.param({"limit": "2.0"}, "limit", id="limit-decimal"),
    pytest.param({"limit": "1e1"}, "limit", id="limit-exponent"),
    pytest.param({"limit": "+5"}, "limit", id="limit-plus"),
    pytest.param({"limit": "9" * 30}, "limit", id="limit-huge"),
    pytest.param({"offset": -1}, "offset", id="offset-negative"),
    pytest.param({"offset": "x"}, "offset", id="offset-x"),
    pytest.param({"offset": "0.5"}, "offset", id="offset-fraction"),
    pytest.param({"offset": "1.0"}, "offset", id="offset-decimal"),
    pytest.param({"offset": "1e0"}, "offset", id="offset-exponent"),
    pytest.param({"offset": "9" * 30}, "offset", id="offset-huge"),
    pytest.param({"order": "foo"}, "order", id="order-foo"),
    pytest.param({"order": ""}, "order", id="order-empty"),
    pytest.param({"order": "ascending"}, "order", id="order-ascending"),
    pytest.param({"cursor": "!!!"}, "cursor", id="cursor-not-base64"),
    pytest.param({"cursor": "abc"}, "cursor", id="cursor-garbage"),
    pytest.param({"cursor": "A" * 36}, "cursor", id="cursor-right-length-wrong-tag"),
    pytest.param({"cursor": "A" * 500}, "cursor", id="cursor-too-long"),
    pytest.param({"cursor": ""}, "cursor", id="cursor-empty"),
    pytest.param({"cursor": "\u00e9\u00e9\u00e9"}, "cursor", id="cursor-non-ascii"),
]


@pytest.fixture
async def author_with_articles(make_user: MakeUser, make_articles: MakeArticles) -> int:
    author = await make_user()
    await make_articles(author["id"], 2)
    return int(author["id"])


def route(kind: str, author_id: int) -> tuple[str, dict[str, Any]]:
    if kind == "user-route":
        return f"/users/{author_id}/articles", {}
    if kind == "author-filter":
        return "/articles", {"author_id": author_id}
    return "/articles", {}


@pytest.mark.parametrize(("params", "name"), BAD_PARAMS)
@pytest.mark.parametrize("kind", LISTINGS)
async def test_bad_page_parameters_are_400(
    client: AsyncTestClient[Litestar], author_with_articles: int, kind: str, params: dict[str, Any], name: str
) -> None:
    url, filters = route(kind, author_with_articles)
    problem = assert_problem(await client.get(url, params={**filters, **params}), 400)
    assert name in problem["detail"]
    for leak in ("Traceback", "SELECT", "Error("):
        assert leak not in problem["detail"]


async def first_cursor(client: AsyncTestClient[Litestar], url: str, params: dict[str, Any]) -> str:
    response = await client.get(url, params={**params, "limit": 1})
    assert response.status_code == 200, response.text
    cursor = response.json()["next_cursor"]
    assert isinstance(cursor, str) and cursor
    return cursor


@pytest.mark.parametrize("kind", LISTINGS)
async def test_cursor_with_offset_is_400(
    client: AsyncTestClient[Litestar], author_with_articles: int, kind: str
) -> None:
    url, filters = route(kind, author_with_articles)
    cursor = await first_cursor(client, url, filters)
    problem = assert_problem(await client.get(url, params={**filters, "cursor": cursor, "offset": 1}), 400)
    assert "cursor" in problem["detail"] and "offset" in problem["detail"]
    # An explicit offset of 0 is no offset.
    assert (await client.get(url, params={**filters, "cursor": cursor, "offset": 0})).status_code == 200


def tampered(cursor: str) -> list[str]:
    """Versions of a cursor a client might damage or forge."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    fmt, last_id = struct.unpack(">BQ", raw[:9])
    forged = base64.urlsafe_b64encode(struct.pack(">BQ", fmt, last_id + 1) + raw[9:]).decode().rstrip("=")
    flipped = [
        cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1 :]
        for i in (0, len(cursor) // 2, len(cursor) - 1)
    ]
    return [*flipped, forged, cursor[:-1], cursor + "A", cursor + "AAAA"]


@pytest.mark.parametrize("kind", LISTINGS)
async def test_tampered_cursor_is_400(client: AsyncTestClient[Litestar], author_with_articles: int, kind: str) -> None:
    url, filters = route(kind, author_with_articles)
    cursor = await first_cursor(client, url, filters)
    assert (await client.get(url, params={**filters, "cursor": cursor})).status_code == 200
    for bad in tampered(cursor):
        problem = assert_problem(await client.get(url, params={**filters, "cursor": bad}), 400)
        assert "cursor" in problem["detail"]


async def test_cursor_only_works_on_the_listing_that_issued_it(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_articles: MakeArticles
) -> None:
    alice, bob = await make_user(), await make_user()
    await make_articles(alice["id"], 2)
    await make_articles(bob["id"], 2)
    everything = await first_cursor(client, "/articles", {})
    by_alice = await first_cursor(client, "/articles", {"author_id": alice["id"]})
    alices_route = await first_cursor(client, f"/users/{alice['id']}/articles", {})
    misuses = [
        ("/articles", {"author_id": alice["id"], "cursor": everything}),
        ("/articles", {"cursor": by_alice}),
        ("/articles", {"author_id": bob["id"], "cursor": by_alice}),
        (f"/users/{bob['id']}/articles", {"cursor": alices_route}),
        ("/articles", {"author_id": alice["id"], "cursor": by_alice, "order": "desc"}),
        ("/articles", {"cursor": everything, "order": "desc"}),
    ]
    for url, params in misuses:
        problem = assert_problem(await client.get(url, params=params), 400)
        assert "cursor" in problem["detail"]
    # Used where they came from, they work.
    assert (await client.get("/articles", params={"cursor": everything})).status_code == 200
    assert (await client.get("/articles", params={"author_id": alice["id"], "cursor": by_alice})).status_code == 200
