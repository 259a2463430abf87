"""The change feed in the database: runs the named queries of sql/events.sql. Reading the feed, numbering
committed events under the sequencer's lease, pruning old ones, and each relay's lease and place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from blogsvc.db.executor import utc_now
from blogsvc.db.queries import load_queries
from blogsvc.errors import Gone, TransientConflict

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta

    from blogsvc.db.cluster import Database
    from blogsvc.db.executor import Executor

_sql = load_queries("events")
_PAGE = _sql.take("feed_page")
_PAGE_OF_TYPES = _sql.take("feed_page_of_types")
_PRUNED_THROUGH = _sql.take("pruned_through")
_LAST_FEED_ID = _sql.take("last_feed_id")
_CLAIM_SEQUENCER = _sql.take("claim_sequencer")
_RELEASE_SEQUENCER = _sql.take("release_sequencer")
_UNNUMBERED = _sql.take("unnumbered_events")
_ADVANCE_SEQUENCER = _sql.take("advance_sequencer")
_NUMBER = _sql.take("number_events")
_LOCK_SEQUENCER = _sql.take("lock_sequencer")
_FIRST_KEPT = _sql.take("first_kept")
_DELETE_THROUGH = _sql.take("delete_events_through")
_SET_PRUNED = _sql.take("set_pruned_through")
_ADD_RELAY = _sql.take("add_relay")
_CLAIM_RELAY = _sql.take("claim_relay")
_RELEASE_RELAY = _sql.take("release_relay")
_RELAYED_THROUGH = _sql.take("relayed_through")
_RECORD_RELAYED = _sql.take("record_relayed")


class FeedEvent(msgspec.Struct, frozen=True):
    """One numbered event: its id in the feed, its type, and the CloudEvent as JSON."""

    feed_id: int
    type: str
    cloudevent: bytes


async def events_after(db: Executor, after: int, limit: int, types: Sequence[str] = ()) -> list[FeedEvent]:
    """Up to `limit` numbered events after `after` (of `types`, if any), in order; Gone if some of those
    were pruned."""
    if types:
        params = {"after": after, "limit": limit, "types": msgspec.json.encode(sorted(set(types))).decode()}
        rows = await db.all(_PAGE_OF_TYPES, params)
    else:
        rows = await db.all(_PAGE, {"after": after, "limit": limit})
    pruned = int(await db.value(_PRUNED_THROUGH, {}))
    if after < pruned:
        head = await last_feed_id(db)
        raise Gone(
            f"Events up to {pruned} are no longer kept (older than the retention). To resync, read the "
            f"resources afresh, then follow the feed from after={head}, the newest event as of this answer."
        )
    return [FeedEvent(row[0], row[1], _as_bytes(row[2])) for row in rows]


async def last_feed_id(db: Executor) -> int:
    return int(await db.value(_LAST_FEED_ID, {}))


def _as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


# -- the sequencer (sequencer.py) --


async def claim_sequencer(db: Executor, holder: str, seconds: float) -> bool:
    """Take or keep the sequencer's lease for `seconds`; whether `holder` has it."""
    return await db.execute(_CLAIM_SEQUENCER, {"holder": holder, "seconds": seconds}) == 1


async def release_sequencer(db: Executor, holder: str) -> None:
    await db.execute(_RELEASE_SEQUENCER, {"holder": holder})


async def number_committed(db: Database, holder: str, batch: int) -> int | None:
    """Give the next feed ids to up to `batch` committed events without one, oldest first: how many (0 costs
    one read), or None if `holder` has lost the lease. The numbering is one transaction that first locks
    the sequencer row, so numberings never overlap."""
    ids = [str(row[0]) for row in await db.all(_UNNUMBERED, {"limit": batch})]
    if not ids:
        return 0
    params = {"holder": holder, "count": len(ids), "ids": msgspec.json.encode(ids).decode()}

    async def number(tx: Executor) -> int | None:
        if not await tx.execute(_ADVANCE_SEQUENCER, params):
            return None
        if await tx.execute(_NUMBER, params) != len(ids):  # another sequencer numbered some: roll back
            raise TransientConflict("Events were numbered by two sequencers at once.")
        return len(ids)

    return await db.run_in_transaction(number)


async def prune(db: Database, holder: str, retention: timedelta, batch: int) -> int | None:
    """Delete up to `batch` of the oldest events, those older than `retention` (never one while an
    older-numbered one stays); how many, or None if `holder` has lost the lease."""
    before: datetime = utc_now() - retention

    async def delete(tx: Executor) -> int | None:
        locked = await tx.one(_LOCK_SEQUENCER, {"holder": holder})
        if locked is None:
            return None
        last, pruned = int(locked[0]), int(locked[1])
        kept = await tx.value(_FIRST_KEPT, {"pruned": pruned, "limit": batch, "before": before})
        through = min(last, pruned + batch) if kept is None else int(kept) - 1
        if through <= pruned:
            return 0
        await tx.execute(_DELETE_THROUGH, {"pruned": pruned, "through": through})
        await tx.execute(_SET_PRUNED, {"through": through})
        return through - pruned

    return await db.run_in_transaction(delete)


# -- relays (relay.py) --


async def claim_relay(db: Executor, stream: str, holder: str, seconds: float) -> bool:
    """Take or keep the lease on relaying to `stream`; whether `holder` has it."""
    await db.execute(_ADD_RELAY, {"stream": stream})
    return await db.execute(_CLAIM_RELAY, {"stream": stream, "holder": holder, "seconds": seconds}) == 1


async def release_relay(db: Executor, stream: str, holder: str) -> None:
    await db.execute(_RELEASE_RELAY, {"stream": stream, "holder": holder})


async def relayed_through(db: Executor, stream: str) -> int:
    return int(await db.value(_RELAYED_THROUGH, {"stream": stream}) or 0)


async def record_relayed(db: Executor, stream: str, holder: str, through: int, seconds: float) -> bool:
    """Store how far `stream` has the feed, renewing the lease; False if `holder` has lost it."""
    params = {"stream": stream, "holder": holder, "through": through, "seconds": seconds}
    return await db.execute(_RECORD_RELAYED, params) == 1
