"""The feed against real `blogsvc serve` processes: gap-free under concurrent writers, and long polls woken
by a commit made through another server."""

from __future__ import annotations

import asyncio
import signal
import statistics
import time
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import httpx

from tests.e2e_server import Server
from tests.events.conftest import feed_head
from tests.helpers import new_user_body

if TYPE_CHECKING:
    from pathlib import Path

    import pymysql

    from blogsvc.config import Settings

WRITERS = 8
CHANGES_EACH = 50  # API calls per writer: 400 in all
WAKE_WITHIN = 0.1  # seconds from a commit's answer to the long poll's


class Writer:
    """One client making changes one after another, noting the events each acknowledged change must bring."""

    def __init__(self, http: httpx.AsyncClient, name: str) -> None:
        self.http = http
        self.name = name
        self.expected: list[tuple[str, str]] = []  # (type, subject), in the order they were acknowledged
        self.live: list[str] = []
        self.deleted: list[str] = []
        self.conflicts = 0  # answers "rolled back after a conflict", made again

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        """The call, made again as a careful client would when the database rolled it back after a
        conflict (a 503 that says so: nothing took effect, so no event may come of it either)."""
        for _ in range(10):
            response = await self.http.request(method, path, **kwargs)
            if response.status_code != 503 or "rolled the change back" not in response.text:
                break
            self.conflicts += 1
            await asyncio.sleep(float(response.headers["retry-after"]) / 10)
        assert response.status_code in (200, 201, 204), (method, path, response.text)
        return response.json() if response.content else None

    async def run(self) -> None:
        user = await self.call("POST", "/users", json=new_user_body())
        assert user is not None
        author = f"/users/{user['id']}"
        self.expected.append(("blogsvc.user.created", author))
        for n in range(1, CHANGES_EACH):
            step = n % 8
            if step in (1, 2, 3) or not self.live:
                article = await self.call("POST", f"{author}/articles", json={"title": f"{self.name}-{n}"})
                assert article is not None
                self.live.append(path := f"/articles/{article['id']}")
                self.expected.append(("blogsvc.article.created", path))
            elif step in (4, 5):
                await self.call("PATCH", path := self.live[n % len(self.live)], json={"title": f"{self.name}-{n}"})
                self.expected.append(("blogsvc.article.updated", path))
            elif step == 6:
                await self.call("DELETE", path := self.live.pop())
                self.deleted.append(path)
                self.expected.append(("blogsvc.article.deleted", path))
            elif self.deleted and n % 16 == 7:
                path = self.deleted.pop()
                await self.call("POST", f"{path}/restore")
                self.live.append(path)
                self.expected.append(("blogsvc.article.restored", path))
            else:  # the author and its live articles, in one transaction each way
                await self.call("DELETE", author)
                self.expected += [("blogsvc.user.deleted", author)] + [
                    ("blogsvc.article.deleted", p) for p in self.live
                ]
                await self.call("POST", f"{author}/restore")
                self.expected += [("blogsvc.user.restored", author)] + [
                    ("blogsvc.article.restored", p) for p in self.live
                ]


async def test_a_consumer_sees_every_acknowledged_change_once_in_order_while_8_writers_commit(
    settings: Settings, tmp_path: Path, db_conn: pymysql.connections.Connection
) -> None:
    server = Server(settings, tmp_path / "serve.log", workers=2)
    try:
        await asyncio.to_thread(server.wait_until_healthy)
        start = feed_head(db_conn)
        limits = httpx.Limits(max_connections=WRITERS + 1)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30, limits=limits) as http:
            writers = [Writer(http, f"w{i}") for i in range(WRITERS)]
            seen: list[dict[str, Any]] = []
            writing = asyncio.gather(*(writer.run() for writer in writers))

            async def consume() -> None:
                after = start
                while not writing.done() or len(seen) < sum(len(w.expected) for w in writers):
                    response = await http.get("/events", params={"after": after, "limit": 37, "wait": 1})
                    assert response.status_code == 200, response.text
                    page = response.json()
                    seen.extend(page["data"])
                    after = page["next_after"]
                # Nothing more comes once every acknowledged change is seen.
                response = await http.get("/events", params={"after": after, "wait": 1})
                assert response.json() == {"data": [], "next_after": after}

            await asyncio.wait_for(asyncio.gather(writing, consume()), timeout=120)
    finally:
        server.stop()

    ids = [int(event["id"]) for event in seen]
    assert ids == list(range(start + 1, start + 1 + len(ids))), "ids must ascend with no gap and no repeat"
    expected = [change for writer in writers for change in writer.expected]
    assert len(expected) >= WRITERS * CHANGES_EACH
    got = [(event["type"], event["subject"]) for event in seen]
    assert Counter(got) == Counter(expected)  # every acknowledged change exactly once, nothing else
    # Each resource's events in the order its changes were acknowledged.
    by_subject: dict[str, list[str]] = defaultdict(list)
    for kind, subject in got:
        by_subject[subject].append(kind)
    for writer in writers:
        wanted: dict[str, list[str]] = defaultdict(list)
        for kind, subject in writer.expected:
            wanted[subject].append(kind)
        for subject, kinds in wanted.items():
            assert by_subject[subject] == kinds, subject


async def test_a_long_poll_wakes_within_100_ms_of_a_commit_made_through_another_server(
    settings: Settings, tmp_path: Path, db_conn: pymysql.connections.Connection
) -> None:
    polled_server = Server(settings, tmp_path / "polled.log")
    writing_server = Server(settings, tmp_path / "writing.log")
    delays = []
    try:
        await asyncio.gather(*(asyncio.to_thread(s.wait_until_healthy) for s in (polled_server, writing_server)))
        async with (
            httpx.AsyncClient(base_url=polled_server.base_url, timeout=30) as poller,
            httpx.AsyncClient(base_url=writing_server.base_url, timeout=30) as writer,
        ):
            for _ in range(10):
                after = feed_head(db_conn)
                poll = asyncio.create_task(poller.get("/events", params={"after": after, "wait": 10}))
                await asyncio.sleep(0.3)  # the poll is waiting by now
                assert (await writer.post("/users", json=new_user_body())).status_code == 201
                committed = time.monotonic()
                answer = await poll
                delays.append(time.monotonic() - committed)
                assert [event["type"] for event in answer.json()["data"]] == ["blogsvc.user.created"]
    finally:
        polled_server.stop()
        writing_server.stop()
    assert max(delays) < WAKE_WITHIN, (
        f"delays {[round(d * 1000) for d in delays]} ms, median {statistics.median(delays) * 1000:.0f} ms"
    )


async def test_long_polls_answer_at_once_when_the_server_begins_to_shut_down(
    settings: Settings, tmp_path: Path, db_conn: pymysql.connections.Connection
) -> None:
    server = Server(settings, tmp_path / "serve.log", BLOGSVC_DRAIN_DELAY="1")
    try:
        await asyncio.to_thread(server.wait_until_healthy)
        after = feed_head(db_conn)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            polls = [asyncio.create_task(http.get("/events", params={"after": after, "wait": 30})) for _ in range(3)]
            await asyncio.sleep(0.5)
            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            answers = await asyncio.gather(*polls)
            answered = time.monotonic() - signalled
        assert [answer.json() for answer in answers] == [{"data": [], "next_after": after}] * 3
        assert answered < 5, answered  # not the 30 s they asked to wait
        stopped = await asyncio.to_thread(server.process.wait, 15)
        assert stopped == 0 and time.monotonic() - signalled < 10
    finally:
        server.stop()
