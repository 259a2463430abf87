"""Housekeeping while the app runs: the periodic deletion of closed lockout windows and expired
idempotency records (the logic ignores them anyway; this only keeps the tables small). Every worker
of every replica sweeps; the deletes are idempotent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from blogsvc.security import idempotency_records, lockout

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Coroutine

    from litestar import Litestar

    from blogsvc.db.cluster import Database

log = logging.getLogger("blogsvc.housekeeping")

SWEEP_EVERY = 600.0  # seconds, with some jitter so that workers spread out
BATCH = 10_000


async def sweep(db: Database) -> tuple[int, int]:
    """Delete closed lockout windows and expired idempotency records, a batch at a time; how many of each."""
    attempts = records = 0
    while (deleted := await lockout.delete_closed_windows(db, BATCH)) > 0:
        attempts += deleted
        if deleted < BATCH:
            break
    while (deleted := await idempotency_records.delete_expired(db, BATCH)) > 0:
        records += deleted
        if deleted < BATCH:
            break
    return attempts, records


async def _sweep_forever(db: Database) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY * random.uniform(0.5, 1.0))  # noqa: S311  (jitter, not a secret)
        try:
            attempts, records = await sweep(db)
        except Exception:
            log.warning("housekeeping failed; trying again later", exc_info=True)
        else:
            if attempts or records:
                log.info("housekeeping deleted %d lockout windows and %d idempotency records", attempts, records)


@asynccontextmanager
async def housekeeping(app: Litestar) -> AsyncIterator[None]:
    """A lifespan for create_app, after the one that opens the database: sweeps while the app runs."""
    async with in_background(_sweep_forever(app.state.db)):
        yield


@asynccontextmanager
async def in_background(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run `work` as a task for as long as the block runs, then cancel it."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
