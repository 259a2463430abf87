"""The sequencer: numbers committed events in commit order, so the feed never shows an id while a lower
one is still to come (migration 0011 says why a plain auto-increment cannot). Every `blogsvc serve` worker
and every relay runs one; a lease row elects the one that works, the others check now and then whether
it has run out (its holder died) and take over. It also prunes events past the retention."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from datetime import timedelta
from typing import TYPE_CHECKING

from blogsvc.events import repository as feed

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from blogsvc.db.cluster import Database

log = logging.getLogger("blogsvc.events")

LEASE_SECONDS = 5.0  # a dead holder's lease runs out this long after its last renewal
RENEW_EVERY = 1.0
STANDBY_CHECK_EVERY = 1.0  # how often one that does not hold the lease tries to take it
# While holding the lease, how often it looks for events to number: the feed's delay after a commit
# (GET /events's long polls add their own watcher's interval; together well under 100 ms).
TICK = 0.02
BATCH = 1000
PRUNE_EVERY = 60.0


def holder_name() -> str:
    """Who holds a lease, as operators will read it in event_sequencer and event_relays."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Sequencer:
    def __init__(self, db: Database, retention_days: int) -> None:
        self._db = db
        self._retention = timedelta(days=retention_days)
        self.holder = holder_name()

    async def run(self) -> None:
        """Work whenever this one holds the lease, stand by when another does, for ever (cancel to stop)."""
        try:
            while True:
                try:
                    if await feed.claim_sequencer(self._db, self.holder, LEASE_SECONDS):
                        log.info("sequencer: %s numbers the change feed", self.holder)
                        await self._lead()
                        log.info("sequencer: %s lost the lease", self.holder)
                except Exception as exc:  # the database is down or failing over: try again shortly
                    log.warning("sequencer: %s", exc)
                await asyncio.sleep(STANDBY_CHECK_EVERY * random.uniform(0.5, 1.0))  # noqa: S311  (jitter)
        finally:
            await asyncio.shield(self._release())

    async def _lead(self) -> None:
        """Number events as they commit, renew the lease, prune now and then; return once the lease is lost."""
        loop = asyncio.get_running_loop()
        renew_at = loop.time() + RENEW_EVERY
        prune_at = loop.time()
        while True:
            if loop.time() >= renew_at:
                if not await feed.claim_sequencer(self._db, self.holder, LEASE_SECONDS):
                    return
                renew_at = loop.time() + RENEW_EVERY
            numbered = await feed.number_committed(self._db, self.holder, BATCH)
            if numbered is None:
                return
            if numbered == BATCH:
                continue  # more are waiting
            if loop.time() >= prune_at:
                # A batch a tick, so that a long backlog of old events never holds the numbering up.
                pruned = await feed.prune(self._db, self.holder, self._retention, BATCH)
                if pruned is None:
                    return
                if pruned:
                    log.info("sequencer: deleted %d events older than %s", pruned, self._retention)
                if pruned < BATCH:
                    prune_at = loop.time() + PRUNE_EVERY
            await asyncio.sleep(TICK)

    async def _release(self) -> None:
        await release_quietly(feed.release_sequencer(self._db, self.holder), log, "sequencer")


async def release_quietly(release: Awaitable[None], logger: logging.Logger, who: str) -> None:
    """Give a lease up, so that another takes over at once rather than when it runs out; a failure
    (the database gone) only means that wait."""
    try:
        async with asyncio.timeout(2):
            await release
    except Exception as exc:
        logger.info("%s: could not release the lease (%s); it runs out by itself", who, exc)
