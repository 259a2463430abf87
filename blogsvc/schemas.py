"""Field types shared by every resource's Structs, and how a time they are given meets the columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec

# Formatted by the database as RFC 3339 UTC with microseconds, e.g. 2026-11-22T03:18:16.123456Z.
Timestamp = Annotated[
    str, msgspec.Meta(examples=["2026-12-03T06:31:36.278160Z"], extra_json_schema={"format": "date-time"})
]
Id = Annotated[int, msgspec.Meta(ge=1, examples=[42])]


def naive_utc(moment: datetime) -> datetime:
    """`moment` in UTC without its offset, as the columns hold times. One whose UTC falls outside the years
    1 to 9999 (0001-01-01T00:00:00+01:00) is the first or last time there is: before or after every row."""
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return datetime.min if moment.year == 1 else datetime.max
