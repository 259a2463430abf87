"""ETags from row versions, and the If-Match / If-None-Match checks (RFC 9110)."""

from __future__ import annotations

import re
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")

_STRONG_TAG = re.compile(r'(?<![W/])"(\d{1,10})"')


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_versions(header: str | None) -> str | None:
    """What the write queries' `if_match` parameter takes: None for no condition (absent or *),
    else the comma-separated versions the header names ("" when it names none we could have issued)."""
    if header is None or header.strip() == "*":
        return None
    # If-Match uses the strong comparison: weak tags (W/"...") never match.
    return ",".join(_STRONG_TAG.findall(header))


def none_match(header: str | None, version: int) -> bool:
    """True when If-None-Match names the current tag (weak comparison) or is *: answer 304."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.removeprefix("W/") == etag(version) for tag in re.split(r"\s*,\s*", header.strip()))


class Versioned(NamedTuple, Generic[T]):
    """A resource and the row version its ETag is made from."""

    item: T
    version: int

    @property
    def etag(self) -> str:
        return etag(self.version)
