"""Point reads that arrive together run as one statement (blogsvc/coalescing.py), on the real server."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import msgspec
import pymysql
import pytest

from blogsvc.db import drivers
from blogsvc.db.cluster import Database
from blogsvc.db.coalescing import MAX_BATCH, Coalescer, Row
from blogsvc.db.executor import id_list
from blogsvc.db.queries import Query

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from blogsvc.config import Settings

ROWS = 300
LOOKUP = Query(
    "get_rows",
    "all",
    "SELECT r.id, r.note FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS wanted"
    " JOIN coalesce_rows r ON r.id = wanted.id",
)
BROKEN = Query("broken", "all", "SELECT id FROM no_such_table WHERE JSON_LENGTH(%(ids)s) > 0")


NO_SUCH_TABLE = 1146


def expected(key: int) -> Row | None:
    return (key, f"row {key}") if 1 <= key <= ROWS else None


@pytest.fixture(scope="module")
def rows_table(settings: Settings) -> Iterator[None]:
    url = settings.database
    conn = pymysql.connect(
        host=url.host, port=url.port, user=url.user, password=url.password, database=url.database, autocommit=True
    )
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE coalesce_rows (id INT PRIMARY KEY, note VARCHAR(20) NOT NULL)")
        cursor.executemany("INSERT INTO coalesce_rows VALUES (%s, %s)", [(i, f"row {i}") for i in range(1, ROWS + 1)])
    yield
    with conn.cursor() as cursor:
        cursor.execute("DROP TABLE coalesce_rows")
    conn.close()


@pytest.fixture(params=drivers.NAMES)
async def db(rows_table: None, settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    database = Database.open(msgspec.structs.replace(settings, db_driver=request.param))
    try:
        yield database
    finally:
        await database.close()


class CountingFetch:
    """The statement a Coalescer runs, recording the ids of each."""

    def __init__(self, db: Database, query: Query = LOOKUP) -> None:
        self.db, self.query = db, query
        self.statements: list[tuple[int, ...]] = []

    async def __call__(self, ids: tuple[int, ...]) -> list[Row]:
        self.statements.append(ids)
        return await self.db.all(self.query, id_list(ids))


async def test_reads_made_together_share_one_statement_and_each_gets_its_row(db: Database) -> None:
    fetch = CountingFetch(db)
    coalescer = Coalescer(fetch)
    wanted = [*range(1, 41), 7, 7, 30, 1000, 1001]  # repeats and absent ids too
    found = await asyncio.gather(*(coalescer.get(key) for key in wanted))
    assert found == [expected(key) for key in wanted]
    assert fetch.statements == [tuple(dict.fromkeys(wanted))]


async def test_a_statement_takes_at_most_max_batch_ids(db: Database) -> None:
    fetch = CountingFetch(db)
    coalescer = Coalescer(fetch)
    wanted = list(range(1, 2 * MAX_BATCH + 51))
    found = await asyncio.gather(*(coalescer.get(key) for key in wanted))
    assert found == [expected(key) for key in wanted]
    assert [len(ids) for ids in fetch.statements] == [MAX_BATCH, MAX_BATCH, 50]


async def test_reads_apart_in_time_run_alone(db: Database) -> None:
    fetch = CountingFetch(db)
    coalescer = Coalescer(fetch)
    assert await coalescer.get(3) == expected(3)
    assert await coalescer.get(4) == expected(4)
    assert fetch.statements == [(3,), (4,)]


async def test_every_waiter_gets_the_statements_error(db: Database) -> None:
    coalescer = Coalescer(CountingFetch(db, BROKEN))
    outcomes = await asyncio.gather(*(coalescer.get(key) for key in (1, 2, 2)), return_exceptions=True)
    error = drivers.load(db.driver).mysql_error
    assert [isinstance(outcome, error) and outcome.args[0] == NO_SUCH_TABLE for outcome in outcomes] == [True] * 3


async def test_a_cancelled_read_leaves_the_others_their_rows(db: Database) -> None:
    coalescer = Coalescer(CountingFetch(db))
    first, same, other = (asyncio.create_task(coalescer.get(key)) for key in (5, 5, 6))
    await asyncio.sleep(0)  # all three are waiting for the statement
    first.cancel()
    assert await same == expected(5)
    assert await other == expected(6)
    assert first.cancelled()


async def test_database_lookup_matches_a_session_lookup(db: Database) -> None:
    wanted = [9, 250, 9, 0, 301]
    together = await asyncio.gather(*(db.lookup(LOOKUP, key) for key in wanted))
    async with db.session() as session:
        alone = [await session.lookup(LOOKUP, key) for key in wanted]
    assert together == alone == [expected(key) for key in wanted]
