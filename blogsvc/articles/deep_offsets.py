"""Pages of all live articles at deep offsets, in one statement whatever the depth.

OFFSET walks every index entry before the page. Instead, triggers count the live articles per range of
1024 ids (article_level_counts, level 0, migration 0006), and each worker keeps a copy of those counts
(LiveRanges, in the app's state) to guess which range holds the page's first row and how many live rows
come before that range. The page query checks the guess in its own snapshot, summing the counts before
the range from three levels (ranges of 2^10, 2^15 and 2^20 ids: at most 31 + 31 ranges of 4 rows, plus
4 rows per 2^20 ids), and returns no rows if it is off. The page
then takes the exact path (a seek_articles_* statement over every range's count, then the page), and
the copy is marked stale; it is loaded again at most once a second, so a busy writer costs the readers
at most one statement a second more."""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, NamedTuple

from blogsvc.db.queries import load_queries

if TYPE_CHECKING:
    from blogsvc.db.executor import Executor, Row
    from blogsvc.pagination import PageWindow

RANGE_IDS = 1024  # the width of a level-0 range (migration 0006)
RELOAD_EVERY = 1.0  # seconds
# From this offset on, a page starts from the counts: it then walks at most one range's index entries.
SEEK_FROM_OFFSET = 1024

_sql = load_queries("articles")
_LOAD = _sql.take("live_article_ranges")
_LIST = {"asc": _sql.take("list_articles_asc"), "desc": _sql.take("list_articles_desc")}
_SEEK = {"asc": _sql.take("seek_articles_asc"), "desc": _sql.take("seek_articles_desc")}
_LIST_FROM_RANGE = {
    "asc": _sql.take("list_articles_from_range_asc"),
    "desc": _sql.take("list_articles_from_range_desc"),
}


class Start(NamedTuple):
    id_range: int
    bound: int  # the range's first id (ascending) or last id (descending)
    passed: int  # the live articles before the range, in that order


class LiveRanges:
    """This worker's copy of the live articles per level-0 range."""

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


async def live_articles(db: Executor, window: PageWindow, copy: LiveRanges) -> list[Row]:
    """The rows of a page of all live articles (up to limit + 1 of them)."""
    params, order = window.params(), window.order
    if window.offset < SEEK_FROM_OFFSET:  # (a cursor never comes with an offset: the two do not combine)
        return await db.all(_LIST[order], params)
    guess = await copy.start(db, order, window.offset)
    if guess is not None:
        moved = from_range(params, order, guess.bound, guess.passed)
        if rows := await db.all(_LIST_FROM_RANGE[order], {**moved, "id_range": guess.id_range, "passed": guess.passed}):
            return rows
    copy.mark_stale()  # a wrong guess, or none: this page takes the exact path, and the copy is reloaded
    start = await db.one(_SEEK[order], {"offset": window.offset})
    if start is None:  # past the last live article
        return []
    return await db.all(_LIST[order], from_range(params, order, int(start[0]), int(start[1])))


def from_range(params: dict[str, int], order: str, bound: int, passed: int) -> dict[str, int]:
    """A list query's `params` moved to start in the range found for its offset: from its bound (the
    range's first id ascending, last id descending), skipping fewer rows (the `passed` ones before it)."""
    moved = {**params, "offset": params["offset"] - passed}
    if order == "asc":
        moved["after"] = max(bound - 1, 0)
    else:
        moved["before"] = bound + 1
    return moved
