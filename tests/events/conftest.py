"""Helpers for the change-feed tests: follow the feed from a point on until the events awaited are there."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import pymysql
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

Event = dict[str, Any]


def feed_head(db_conn: pymysql.connections.Connection, timeout: float = 10) -> int:
    """The newest event once every committed one is numbered: where a test starts reading, to see only
    what it changes after."""
    deadline = time.monotonic() + timeout
    with db_conn.cursor() as cursor:
        while True:
            cursor.execute("SELECT COUNT(feed_id), COUNT(*), IFNULL(MAX(feed_id), 0) FROM events")
            numbered, written, head = cursor.fetchone()
            if numbered == written:
                return int(head)
            assert time.monotonic() < deadline, f"{written - numbered} events still without a number"
            time.sleep(0.01)


async def follow(
    client: AsyncTestClient[Litestar], after: int, count: int, *subjects: str, timeout: float = 10
) -> tuple[list[Event], int]:
    """The next `count` events about `subjects` after `after` (long polls, following next_after), and the
    next_after to go on from. Fails if more come about them in the same answers."""
    found: list[Event] = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{count} events about {subjects} did not come within {timeout} s; these did: {found}")
        response = await client.get("/events", params={"after": after, "wait": 1})
        assert response.status_code == 200, response.text
        page = response.json()
        found += [event for event in page["data"] if event["subject"] in subjects]
        after = page["next_after"]
    assert len(found) == count, found
    return found, after


def kinds(events: list[Event]) -> list[tuple[str, str]]:
    return [(event["type"], event["subject"]) for event in events]
