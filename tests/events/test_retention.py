"""Numbering and pruning, on a database of their own (pruning here must not touch the suite's feed)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import msgspec
import pymysql
import pytest

from blogsvc.db import migrate
from blogsvc.db.cluster import Database
from blogsvc.errors import Gone
from blogsvc.events import repository as feed

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from blogsvc.config import Settings


@pytest.fixture
async def own(settings: Settings) -> AsyncIterator[tuple[Database, pymysql.connections.Connection]]:
    url = settings.database.with_database(f"{settings.database.database}_retention")
    migrate.apply(url)
    conn = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password, database=url.database)
    conn.autocommit(True)
    db = Database.open(msgspec.structs.replace(settings, database=url))
    try:
        yield db, conn
    finally:
        await db.close()
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE `{url.database}`")
        conn.close()


def _sql(conn: pymysql.connections.Connection, statement: str) -> tuple[tuple[object, ...], ...]:
    with conn.cursor() as cursor:
        cursor.execute(statement)
        return tuple(cursor.fetchall())


async def test_only_the_lease_holder_numbers_and_prunes_and_only_a_prefix_of_old_events_goes(
    own: tuple[Database, pymysql.connections.Connection],
) -> None:
    db, conn = own
    _sql(conn, "INSERT INTO users (email, password_hash, created_at)"
               " SELECT CONCAT('r', seq, '@example.com'), 'x', UTC_TIMESTAMP(6) FROM seq_1_to_30")  # fmt: skip
    assert await feed.claim_sequencer(db, "holder-a", 5)
    assert not await feed.claim_sequencer(db, "holder-b", 5)  # a live lease is not taken
    assert await feed.number_committed(db, "holder-b", 1000) is None
    assert await feed.number_committed(db, "holder-a", 1000) == 30
    assert _sql(conn, "SELECT MIN(feed_id), MAX(feed_id), COUNT(*) FROM events") == ((1, 30, 30),)
    assert await feed.number_committed(db, "holder-a", 1000) == 0

    # 1-20 and 25 are older than the retention; 21 is not, so 25 stays with it.
    _sql(conn, "UPDATE events SET time = time - INTERVAL 8 DAY WHERE feed_id <= 20 OR feed_id = 25")
    retention = timedelta(days=7)
    assert await feed.prune(db, "holder-b", retention, 1000) is None
    assert await feed.prune(db, "holder-a", retention, 8) == 8  # a batch at most
    assert await feed.prune(db, "holder-a", retention, 1000) == 12
    assert await feed.prune(db, "holder-a", retention, 1000) == 0
    assert _sql(conn, "SELECT MIN(feed_id), COUNT(*) FROM events") == ((21, 10),)
    assert _sql(conn, "SELECT pruned_through FROM event_sequencer") == ((20,),)

    with pytest.raises(Gone):
        await feed.events_after(db, 19, 100)
    assert [event.feed_id for event in await feed.events_after(db, 20, 100)] == list(range(21, 31))

    await feed.release_sequencer(db, "holder-a")
    assert await feed.claim_sequencer(db, "holder-b", 5)  # released: taken at once
