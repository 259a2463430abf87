"""The list queries' plans on realistic data: no sort or temporary table over the table, indexes used,
and a cursor page reads about one page of rows however deep it starts: by id, and (the lists of
blogsvc/articles/lists.py) by created_at and published_at, all live articles, one author's, one status's
and one tag's; a search reads the full-text index."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from blogsvc.articles import lists
from blogsvc.articles.deep_offsets import from_range
from blogsvc.articles.lists import ArticleFilters
from blogsvc.db.queries import load_queries
from blogsvc.pagination import Cursors, PageQuery
from tests.helpers import unique_email

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pymysql

    from blogsvc.pagination import Order
    from tests.articles.conftest import MakeUser

BULK_ARTICLES = 100_000
BULK_DELETED_USERS = 30_000
LIVE_USERS_AROUND = 25
PAGE = 20

ARTICLE_LISTS = ["list_articles_asc", "list_articles_desc", "list_author_articles_asc", "list_author_articles_desc"]
USER_LISTS = ["list_users_asc", "list_users_desc"]
# How deep into the list (as a fraction of the bulk author's ids, counted in the list's own order) a cursor page starts.
DEPTHS = [0.1, 0.5, 0.9, 0.9997]
# Every 7th bulk article a draft (no published_at), every 3rd tagged BULK_TAG; published a few minutes after
# creation, by a different amount each, so that published_at's order is not the ids'.
BULK_TAG = "bulk-explain"


@dataclass(frozen=True)
class Bulk:
    author_id: int
    first_article: int
    last_article: int
    # Live users with ids just below and just above a block of deleted ones.
    live_before_deleted: int
    live_after_deleted: int


@pytest.fixture(scope="module")
async def bulk(db_conn: pymysql.connections.Connection, make_user_module: MakeUser) -> Bulk:
    """100,000 articles (10 % deleted) under one author of their own, and 30,000 deleted users
    between live ones; loaded once for the module, left for the run's database to be dropped."""
    author = await make_user_module(email=unique_email("bulk.author"))
    before = [await make_user_module() for _ in range(LIVE_USERS_AROUND)]
    with db_conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO articles (author_id, title, body, slug, status, published_at, tags, created_at)"
            " SELECT %(author)s, CONCAT('t', seq), NULL, CONCAT('bulk-explain-', seq),"
            "        IF(seq %% 7 = 0, 'draft', 'published'),"
            "        IF(seq %% 7 = 0, NULL, created + INTERVAL (seq * 37) %% 600 SECOND),"
            "        IF(seq %% 3 = 0, %(tags)s, '[]'), created"
            "   FROM (SELECT seq, UTC_TIMESTAMP(6) - INTERVAL 100000 - seq SECOND AS created"
            "           FROM seq_1_to_100000) bulk",  # MariaDB's Sequence engine
            {"author": author["id"], "tags": json.dumps([BULK_TAG])},
        )
        assert cursor.rowcount == BULK_ARTICLES
        cursor.execute(
            "UPDATE articles SET deleted_at = UTC_TIMESTAMP(6) WHERE author_id = %s AND id %% 10 = 0", (author["id"],)
        )
        cursor.execute(
            "INSERT INTO users (email, password_hash, created_at, deleted_at)"
            " SELECT CONCAT('gone.', seq, '.', %s), 'not-a-hash', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)"
            " FROM seq_1_to_30000",
            (unique_email("bulk"),),
        )
        assert cursor.rowcount == BULK_DELETED_USERS
    after = [await make_user_module() for _ in range(LIVE_USERS_AROUND)]
    with db_conn.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(id), MAX(id), SUM(deleted_at IS NULL) FROM articles WHERE author_id = %s", (author["id"],)
        )
        first, last, live = cursor.fetchone()
        assert 0.89 * BULK_ARTICLES <= live <= 0.91 * BULK_ARTICLES
        cursor.execute("ANALYZE TABLE articles, users, article_tags")
        assert all(row[-1] in ("OK", "Table is already up to date") for row in cursor.fetchall())
    return Bulk(author["id"], first, last, before[-1]["id"], after[0]["id"])


# ---- the params the service passes, made by the service's own paging code ----

_cursors = Cursors(b"explain-test")


def first_page(order: Order) -> dict[str, int]:
    return _cursors.window(PageQuery(PAGE, 0, None, order), "explain").params()


def cursor_page(order: Order, last_id: int) -> dict[str, int]:
    cursor = _cursors.encode((last_id,), f"explain|{order}")
    return _cursors.window(PageQuery(PAGE, 0, cursor, order), "explain").params()


def order_of(query_name: str) -> Order:
    return "desc" if query_name.endswith("_desc") else "asc"


def article_pages(bulk: Bulk, order: Order) -> Iterator[tuple[str, dict[str, int]]]:
    yield "first page", first_page(order)
    span = bulk.last_article - bulk.first_article
    for depth in DEPTHS:
        # Depth counts from where the list starts: the lowest id ascending, the highest descending.
        last_id = bulk.first_article + round(span * (depth if order == "asc" else 1 - depth))
        yield f"cursor page {depth:.2%} deep (last id {last_id})", cursor_page(order, last_id)


def user_pages(bulk: Bulk, order: Order) -> Iterator[tuple[str, dict[str, int]]]:
    yield "first page", first_page(order)
    # The next rows in the list's order are the deleted block, then live users again.
    last_id = bulk.live_before_deleted if order == "asc" else bulk.live_after_deleted
    yield f"cursor page before {BULK_DELETED_USERS} deleted users", cursor_page(order, last_id)


# ---- reading plans ----


def explain(db_conn: pymysql.connections.Connection, sql: str, params: dict[str, int]) -> list[dict[str, Any]]:
    with db_conn.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def analyze(db_conn: pymysql.connections.Connection, sql: str, params: dict[str, int]) -> dict[str, Any]:
    """ANALYZE FORMAT=JSON: MariaDB runs the query and reports the rows each step really read (r_rows)."""
    with db_conn.cursor() as cursor:
        cursor.execute("ANALYZE FORMAT=JSON " + sql, params)
        (text,) = cursor.fetchone()
    plan: dict[str, Any] = json.loads(text)
    return plan


def nodes(plan: Any, key: str) -> Iterator[dict[str, Any]]:
    """Every object under `key` anywhere in the plan."""
    if isinstance(plan, dict):
        for name, value in plan.items():
            if name == key and isinstance(value, dict):
                yield value
            yield from nodes(value, key)
    elif isinstance(plan, list):
        for value in plan:
            yield from nodes(value, key)


def describe(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{r['id']} {r['select_type']!s:<8} {r['table']!s:<11} {r['type']!s:<6} key={r['key']} rows={r['rows']}"
        f" extra={r['Extra']!r}"
        for r in rows
    )


def assert_no_sort_of_the_table(rows: list[dict[str, Any]], fetch: int) -> None:
    """No temporary table; a filesort only of the page itself (the ids a derived table picked), never of a table."""
    for row in rows:
        extra = row["Extra"] or ""
        assert "Using temporary" not in extra, describe(rows)
        if "Using filesort" in extra:
            assert str(row["table"]).startswith("<derived"), describe(rows)
            assert int(row["rows"]) <= fetch, describe(rows)


def assert_reads_about_one_page(plan: dict[str, Any], fetch: int) -> None:
    """What the query really read: about `fetch` rows from each table, whatever the depth."""
    text = json.dumps(plan)
    assert "temporary_table" not in text, text
    tables = list(nodes(plan, "table"))
    assert tables, text
    for table in tables:
        # A table of a subquery that never ran (a filter's, folded to true for a NULL value) has no r_loops.
        read = float(table.get("r_loops", 0)) * float(table.get("r_rows") or 0)
        assert read <= fetch, f"{table['table_name']} ({table['access_type']} on {table.get('key')}) read {read:g} rows"
    for sort in nodes(plan, "filesort"):
        assert float(sort["r_output_rows"]) <= fetch, text


# ---- the tests ----


@pytest.mark.parametrize("name", ARTICLE_LISTS)
def test_article_list_plans(db_conn: pymysql.connections.Connection, bulk: Bulk, name: str) -> None:
    sql = load_queries("articles").queries[name].sql
    failures = []
    for label, page in article_pages(bulk, order_of(name)):
        params = {"author_id": bulk.author_id, **page} if "author" in name else page
        rows = explain(db_conn, sql, params)
        plan = describe(rows)
        try:
            assert_no_sort_of_the_table(rows, page["fetch"])
            # The ids are picked with an index ...
            (inner,) = [r for r in rows if r["select_type"] == "DERIVED"]
            assert inner["table"] == "articles" and inner["key"] is not None, plan
            # ... and only those ids are joined to their rows and authors, by primary key.
            by_alias = {r["table"]: r for r in rows if r["select_type"] == "PRIMARY"}
            for alias in ("a", "u"):
                assert (by_alias[alias]["type"], by_alias[alias]["key"]) == ("eq_ref", "PRIMARY"), plan
            assert_reads_about_one_page(analyze(db_conn, sql, params), page["fetch"])
        except AssertionError as failure:
            failures.append(f"{label}: {str(failure).splitlines()[0]}\n{plan}")
    assert not failures, f"{name}:\n" + "\n".join(failures)


@pytest.mark.parametrize("name", USER_LISTS)
def test_user_list_plans(db_conn: pymysql.connections.Connection, bulk: Bulk, name: str) -> None:
    sql = load_queries("users").queries[name].sql
    failures = []
    for label, page in user_pages(bulk, order_of(name)):
        rows = explain(db_conn, sql, page)
        plan = describe(rows)
        try:
            assert not any("Using filesort" in (r["Extra"] or "") for r in rows), plan
            assert_no_sort_of_the_table(rows, page["fetch"])
            assert all(r["key"] is not None for r in rows), plan
            assert_reads_about_one_page(analyze(db_conn, sql, page), page["fetch"])
        except AssertionError as failure:
            failures.append(f"{label}: {str(failure).splitlines()[0]}\n{plan}")
    assert not failures, f"{name}:\n" + "\n".join(failures)


@pytest.mark.parametrize("name", ARTICLE_LISTS)
def test_explained_queries_answer_a_deep_page_right(
    db_conn: pymysql.connections.Connection, bulk: Bulk, name: str
) -> None:
    """The queries explained above return the right rows from deep in the bulk data."""
    order = order_of(name)
    last_id = bulk.first_article + 50_000 + 5
    page = cursor_page(order, last_id)
    params = {"author_id": bulk.author_id, **page} if "author" in name else page
    with db_conn.cursor() as cursor:
        cursor.execute(load_queries("articles").queries[name].sql, params)
        rows = [msgspec.json.decode(article) for (article,) in cursor.fetchall()]  # (id, title, body, author_id, ...)
        cursor.execute(
            "SELECT id FROM articles WHERE deleted_at IS NULL AND id > %s ORDER BY id LIMIT %s"
            if order == "asc"
            else "SELECT id FROM articles WHERE deleted_at IS NULL AND id < %s ORDER BY id DESC LIMIT %s",
            (last_id, page["fetch"]),
        )
        expected = [row[0] for row in cursor.fetchall()]
    assert len(expected) == PAGE + 1
    assert [row[0] for row in rows] == expected
    assert all(row[3] == bulk.author_id and row[0] % 10 for row in rows)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_deep_offset_page_reads_one_range_not_the_rows_before_it(
    db_conn: pymysql.connections.Connection, bulk: Bulk, order: Order
) -> None:
    """Offset 80,000 of all live articles: the seek reads the counts (4 rows per 1024 ids), then the
    page walks at most one range of index entries (with the params the repository passes)."""
    offset = 80_000
    queries = load_queries("articles").queries
    seek = queries[f"seek_articles_{order}"].sql
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM article_level_counts WHERE level = 0")
        (count_rows,) = cursor.fetchone()
        cursor.execute(seek, {"offset": offset})
        start = cursor.fetchone()
    seek_plan = analyze(db_conn, seek, {"offset": offset})
    read = sum(float(t["r_loops"]) * float(t.get("r_rows") or 0) for t in nodes(seek_plan, "table"))
    # Each count row once, and each range grouped from them once (a range has 1-4 count rows).
    assert read <= 2 * count_rows, json.dumps(seek_plan)
    params = _cursors.window(PageQuery(PAGE, offset, None, order), "explain").params()
    page = from_range(params, order, int(start[0]), int(start[1]))
    assert page["offset"] < 1024
    assert_reads_about_one_page(analyze(db_conn, queries[f"list_articles_{order}"].sql, page), 1024 + PAGE + 1)
    # The one-statement path (a guess from the worker's copy, checked against the counts before it).
    checked = {**page, "id_range": int(start[0]) // 1024, "passed": int(start[1])}
    assert_reads_about_one_page(
        analyze(db_conn, queries[f"list_articles_from_range_{order}"].sql, checked), 1024 + PAGE + 1
    )


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_the_check_of_a_guessed_range_reads_a_bounded_number_of_counts(
    db_conn: pymysql.connections.Connection, bulk: Bulk, order: Order
) -> None:
    """The one-statement path sums the live articles before (or after) its range from three levels of counts
    (migrations 0005 and 0006): at most 31 ranges of 2^10 ids, 31 of 2^15 and one of 2^20 per 2^20 ids, 4
    rows each, however deep the page, on a single server and on Galera's interleaved ids alike."""
    queries = load_queries("articles").queries
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM articles")
        (max_id,) = cursor.fetchone()
    bound = 4 * (31 + 31 + (int(max_id) >> 20) + 1)
    for offset in (2_000, 20_000, 50_000, 85_000):
        with db_conn.cursor() as cursor:
            cursor.execute(queries[f"seek_articles_{order}"].sql, {"offset": offset})
            start = cursor.fetchone()
        params = _cursors.window(PageQuery(PAGE, offset, None, order), "explain").params()
        page = from_range(params, order, int(start[0]), int(start[1]))
        checked = {**page, "id_range": int(start[0]) // 1024, "passed": int(start[1])}
        plan = analyze(db_conn, queries[f"list_articles_from_range_{order}"].sql, checked)
        counts = [t for t in nodes(plan, "table") if t["table_name"] == "article_level_counts"]
        assert counts, json.dumps(plan)
        read = sum(float(t["r_loops"]) * float(t.get("r_rows") or 0) for t in counts)
        assert read <= bound, f"offset {offset}: read {read:g} count rows (bound {bound})"
        assert_reads_about_one_page(plan, 1024 + PAGE + 1)
        with db_conn.cursor() as cursor:  # the check passed: the page is there
            cursor.execute(queries[f"list_articles_from_range_{order}"].sql, checked)
            assert len(cursor.fetchall()) == PAGE + 1, offset


# ---- sorted and filtered lists (blogsvc/articles/lists.py) ----

SORTED_LISTS = [
    (source, sort, order)
    for source in ("live", "author", "status", "tag")
    for sort in ("id", "created_at", "published_at")
    for order in ("asc", "desc")
]


def listed(bulk: Bulk, source: str, sort: str) -> ArticleFilters:
    """The filters that make `source` the list's source, on the bulk data."""
    narrowed = {
        "live": {},
        "author": {"author_id": bulk.author_id},
        "status": {"status": "published"},
        "tag": {"tag": BULK_TAG},
    }[source]
    filters = ArticleFilters(sort=sort, **narrowed)  # type: ignore[arg-type]
    assert filters.source() == source
    return filters


def rows_of(db_conn: pymysql.connections.Connection, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with db_conn.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@pytest.mark.parametrize(("source", "sort", "order"), SORTED_LISTS)
def test_sorted_list_plans_read_one_page_at_any_depth(
    db_conn: pymysql.connections.Connection, bulk: Bulk, source: str, sort: str, order: Order
) -> None:
    """A cursor page of each source by id, created_at and published_at, ascending and descending, reads
    about one page of rows from each table (ANALYZE's r_rows) wherever it starts."""
    filters = listed(bulk, source, sort)
    page_query = lists.page_query(filters.source(), filters.sort, order)
    total = rows_of(db_conn, lists.total_query(filters.source(), filters.sort).sql, filters.params())[0][0]
    assert total > 25_000
    first = {**filters.params(), "last_key": None, "last_id": None, "offset": 0, "fetch": PAGE + 1}
    pages = [("first page", first)]
    for depth in DEPTHS:
        # Where the previous page ended: the row `depth` of the way in, found by the list's own statement.
        ((document, key),) = rows_of(db_conn, page_query.sql, {**first, "offset": round(total * depth), "fetch": 1})
        last = {**first, "last_key": key, "last_id": msgspec.json.decode(document)[0]}
        pages.append((f"cursor page {depth:.2%} deep", last))
    failures = []
    for label, params in pages:
        rows = explain(db_conn, page_query.sql, params)
        try:
            assert_no_sort_of_the_table(rows, PAGE + 1)
            assert_reads_about_one_page(analyze(db_conn, page_query.sql, params), PAGE + 1)
        except AssertionError as failure:
            failures.append(f"{label}: {str(failure).splitlines()[0]}\n{describe(rows)}")
    assert not failures, f"{page_query.name}:\n" + "\n".join(failures)


@pytest.mark.parametrize(("source", "sort", "order"), SORTED_LISTS)
def test_sorted_list_pages_follow_each_other(
    db_conn: pymysql.connections.Connection, bulk: Bulk, source: str, sort: str, order: Order
) -> None:
    """The page after a cursor deep in the list is the next rows in the list's order (as OFFSET finds them)."""
    filters = listed(bulk, source, sort)
    page_query = lists.page_query(filters.source(), filters.sort, order).sql
    first = {**filters.params(), "last_key": None, "last_id": None, "offset": 50_000 if source != "tag" else 15_000}
    expected = rows_of(db_conn, page_query, {**first, "fetch": PAGE + 1})
    (document, key), following = expected[0], expected[1:]
    after = {**first, "last_key": key, "last_id": msgspec.json.decode(document)[0], "offset": 0, "fetch": PAGE}
    assert rows_of(db_conn, page_query, after) == following


def test_a_search_reads_the_full_text_index(db_conn: pymysql.connections.Connection, bulk: Bulk) -> None:
    # A live bulk article's title: t<seq> is article first + seq - 1, and every 10th id is deleted.
    word = "t4242" if (bulk.first_article + 4241) % 10 else "t4243"
    for sort in ("relevance", "id", "created_at"):
        filters = ArticleFilters(q=word, sort=sort)  # type: ignore[arg-type]
        sql = lists.page_query("search", filters.sort, "desc").sql
        params = {**filters.params(), "last_key": None, "last_id": None, "offset": 0, "fetch": PAGE + 1}
        rows = explain(db_conn, sql, params)
        (inner,) = [r for r in rows if r["select_type"] == "DERIVED"]
        assert (inner["type"], inner["key"]) == ("fulltext", "ft_articles_title_body"), describe(rows)
        assert [msgspec.json.decode(document)[1] for document, _ in rows_of(db_conn, sql, params)] == [word]
