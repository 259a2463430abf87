"""Pages of all live articles at deep offsets start from the live counts per id range (migration 0005,
sql/articles.sql seek_*): they must show exactly what OFFSET over the live rows shows, in both orders,
after inserts, soft deletes, restores, cascades and hard deletes have moved the counts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from blogsvc.articles import deep_offsets as ranges
from blogsvc.articles.deep_offsets import SEEK_FROM_OFFSET
from blogsvc.db.cluster import Database
from blogsvc.db.queries import load_queries

if TYPE_CHECKING:
    import pymysql
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from blogsvc.config import Settings
    from tests.articles.conftest import MakeArticle, MakeUser

BULK = 5000  # about five ranges of 1024 ids


def _rows(db_conn: pymysql.connections.Connection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with db_conn.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def _live_ids(db_conn: pymysql.connections.Connection, order: str, offset: int, limit: int) -> list[int]:
    direction = "DESC" if order == "desc" else "ASC"
    sql = f"SELECT id FROM articles WHERE deleted_at IS NULL ORDER BY id {direction} LIMIT %s, %s"  # noqa: S608
    return [row[0] for row in _rows(db_conn, sql, offset, limit)]


def _live_count(db_conn: pymysql.connections.Connection) -> int:
    return int(_rows(db_conn, "SELECT COUNT(*) FROM articles WHERE deleted_at IS NULL")[0][0])


@pytest.fixture(scope="module")
async def churned(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection, make_user_module: MakeUser
) -> pymysql.connections.Connection:
    """Thousands of articles, then every kind of change that moves a count."""
    bulk_author, cascaded_author, restored_author = [(await make_user_module())["id"] for _ in range(3)]
    with db_conn.cursor() as cursor:
        for author, count in ((bulk_author, BULK), (cascaded_author, 300), (restored_author, 300)):
            cursor.execute(
                "INSERT INTO articles (author_id, title, body, created_at)"
                " SELECT %s, CONCAT('deep ', seq), 'body', UTC_TIMESTAMP(6) FROM seq_1_to_5000 WHERE seq <= %s",
                (author, count),
            )
        # Soft deletes behind the API, and a hard delete of rows live and deleted.
        cursor.execute(
            "UPDATE articles SET deleted_at = UTC_TIMESTAMP(6) WHERE author_id = %s AND id %% 7 = 3", (bulk_author,)
        )
        cursor.execute("DELETE FROM articles WHERE author_id = %s AND id %% 11 IN (4, 3)", (bulk_author,))
    ids = [row[0] for row in _rows(db_conn, "SELECT id FROM articles WHERE author_id = %s ORDER BY id", bulk_author)]
    for article_id in ids[100:160]:  # through the API: deletes, and some restored again
        assert (await client.delete(f"/articles/{article_id}")).status_code in (204, 404)
    for article_id in ids[100:130]:
        assert (await client.post(f"/articles/{article_id}/restore")).status_code in (200, 404)
    # Cascades: one author deleted for good, one deleted and restored.
    assert (await client.delete(f"/users/{cascaded_author}")).status_code == 204
    assert (await client.delete(f"/users/{restored_author}")).status_code == 204
    assert (await client.post(f"/users/{restored_author}/restore")).status_code == 200
    return db_conn


@pytest.mark.parametrize("level", [0, 1, 2])
def test_counts_match_the_live_rows_of_every_range(churned: pymysql.connections.Connection, level: int) -> None:
    """Ranges of 2^10, 2^15 and 2^20 ids (article_level_counts, migration 0006)."""
    counted = _rows(
        churned,
        "SELECT id_range, SUM(live) FROM article_level_counts WHERE level = %s GROUP BY id_range HAVING SUM(live) <> 0",
        level,
    )
    shift = 10 + 5 * level
    actual = _rows(
        churned,
        "SELECT id >> %s AS r, COUNT(*) FROM articles WHERE deleted_at IS NULL GROUP BY r ORDER BY r",
        shift,
    )
    assert [(int(r), int(n)) for r, n in counted] == [(int(r), int(n)) for r, n in actual]


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_deep_pages_show_what_offset_shows(
    client: AsyncTestClient[Litestar], churned: pymysql.connections.Connection, order: str
) -> None:
    live = _live_count(churned)
    assert live > 3 * SEEK_FROM_OFFSET
    offsets = [SEEK_FROM_OFFSET - 1, SEEK_FROM_OFFSET, 1500, 2047, 2048, 3333, live - 21, live - 20, live - 1]
    for offset in offsets:
        for limit in (1, 20, 100):
            response = await client.get("/articles", params={"offset": offset, "limit": limit, "order": order})
            assert response.status_code == 200, response.text
            page = response.json()
            expected = _live_ids(churned, order, offset, limit)
            assert [article["id"] for article in page["data"]] == expected, (offset, limit)
            assert (page["offset"], page["limit"]) == (offset, limit)
            assert (page["next_cursor"] is None) == (offset + limit >= live), (offset, limit)


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_offsets_past_the_end_are_empty_pages(
    client: AsyncTestClient[Litestar], churned: pymysql.connections.Connection, order: str
) -> None:
    live = _live_count(churned)
    for offset in (live, live + 1, live + 5000):
        response = await client.get("/articles", params={"offset": offset, "order": order})
        assert response.status_code == 200, response.text
        assert response.json() == {"data": [], "limit": 20, "offset": offset, "next_cursor": None}


async def test_a_new_article_is_counted_at_once(
    client: AsyncTestClient[Litestar],
    churned: pymysql.connections.Connection,
    make_user: MakeUser,
    make_article: MakeArticle,
) -> None:
    author = await make_user()
    created = await make_article(author["id"])
    live = _live_count(churned)
    response = await client.get("/articles", params={"offset": live - 1, "limit": 5})
    assert [article["id"] for article in response.json()["data"]] == [created["id"]]


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_the_copy_of_the_counts_guesses_what_the_seek_finds(
    settings: Settings, churned: pymysql.connections.Connection, order: str
) -> None:
    seek = load_queries("articles").queries[f"seek_articles_{order}"].sql
    copy = ranges.LiveRanges()
    live = _live_count(churned)
    db = Database.open(settings)
    try:
        for offset in (0, SEEK_FROM_OFFSET, 2047, 2048, 3333, live - 1):
            guess = await copy.start(db, order, offset)
            assert guess is not None
            with churned.cursor() as cursor:
                cursor.execute(seek, {"offset": offset})
                bound, passed = cursor.fetchone()
            assert (guess.bound, guess.passed, guess.id_range) == (int(bound), int(passed), int(bound) // 1024), offset
        assert await copy.start(db, order, live) is None
    finally:
        await db.close()


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_a_stale_copy_of_the_counts_never_shows_a_wrong_page(
    client: AsyncTestClient[Litestar],
    churned: pymysql.connections.Connection,
    make_user: MakeUser,
    make_article: MakeArticle,
    order: str,
) -> None:
    """The worker's copy is loaded, then a delete and a create move every deep page by one: the
    next pages, guessed from the old copy, must still show what OFFSET shows."""
    params = {"offset": 3000, "limit": 20, "order": order}
    time.sleep(ranges.RELOAD_EVERY)  # the copy may be loaded again now, and is by the next deep page
    assert (await client.get("/articles", params=params)).status_code == 200
    [first] = _live_ids(churned, "asc", 0, 1)
    assert (await client.delete(f"/articles/{first}")).status_code == 204
    await make_article((await make_user())["id"])
    for offset in (2000, 3000, 3001):
        response = await client.get("/articles", params={**params, "offset": offset})
        assert [article["id"] for article in response.json()["data"]] == _live_ids(churned, order, offset, 20)
