"""Long polls of GET /events, for a whole worker: one poller asks the database for the newest event id
every POLL_EVERY seconds while any request waits (none when none does), and wakes them all when it moves."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from blogsvc.events import repository as feed

if TYPE_CHECKING:
    from blogsvc.db.executor import Executor

log = logging.getLogger("blogsvc.events")

POLL_EVERY = 0.02


class FeedWatcher:
    def __init__(self, db: Executor) -> None:
        self._db = db
        self._head = 0  # the newest event id the poller has seen
        self._waiting = 0
        self._moved = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._released = False  # shutting down: no long poll waits any more

    @property
    def head(self) -> int:
        return self._head

    @property
    def released(self) -> bool:
        return self._released

    async def wait_beyond(self, position: int, timeout: float) -> None:
        """Return once an event after `position` exists, or after `timeout` seconds, or at shutdown."""
        if self._released:
            return
        self._waiting += 1
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll())
        try:
            async with asyncio.timeout(timeout):
                while self._head <= position and not self._released:
                    await self._moved.wait()
        except TimeoutError:
            pass
        finally:
            self._waiting -= 1

    async def _poll(self) -> None:
        try:
            while self._waiting:
                try:
                    head = await feed.last_feed_id(self._db)
                except Exception as exc:  # the waits time out on their own; keep trying
                    log.warning("feed watcher: %s", exc)
                    head = self._head
                if head != self._head:
                    self._head = head
                    self._wake()
                await asyncio.sleep(POLL_EVERY)
        finally:
            self._poller = None

    def _wake(self) -> None:
        self._moved.set()
        self._moved = asyncio.Event()

    def release(self) -> None:
        """Shutdown begins: every long poll answers now (with what it has), so none holds the server up."""
        self._released = True
        self._wake()

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
