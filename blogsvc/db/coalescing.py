"""Point reads by id that arrive together run as one statement.

Under load most of a single-row read's cost is per statement, not per row: a round trip to the
server, the driver parsing the column definitions, two system calls. So the reads of one query
asked for in the same turn of the event loop are gathered and fetched with one statement over all
their ids (the lookup queries join the ids as a JSON array, sql/*.sql get_*s).
Every statement is still sent after the requests it answers arrived, so a read sees every write
committed before its request came in, as if it ran alone."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

Row = tuple[Any, ...]

# Ids per statement: past this many waiting, a statement goes out at once and the rest wait for the next.
MAX_BATCH = 100


class Coalescer:
    """`await get(id)`: the row whose first column is `id`, or None. `fetch(ids)` runs the statement
    for a tuple of distinct ids and returns the rows found, in any order."""

    def __init__(self, fetch: Callable[[tuple[int, ...]], Awaitable[list[Row]]]) -> None:
        self._fetch = fetch
        self._waiting: dict[int, list[asyncio.Future[Row | None]]] = {}
        self._flush_scheduled = False
        self._running: set[asyncio.Task[None]] = set()  # strong references, so no fetch is collected mid-way

    async def get(self, key: int) -> Row | None:
        loop = asyncio.get_running_loop()
        found: asyncio.Future[Row | None] = loop.create_future()
        self._waiting.setdefault(key, []).append(found)
        if len(self._waiting) >= MAX_BATCH:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        # A request that is cancelled cancels only its own future; the statement runs on for the others.
        return await found

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._waiting:
            return
        waiting, self._waiting = self._waiting, {}
        task = asyncio.get_running_loop().create_task(self._answer(waiting))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _answer(self, waiting: dict[int, list[asyncio.Future[Row | None]]]) -> None:
        try:
            rows = await self._fetch(tuple(waiting))
        except asyncio.CancelledError:
            for future in _pending(waiting):
                future.cancel()
            raise
        except Exception as exc:  # every waiter gets the statement's error
            for future in _pending(waiting):
                future.set_exception(exc)
            return
        by_key = {row[0]: row for row in rows}
        for key, futures in waiting.items():
            for future in futures:
                if not future.done():
                    future.set_result(by_key.get(key))


def _pending(waiting: dict[int, list[asyncio.Future[Row | None]]]) -> list[asyncio.Future[Row | None]]:
    return [future for futures in waiting.values() for future in futures if not future.done()]
