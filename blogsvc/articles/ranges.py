"""Where a deep page of all live articles starts, guessed from this worker's copy of the live
counts per 1024-id range (article_counts, migration 0005), so that the page takes one statement.

The page query checks the guess in the same snapshot as the page (the live articles before the
range must still number `passed`) and returns no rows if it is off. The caller then takes the
exact path (a seek_articles_* statement first) and marks the copy stale; it is loaded again at
most once a second, so a busy writer costs the readers at most one statement a second more."""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, NamedTuple
from weakref import WeakKeyDictionary

from blogsvc.db import load_queries

if TYPE_CHECKING:
    from blogsvc.db import Executor

RANGE_IDS = 1024  # migration 0005's range width
RELOAD_EVERY = 1.0  # seconds

_LOAD = load_queries("articles").take("live_article_ranges")


class Start(NamedTuple):
    id_range: int
    bound: int  # the range's first id (ascending) or last id (descending)
    passed: int  # the live articles before the range, in that order


class LiveRanges:
    def __init__(self) -> None:
        self._ranges: list[int] = []  # ranges with live articles, ascending
        self._through: list[int] = []  # the live articles up to and including each of them
        self._stale = True
        self._loaded_at = -RELOAD_EVERY

    def mark_stale(self) -> None:
        self._stale = True

    async def start(self, db: Executor, order: str, offset: int) -> Start | None:
        """The range holding the row at `offset` in `order`, as far as the copy knows; None when the
        copy is stale and not due for loading, or says the offset is past the end."""
        if self._stale:
            now = time.monotonic()
            if now - self._loaded_at < RELOAD_EVERY:
                return None
            self._loaded_at = now  # before the await: concurrent pages do not load it too
            rows = await db.all(_LOAD, {})
            self._ranges = [int(row[0]) for row in rows]
            self._through = []
            total = 0
            for row in rows:
                total += int(row[1])
                self._through.append(total)
            self._stale = False
        total = self._through[-1] if self._through else 0
        if offset >= total:
            return None
        if order == "asc":  # through[i-1] <= offset < through[i]
            i = bisect_right(self._through, offset)
            return Start(self._ranges[i], self._ranges[i] * RANGE_IDS, self._through[i - 1] if i else 0)
        # From the top: the live articles above range i are total - through[i].
        i = bisect_left(self._through, total - offset)
        return Start(self._ranges[i], self._ranges[i] * RANGE_IDS + RANGE_IDS - 1, total - self._through[i])


_copies: WeakKeyDictionary[Executor, LiveRanges] = WeakKeyDictionary()


def of(db: Executor) -> LiveRanges:
    """This worker's copy for `db`'s database."""
    if (copy := _copies.get(db)) is None:
        copy = _copies[db] = LiveRanges()
    return copy
