"""Floors for the single-read figure: the least a Litestar + uvicorn worker can do per request.

Three routes, none with blogsvc's middleware, dependencies, ETags or error handling:
  GET /hello                   a constant JSON object, no database
  GET /articles/{id}           one aiomysql statement per request (blogsvc's lookup SQL, one id)
  GET /coalesced/{id}          the same through blogsvc's Coalescer (reads that arrive together share one statement)

    cd bench && BARE_DB=bench_blogsvc taskset -c 0 ../.venv/bin/uvicorn bare_app:app \\
        --port 8100 --loop uvloop --http httptools --no-access-log --log-level warning
    taskset -c 1 wrk -t2 -c32 -d10s -s lua/bare.lua http://127.0.0.1:8100/   # BARE_PATH=/hello, /articles/, /coalesced/
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiomysql
import msgspec
from blogsvc.db.coalescing import Coalescer
from litestar import Litestar, get
from litestar.exceptions import NotFoundException

from ceiling import lookup_sql

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

SQL = lookup_sql()


class Article(msgspec.Struct):
    id: int
    title: str
    body: str
    author_id: int
    author: str
    created_at: str
    updated_at: str | None


class Bare:
    pool: Any = None


async def _fetch(ids: tuple[int, ...]) -> list[Any]:
    async with Bare.pool.acquire() as conn, conn.cursor() as cursor:
        await cursor.execute(SQL, (msgspec.json.encode(ids).decode(),))
        return list(await cursor.fetchall())


COALESCER = Coalescer(_fetch)


_decode = msgspec.json.Decoder(tuple[int, str, str | None, int, str, str, str | None, int]).decode


def _article(row: Any) -> Article:
    if row is None:
        raise NotFoundException()
    return Article(*_decode(row[1])[:7])  # (id, the article as a JSON array): sql/articles.sql


@get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


@get("/articles/{article_id:int}")
async def one_statement_per_read(article_id: int) -> Article:
    rows = await _fetch((article_id,))
    return _article(rows[0] if rows else None)


@get("/coalesced/{article_id:int}")
async def coalesced(article_id: int) -> Article:
    return _article(await COALESCER.get(article_id))


@asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    Bare.pool = await aiomysql.create_pool(
        host="127.0.0.1", user="root", password="", db=os.environ.get("BARE_DB", "bench_blogsvc"),
        minsize=10, maxsize=10, autocommit=True, charset="utf8mb4",
    )  # fmt: skip
    yield
    Bare.pool.close()
    await Bare.pool.wait_closed()


app = Litestar([hello, one_statement_per_read, coalesced], lifespan=[lifespan])
