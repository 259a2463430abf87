"""Article lists with filters, sorts, search, id batches and totals, on both list routes: every row of the
contract's table, its bad input, cursors bound to their filters, and walks while articles are written.

Each test lists the articles of a fresh author through /users/{id}/articles (or /articles?author_id=),
so that the other tests' articles never show up."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import pytest

from tests.articles.test_api import assert_clean_problem

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tests.articles.conftest import MakeArticle, MakeUser

ROUTES = ["/users/{author}/articles", "/articles?author_id={author}"]


def word() -> str:
    """A word no other article holds: for searches and tags."""
    return f"w{secrets.token_hex(5)}"


async def listed(client: AsyncTestClient[Litestar], url: str, **query: Any) -> dict[str, Any]:
    """One page of the list at `url` (whose own query, author_id=, is kept: httpx's params would replace it)."""
    path, _, own = url.partition("?")
    response = await client.get(path, params={**dict(parse_qsl(own)), **query})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def ids_of(client: AsyncTestClient[Litestar], url: str, **query: Any) -> list[int]:
    return [article["id"] for article in (await listed(client, url, limit=100, **query))["data"]]


async def walk(client: AsyncTestClient[Litestar], url: str, **query: Any) -> list[dict[str, Any]]:
    """Every article the list holds, page after page by cursor."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 3, **query}
    while True:
        page = await listed(client, url, **params)
        found += page["data"]
        if page["next_cursor"] is None:
            return found
        params["cursor"] = page["next_cursor"]


@pytest.fixture(params=ROUTES)
def route(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def shelf(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_article: MakeArticle, route: str
) -> dict[str, Any]:
    """A fresh author's six articles: drafts and published, tagged and not, some words to search, one
    updated later, one deleted; and the URL that lists them."""
    author = await make_user()
    tag, rare, common = word(), word(), word()
    made = [
        await make_article(author["id"], title=f"{common} first", tags=[tag]),
        await make_article(author["id"], title=f"{common} {rare} second", body=f"{rare} {rare} {rare}", status="draft"),
        await make_article(author["id"], title="third", body=f"{common}", tags=[tag, "other"]),
        await make_article(author["id"], title=f"fourth {rare}", status="draft", tags=[tag]),
        await make_article(author["id"], title="fifth"),
        await make_article(author["id"], title=f"{common} sixth, deleted", tags=[tag]),
    ]
    assert (await client.delete(f"/articles/{made[5]['id']}")).status_code == 204
    updated = await client.patch(f"/articles/{made[0]['id']}", json={"body": "later"})
    made[0] = updated.json()
    return {
        "url": route.format(author=author["id"]),
        "author": author,
        "ids": [article["id"] for article in made],
        "live": [article["id"] for article in made[:5]],
        "articles": made,
        "tag": tag,
        "rare": rare,
        "common": common,
    }


# ---- filters ----


async def test_no_filter_lists_every_live_article_drafts_too(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any]
) -> None:
    assert await ids_of(client, shelf["url"]) == shelf["live"]


async def test_status(client: AsyncTestClient[Litestar], shelf: dict[str, Any]) -> None:
    first, second, third, fourth, fifth = shelf["live"]
    assert await ids_of(client, shelf["url"], status="draft") == [second, fourth]
    assert await ids_of(client, shelf["url"], status="published") == [first, third, fifth]


async def test_tag_in_any_case(client: AsyncTestClient[Litestar], shelf: dict[str, Any]) -> None:
    first, _, third, fourth, _ = shelf["live"]
    assert await ids_of(client, shelf["url"], tag=shelf["tag"]) == [first, third, fourth]
    assert await ids_of(client, shelf["url"], tag=shelf["tag"].upper()) == [first, third, fourth]
    assert await ids_of(client, shelf["url"], tag=shelf["tag"], status="draft") == [fourth]
    assert await ids_of(client, shelf["url"], tag=word()) == []


async def test_ids_batch(client: AsyncTestClient[Litestar], shelf: dict[str, Any]) -> None:
    first, second, _, fourth, _ = shelf["live"]
    deleted = shelf["ids"][5]
    asked = [fourth, deleted, first, 2**53 - 1, first, second]
    assert await ids_of(client, shelf["url"], id=asked) == [first, second, fourth]
    assert await ids_of(client, shelf["url"], id=asked, order="desc") == [fourth, second, first]
    assert await ids_of(client, shelf["url"], id=[deleted]) == []
    page = await listed(client, shelf["url"], id=[first, second, fourth], limit=2, count="true")
    assert [a["id"] for a in page["data"]] == [first, second] and page["total"] == 3
    rest = await listed(client, shelf["url"], id=[first, second, fourth], limit=2, cursor=page["next_cursor"])
    assert [a["id"] for a in rest["data"]] == [fourth] and rest["next_cursor"] is None


async def test_search_ranks_by_relevance_and_skips_deleted(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any]
) -> None:
    first, second, third, fourth, _ = shelf["live"]
    # The rare word four times in the second, once in the fourth: the second ranks first.
    assert await ids_of(client, shelf["url"], q=shelf["rare"]) == [second, fourth]
    assert await ids_of(client, shelf["url"], q=shelf["rare"], order="asc") == [fourth, second]
    assert await ids_of(client, shelf["url"], q=shelf["rare"], sort="id") == [second, fourth]
    # The deleted sixth has the common word too, and is not found.
    assert sorted(await ids_of(client, shelf["url"], q=shelf["common"])) == [first, second, third]
    assert await ids_of(client, shelf["url"], q=shelf["common"], status="published", sort="id") == [first, third]
    assert await ids_of(client, shelf["url"], q=word()) == []


async def test_short_and_stop_words_match_nothing(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_article: MakeArticle
) -> None:
    author = await make_user()
    made = await make_article(author["id"], title="An ox is on the go", body="it is what it is, said the oxen")
    url = f"/users/{author['id']}/articles"
    assert await ids_of(client, url, q="oxen") == [made["id"]]
    assert await ids_of(client, url, q="ox go") == []  # fewer than 3 letters
    assert await ids_of(client, url, q="the is what") == []  # stop words


async def test_quotes_make_a_phrase_and_other_operators_are_spaces(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_article: MakeArticle
) -> None:
    author = await make_user()
    made = await make_article(author["id"], title="Tarte Tatin", body="Upside-down apple tart, caramelised apples.")
    url = f"/users/{author['id']}/articles"
    assert await ids_of(client, url, q='"apple tart"') == [made["id"]]
    assert await ids_of(client, url, q='"tart apple"') == []
    assert await ids_of(client, url, q="-tart") == [made["id"]]  # not "without tart"
    assert await ids_of(client, url, q="tar*") == []  # no prefix search
    assert await ids_of(client, url, q="upside") == [made["id"]]  # a dash splits words


async def test_created_after_and_before_any_offset(client: AsyncTestClient[Litestar], shelf: dict[str, Any]) -> None:
    first, second, _, fourth, fifth = shelf["live"]
    third = datetime.strptime(shelf["articles"][2]["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert await ids_of(client, shelf["url"], created_after=third.isoformat()) == [fourth, fifth]  # strictly
    assert await ids_of(client, shelf["url"], created_before=third.isoformat()) == [first, second]
    # The same moment written with other offsets ("+05:30" goes as %2B05:30 in the URL).
    west = third.astimezone(timezone(timedelta(hours=-2))).isoformat()
    east = third.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    assert west.endswith("-02:00") and east.endswith("+05:30")
    assert await ids_of(client, shelf["url"], created_after=west) == [fourth, fifth]
    assert await ids_of(client, shelf["url"], created_before=east) == [first, second]
    window = {"created_after": west, "created_before": (third + timedelta(days=1)).isoformat()}
    assert await ids_of(client, shelf["url"], **window) == [fourth, fifth]


@pytest.mark.parametrize(
    ("after", "before", "everything"),
    [
        ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", True),  # outside what UTC can hold
        ("9999-12-31T23:59:59-01:00", None, False),
        (None, "0001-01-01T00:00:00+01:00", False),
    ],
)
async def test_times_beyond_the_calendar_are_before_or_after_every_article(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any], after: str | None, before: str | None, everything: bool
) -> None:
    times = {"created_after": after, "created_before": before}
    query = {name: value for name, value in times.items() if value is not None}
    assert await ids_of(client, shelf["url"], **query) == (shelf["live"] if everything else [])
    since = str(after or before)
    from_the_start = since.startswith("0001")
    assert await ids_of(client, shelf["url"], updated_since=since) == (shelf["live"] if from_the_start else [])
    found = await listed(client, "/users", updated_since=since, id=[shelf["author"]["id"]])
    assert len(found["data"]) == (1 if from_the_start else 0)


async def test_times_finer_than_a_microsecond_compare_exactly(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any]
) -> None:
    """The columns hold microseconds; a time in nanoseconds (Go's RFC3339Nano) is rounded the way that keeps
    "after", "before" and "at or after" exact, not to the nearest (which missed the article on the boundary)."""
    third = shelf["articles"][2]
    at = datetime.strptime(third["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    one_ns_before = f"{at - timedelta(microseconds=1):%Y-%m-%dT%H:%M:%S.%f}999Z"
    one_ns_after = f"{at:%Y-%m-%dT%H:%M:%S.%f}001Z"
    url, only = shelf["url"], {"id": [third["id"]]}
    assert await ids_of(client, url, created_after=one_ns_before, **only) == [third["id"]]
    assert await ids_of(client, url, created_after=one_ns_after, **only) == []
    assert await ids_of(client, url, created_before=one_ns_after, **only) == [third["id"]]
    assert await ids_of(client, url, created_before=one_ns_before, **only) == []
    assert await ids_of(client, url, updated_since=one_ns_before, **only) == [third["id"]]
    assert await ids_of(client, url, updated_since=one_ns_after, **only) == []  # never updated


async def test_times_finer_than_a_microsecond_compare_exactly_with_the_dot_percent_encoded(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any]
) -> None:
    """A client may percent-encode every character it sends (%2E for the fraction's dot): the same time."""
    third = shelf["articles"][2]
    at = datetime.strptime(third["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    one_ns_after = f"{at:%Y-%m-%dT%H:%M:%S.%f}001Z".replace(".", "%2E")
    one_ns_before = f"{at - timedelta(microseconds=1):%Y-%m-%dT%H:%M:%S.%f}999Z".replace(".", "%2e")
    path, _, own = shelf["url"].partition("?")
    for query, expected in [
        (f"created_before={one_ns_after}", [third["id"]]),
        (f"created_after={one_ns_before}", [third["id"]]),
        (f"updated_since={one_ns_after}", []),  # never updated
    ]:
        response = await client.get(f"{path}?{own}&id={third['id']}&{query}")
        assert response.status_code == 200, response.text
        assert [article["id"] for article in response.json()["data"]] == expected, query


@pytest.mark.parametrize("offset", ["Z", "-01:00", "+01:00"])
async def test_a_time_in_nanoseconds_at_the_end_of_the_calendar_is_after_every_article(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any], offset: str
) -> None:
    """Rounded up to the next microsecond, 9999-12-31T23:59:59.9999991 would be in the year 10000 (a 500 once)."""
    last = f"9999-12-31T23:59:59.9999991{offset}"
    assert await ids_of(client, shelf["url"], created_before=last) == shelf["live"]
    assert await ids_of(client, shelf["url"], created_after=last) == []
    assert await ids_of(client, shelf["url"], updated_since=last) == []
    found = await listed(client, "/users", updated_since=last, id=[shelf["author"]["id"]])
    assert found["data"] == []


async def test_a_made_up_cursor_is_named_with_every_other_bad_field(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/articles", params={"cursor": "garbage", "limit": "0", "status": "x"})
    problem = assert_clean_problem(response, 400)
    assert {error["field"] for error in problem["errors"]} == {"cursor", "limit", "status"}


async def test_updated_since_counts_creation_as_a_change(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any]
) -> None:
    first = shelf["articles"][0]  # updated after all six were made
    since = datetime.strptime(first["updated_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert await ids_of(client, shelf["url"], updated_since=since.isoformat()) == [first["id"]]
    fifth = shelf["articles"][4]
    created = datetime.strptime(fifth["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert await ids_of(client, shelf["url"], updated_since=created.isoformat()) == [first["id"], fifth["id"]]


# ---- sorts ----


@pytest.mark.parametrize("field", ["created_at", "updated_at", "published_at"])
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_sorts_break_ties_by_id_in_the_same_direction(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any], field: str, order: str
) -> None:
    found = await walk(client, shelf["url"], sort=field, order=order)

    def key(article: dict[str, Any]) -> tuple[str, int]:
        value = article["updated_at"] or article["created_at"] if field == "updated_at" else article[field]
        return value, article["id"]

    expected = [a for a in shelf["articles"][:5] if field != "published_at" or a["published_at"] is not None]
    assert [a["id"] for a in found] == [a["id"] for a in sorted(expected, key=key, reverse=order == "desc")]
    if field == "updated_at":  # the first, updated last, comes last ascending
        assert found[-1 if order == "asc" else 0]["id"] == shelf["live"][0]


async def test_published_at_sort_leaves_out_what_never_was(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any]
) -> None:
    first, second, third, fourth, fifth = shelf["live"]
    page = await listed(client, shelf["url"], sort="published_at", count="true")
    assert [a["id"] for a in page["data"]] == [first, third, fifth] and page["total"] == 3
    assert (await client.patch(f"/articles/{second}", json={"status": "published"})).status_code == 200
    assert await ids_of(client, shelf["url"], sort="published_at") == [first, third, fifth, second]


# ---- totals ----


async def test_count_is_the_matching_live_rows_whatever_the_page(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any]
) -> None:
    cases = [({}, 5), ({"status": "draft"}, 2), ({"tag": shelf["tag"]}, 3), ({"q": shelf["common"]}, 3)]
    for query, total in cases:
        page = await listed(client, shelf["url"], limit=1, count="true", **query)
        assert page["total"] == total, query
        assert len(page["data"]) == 1
    assert "total" not in await listed(client, shelf["url"])
    assert (await listed(client, shelf["url"], count="true", offset=10))["total"] == 5


async def test_count_of_all_articles_and_users(client: AsyncTestClient[Litestar], db_conn: Any) -> None:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM articles WHERE deleted_at IS NULL")
        (articles,) = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM users WHERE deleted_at IS NULL")
        (users,) = cursor.fetchone()
    assert (await listed(client, "/articles", count="true", limit=1))["total"] == articles
    assert (await listed(client, "/users", count="true", limit=1))["total"] == users


# ---- cursors ----


@pytest.mark.parametrize(
    "query", [{}, {"sort": "created_at"}, {"sort": "published_at", "order": "desc"}, {"status": "draft"}, {"tag": "x"}]
)
async def test_a_cursor_is_bound_to_its_filters_sort_and_order(
    client: AsyncTestClient[Litestar], shelf: dict[str, Any], query: dict[str, Any]
) -> None:
    page = await listed(client, shelf["url"], limit=1, sort="updated_at")
    cursor = page["next_cursor"]
    assert cursor is not None
    assert (await listed(client, shelf["url"], limit=1, sort="updated_at", cursor=cursor))["data"]
    path, _, own = shelf["url"].partition("?")
    response = await client.get(path, params={**dict(parse_qsl(own)), "limit": 1, "cursor": cursor, **query})
    assert "cursor" in assert_clean_problem(response, 400)["detail"]


@pytest.mark.parametrize(
    "query",
    [{}, {"sort": "created_at"}, {"sort": "created_at", "order": "desc"}, {"sort": "published_at"},
     {"sort": "updated_at", "order": "desc"}, {"status": "published"}, {"tag": "walk"}, {"q": "walk", "sort": "id"}],
)  # fmt: skip
async def test_a_walk_sees_every_row_once_while_rows_are_written(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_article: MakeArticle, query: dict[str, Any]
) -> None:
    """Articles created (matching or not), updated and deleted between pages: each article there from the
    start and never deleted is seen exactly once, and no article twice."""
    author = await make_user()
    url = f"/users/{author['id']}/articles"
    tag = "walk"
    made = [(await make_article(author["id"], title=f"walk no {n}", tags=[tag]))["id"] for n in range(12)]
    doomed = set(made[5::4])
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 3, **query}
    for _ in range(30):  # 3 a page, at most 2 more matching each: 12 articles take 12 pages, 30 means a loop
        page = await listed(client, url, **params)
        seen += [article["id"] for article in page["data"]]
        await make_article(author["id"], title="walk more", tags=[tag])
        await make_article(author["id"], title="unrelated", status="draft")
        if doomed:
            assert (await client.delete(f"/articles/{doomed.pop()}")).status_code == 204
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    else:
        pytest.fail(f"still paging after 30 pages: {seen}")
    assert len(seen) == len(set(seen)), seen
    kept = set(made) - set(made[5::4])
    assert kept <= set(seen), sorted(kept - set(seen))


# ---- bad input ----


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": "title"}, "sort"),
        ({"sort": "relevance"}, "sort"),
        ({"status": "hidden"}, "status"),
        ({"tag": "two words"}, "tag"),
        ({"tag": "x" * 51}, "tag"),
        ({"q": ""}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"id": ["1"] * 101}, "id"),
        ({"id": ["0"]}, "id"),
        ({"id": ["abc"]}, "id"),
        ({"id": [str(2**53)]}, "id"),
        ({"created_after": "2026-12-03T06:31:36"}, "created_after"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-03T06:31:36Z"}, "created_before"),
        ({"created_before": "2026-12-03T06:31:36+0100"}, "created_before"),  # RFC 3339 offsets have a colon
        ({"created_after": "2026-12-03T06:31:36.5-0000"}, "created_after"),
        ({"updated_since": "2026-12-03 06:31:36 01:00"}, "updated_since"),
        ({"count": "yes"}, "count"),
        ({"order": "random"}, "order"),
    ],
)
async def test_bad_list_queries_are_400(
    client: AsyncTestClient[Litestar], author: dict[str, Any], route: str, query: dict[str, Any], field: str | None
) -> None:
    path, _, own = route.format(author=author["id"]).partition("?")
    response = await client.get(path, params={**dict(parse_qsl(own)), **query})
    assert_clean_problem(response, 400, field)


async def test_every_bad_filter_in_one_400(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get(
        "/articles", params={"status": "x", "tag": "a b", "created_after": "now", "id": "-1", "sort": "x"}
    )
    problem = assert_clean_problem(response, 400)
    assert {error["field"] for error in problem["errors"]} == {"status", "tag", "created_after", "id", "sort"}


async def test_relevance_without_q_is_listed_with_the_other_bad_fields(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/articles", params={"sort": "relevance", "limit": "0"})
    problem = assert_clean_problem(response, 400)
    errors = {error["field"]: error["message"] for error in problem["errors"]}
    assert errors.keys() == {"sort", "limit"}, problem
    assert errors["sort"] == "relevance needs q (it ranks the matches of a search)."
    assert (await client.get("/articles", params={"sort": "relevance", "q": "anything"})).status_code == 200


@pytest.mark.parametrize("name", ["tag", "status", "author_id", "sort", "q", "limit", "cursor", "count"])
async def test_a_single_value_given_twice_is_400(client: AsyncTestClient[Litestar], name: str) -> None:
    """?tag=a&tag=b was read as tag=b: a caller meaning both, or either, got neither and no word of it."""
    values = {
        "tag": "a",
        "status": "draft",
        "author_id": "1",
        "sort": "id",
        "q": "word",
        "limit": "5",
        "cursor": "x",
        "count": "true",
    }
    response = await client.get("/articles", params=[(name, values[name]), (name, values[name])])
    problem = assert_clean_problem(response, 400, name)
    assert [error["message"] for error in problem["errors"]] == ["Given 2 times: give it once."]


# ---- users ----


async def test_users_by_ids_updated_since_and_count(client: AsyncTestClient[Litestar], make_user: MakeUser) -> None:
    one, two, three = await make_user(), await make_user(), await make_user()
    assert (await client.delete(f"/users/{two['id']}")).status_code == 204
    page = await listed(client, "/users", id=[three["id"], two["id"], one["id"]], count="true")
    assert [user["id"] for user in page["data"]] == [one["id"], three["id"]] and page["total"] == 2
    changed = await client.patch(f"/users/{one['id']}", json={"city": "Paris"})
    since = changed.json()["updated_at"]
    page = await listed(client, "/users", updated_since=since, id=[one["id"], three["id"]], count="true")
    assert [user["id"] for user in page["data"]] == [one["id"]] and page["total"] == 1
    assert_clean_problem(await client.get("/users", params={"id": ["1"] * 101}), 400, "id")
    assert_clean_problem(await client.get("/users", params={"updated_since": "2026-12-03"}), 400, "updated_since")
