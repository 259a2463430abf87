"""Clients reading and writing against a real `blogsvc serve` while a test breaks its database:
every answer is recorded, with every write the service acknowledged."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from tests.helpers import new_user_body

if TYPE_CHECKING:
    from collections.abc import Awaitable

    import pymysql

# The status each kind of request answers when all is well.
SUCCESS = {"get-user": 200, "list-articles": 200, "create-article": 201, "create-user": 201, "readyz": 200}


@dataclass
class Answer:
    what: str
    started: float
    finished: float
    status: int  # 0: no HTTP answer at all
    body: str = ""
    problem: bool = False
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS.get(self.what, 200)


@dataclass
class Load:
    http: httpx.AsyncClient
    author_id: int
    answers: list[Answer] = field(default_factory=list)
    articles: dict[int, str] = field(default_factory=dict)  # acknowledged creates: id -> title
    users: dict[int, str] = field(default_factory=dict)  # id -> email
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def call(self, what: str, request: Awaitable[httpx.Response]) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = await request
        except httpx.HTTPError as exc:
            self.answers.append(Answer(what, started, time.monotonic(), 0, repr(exc)))
            return None
        self.answers.append(
            Answer(
                what,
                started,
                time.monotonic(),
                response.status_code,
                response.text[:300],
                response.headers.get("content-type", "").startswith("application/problem+json"),
                response.headers.get("retry-after"),
            )
        )
        return response

    def start(self, readers: int = 3, writers: int = 3) -> None:
        self._tasks += [asyncio.create_task(self._reader()) for _ in range(readers)]
        self._tasks += [asyncio.create_task(self._writer(f"w{i}")) for i in range(writers)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _reader(self) -> None:
        while not self._stop.is_set():
            await self.call("get-user", self.http.get(f"/users/{self.author_id}"))
            await self.call("list-articles", self.http.get("/articles", params={"limit": 5, "order": "desc"}))
            await asyncio.sleep(0.01)

    async def _writer(self, name: str) -> None:
        n = 0
        while not self._stop.is_set():
            await self.create_article(f"{name}-{n}")
            n += 1
            if n % 5 == 0:
                body = new_user_body()
                response = await self.call("create-user", self.http.post("/users", json=body))
                if response is not None and response.status_code == 201:
                    self.users[response.json()["id"]] = body["email"]
            await asyncio.sleep(0.01)

    async def create_article(self, title: str) -> bool:
        url = f"/users/{self.author_id}/articles"
        response = await self.call("create-article", self.http.post(url, json={"title": title}))
        if response is not None and response.status_code == 201:
            self.articles[response.json()["id"]] = title
            return True
        return False

    async def all_succeed(self) -> bool:
        """A read, a write and a readiness check, one after the other, all succeeding."""
        read = await self.call("get-user", self.http.get(f"/users/{self.author_id}"))
        wrote = await self.create_article("probe")
        ready = await self.call("readyz", self.http.get("/readyz"))
        return read is not None and read.status_code == 200 and wrote and ready is not None and ready.status_code == 200

    def assert_only_successes_and_503_problems(self, log: str) -> list[Answer]:
        """No 500, no dropped connection: each answer is a success or a 503 problem document with
        Retry-After. Returns the 503s."""
        failures = [a for a in self.answers if not a.ok]
        for answer in failures:
            assert answer.status == 503, (answer, log[-3000:])
            assert answer.problem and answer.retry_after and answer.retry_after.isdigit(), answer
        return failures

    def assert_acknowledged_writes_stored(self, conn: pymysql.connections.Connection) -> None:
        with conn.cursor() as cursor:
            cursor.execute("SELECT id, title FROM articles WHERE author_id = %s", (self.author_id,))
            stored = dict(cursor.fetchall())
            cursor.execute("SELECT id, email FROM users")
            stored_users = dict(cursor.fetchall())
        assert {i: stored.get(i) for i in self.articles} == self.articles
        assert {i: stored_users.get(i) for i in self.users} == self.users
