"""Field types shared by every resource's Structs."""

from __future__ import annotations

from typing import Annotated

import msgspec

# Formatted by the database as RFC 3339 UTC with microseconds, e.g. 2026-11-22T03:18:16.123456Z.
Timestamp = Annotated[
    str, msgspec.Meta(examples=["2026-12-03T06:31:36.278160Z"], extra_json_schema={"format": "date-time"})
]
Id = Annotated[int, msgspec.Meta(ge=1, examples=[42])]
