"""Brute-force lockout for POST /auth/verify: at most MAX_ATTEMPTS checks of a password per email in a
WINDOW; after that, 429 with Retry-After until the window closes, right password or not. The count is
in the database (sql/lockout.sql), so it holds across workers and replicas.

Every attempt is counted before its password is checked, in one statement that says what it made the
count, and a right password then clears the count: so what locks an email is failures (and attempts made
while locked out), and of any number of concurrent attempts exactly as many as are left get through.
Unknown emails are counted alike, or the lockout would tell which emails have users."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING

from blogsvc.db.executor import utc_now
from blogsvc.db.queries import load_queries
from blogsvc.errors import TooManyRequests

if TYPE_CHECKING:
    from blogsvc.db.executor import Executor

MAX_ATTEMPTS = 10
WINDOW = timedelta(minutes=15)

_sql = load_queries("lockout")
_COUNT = _sql.take("count_attempt")
_WINDOW_START = _sql.take("get_window_start")
_FORGET = _sql.take("forget_attempts")
_DELETE_CLOSED = _sql.take("delete_closed_windows")


async def count_attempt(db: Executor, email: str) -> None:
    """Count one attempt for `email`; TooManyRequests if that makes more than MAX_ATTEMPTS in the window."""
    now = utc_now()
    params = {"email": email, "now": now, "window_floor": now - WINDOW}
    if await db.insert(_COUNT, params) <= MAX_ATTEMPTS:
        return
    window_start = await db.value(_WINDOW_START, params)
    if window_start is None:  # the window closed (and was swept) in between: the next attempt starts one
        window_start = now - WINDOW
    retry_after = max(1, math.ceil((window_start + WINDOW - now).total_seconds()))
    raise TooManyRequests(
        f"Too many attempts for this email; try again in {retry_after} seconds.", retry_after=retry_after
    )


async def forget(db: Executor, email: str) -> None:
    """The password was right: the count starts again."""
    await db.execute(_FORGET, {"email": email})


async def delete_closed_windows(db: Executor, batch: int = 10_000) -> int:
    """Housekeeping: delete up to `batch` rows whose window has closed; how many went."""
    return await db.execute(_DELETE_CLOSED, {"window_floor": utc_now() - WINDOW, "batch": batch})
