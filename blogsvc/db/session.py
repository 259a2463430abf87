"""One pooled connection: statements as they come, and the transaction around them."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from blogsvc import spans
from blogsvc.db.errors import from_driver_error, no_answer
from blogsvc.db.executor import Cursor, Executor, Params

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from blogsvc.db.drivers import Driver
    from blogsvc.db.queries import Query


def session_setup(statement_timeout: float) -> str:
    """The statement each new connection runs first: UTC sessions and the statement time limit.

    The limit is set with executable comments, so one statement suits both servers: MariaDB runs
    `/*M!...*/` (max_statement_time, seconds, every statement) and skips `/*!50708...*/` as MySQL's;
    MySQL 5.7.8+ runs `/*!50708...*/` (max_execution_time, milliseconds, SELECTs only) and reads
    `/*M!...*/` as a plain comment."""
    setup = "SET time_zone = '+00:00'"
    if statement_timeout > 0:
        setup += (
            f" /*M!100108 , max_statement_time = {statement_timeout:.6f} */"
            f" /*!50708 , max_execution_time = {max(1, round(statement_timeout * 1000))} */"
        )
    return setup


class Session(Executor):
    """Runs named queries on one connection, as they come: no retries (inside a transaction, one
    statement cannot be run again on its own)."""

    def __init__(self, conn: Any, limit: float | None, driver: Driver) -> None:
        self._conn = conn
        self._limit = limit  # seconds the client waits for any one statement; None: no limit
        self._driver = driver

    async def _run(self, query: Query, params: Params) -> Cursor:
        cursor = self._driver.cursor_class(self._conn)
        with spans.statement(query.name):
            await self._guarded(cursor.execute(query.sql, params))
        return cursor

    _read = _write = _run

    async def begin(self) -> None:
        await self._guarded(self._conn.begin())

    async def commit(self) -> None:
        await self._guarded(self._conn.commit())

    async def rollback(self) -> None:
        """Roll back, quietly: a failed rollback leaves the connection mid-transaction, and the pool then closes it."""
        with suppress(Exception):
            async with asyncio.timeout(self._limit):
                await self._conn.rollback()

    async def _guarded(self, statement: Awaitable[Any]) -> None:
        """Await a statement within the client's time limit, its errors turned into domain errors."""
        try:
            async with asyncio.timeout(self._limit):
                await statement
        except TimeoutError:
            self._conn.close()
            raise no_answer() from None
        except self._driver.errors as exc:
            mapped = from_driver_error(self._driver, exc, self._conn)
            if mapped is None:
                raise
            raise mapped from exc
