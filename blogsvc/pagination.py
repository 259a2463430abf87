"""Paging: what a page asks for, keyset cursors, and the page envelope."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar

import msgspec

from blogsvc.errors import BadRequest

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

T = TypeVar("T")
# The largest id accepted anywhere: JavaScript's largest safe integer, far beyond any BIGINT id we issue.
MAX_ID = 2**53 - 1
MAX_OFFSET = 1_000_000
Order = Literal["asc", "desc"]

# A cursor is where the previous page ended, then an HMAC over it and the listing it belongs to (route,
# filters, sort, order): a damaged, forged or misapplied one is a 400. Where a page ends is its last row's
# position: its sort key (none when the sort is by id), then its id. Format 1 holds an id alone (the only
# format before sorts came: cursors issued then still work); format 2 any position, as MessagePack.
_ID_CURSOR = struct.Struct(">BQ")
_ID_FORMAT = 1
_POSITION_FORMAT = 2
_TAG_BYTES = 16
Position = tuple[int | float | str, ...]


def bound_listing(route: str, filters: dict[str, Any]) -> str:
    """What a cursor of a filtered list is bound to: the route, then the filters asked for (None: not
    asked) in a fixed order."""
    asked = sorted((name, value) for name, value in filters.items() if value is not None)
    return route + "|" + msgspec.json.encode(asked).decode()


def id_batch(ids: list[int] | None) -> tuple[int, ...] | None:
    """An `id` filter as the queries take it: each id once, in order (the page's order is the list's own)."""
    return None if ids is None else tuple(sorted(set(ids)))


class Page(msgspec.Struct, Generic[T]):
    """The envelope of every list; each resource subclasses it (UserPage, ...) for a readable OpenAPI name."""

    data: list[T]
    limit: Annotated[int, msgspec.Meta(examples=[20])]
    offset: Annotated[int, msgspec.Meta(examples=[0])]
    next_cursor: Annotated[
        str | None,
        msgspec.Meta(
            description="Pass as `cursor` for the next page; null on the last one.",
            examples=["AQAAAAAAAAABrtZL6_2fKeuK0gr7M1OfjQ"],
        ),
    ]
    total: (
        Annotated[
            int,
            msgspec.Meta(description="With count=true: how many live rows match the filters.", examples=[137]),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET


P = TypeVar("P", bound=Page[Any])


class PageQuery(msgspec.Struct, frozen=True):
    """The paging parameters of a list request (http/controllers.py reads them from the query string)."""

    limit: int
    offset: int
    cursor: str | None
    order: Order | None  # None: the sort's own default


class Cursors:
    """Issues and checks keyset cursors with the service's secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _tag(self, payload: bytes, listing: str) -> bytes:
        return hmac.new(self._secret, payload + listing.encode(), hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, position: Position, listing: str) -> str:
        if len(position) == 1 and isinstance(position[0], int):
            payload = _ID_CURSOR.pack(_ID_FORMAT, position[0])
        else:
            payload = bytes((_POSITION_FORMAT,)) + msgspec.msgpack.encode(position)
        return base64.urlsafe_b64encode(payload + self._tag(payload, listing)).decode().rstrip("=")

    def decode(self, cursor: str, listing: str) -> Position:
        """Where the previous page ended; BadRequest unless we issued this cursor for this listing."""
        raw = _raw(cursor)
        payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not payload or not hmac.compare_digest(tag, self._tag(payload, listing)):
            raise BadRequest("cursor is malformed, tampered with, or from another listing, sort or order")
        if payload[0] == _ID_FORMAT:
            return (int(_ID_CURSOR.unpack(payload)[1]),)
        return tuple(msgspec.msgpack.decode(payload[1:], type=list[int | float | str]))

    def window(self, query: PageQuery, listing: str, default_order: Order = "asc") -> PageWindow:
        """The rows a page covers; `listing` names the route, its filters and its sort."""
        order = query.order or default_order
        listing = f"{listing}|{order}"
        if query.cursor is None:
            return PageWindow(self, listing, query, order, None)
        if query.offset:
            raise BadRequest("cursor and a non-zero offset cannot be combined")
        return PageWindow(self, listing, query, order, self.decode(query.cursor, listing))


def well_formed_cursor(cursor: str) -> str:
    """ValueError unless `cursor` has the shape of one this service issues (Cursors.decode checks its tag
    against the listing later), so that a made-up cursor is named in the one 400 with any other bad field."""
    raw = _raw(cursor)
    if len(raw) <= _TAG_BYTES or raw[0] not in (_ID_FORMAT, _POSITION_FORMAT):
        raise ValueError("Not a cursor this service issued: pass next_cursor exactly as it came.")
    return cursor


def _raw(cursor: str) -> bytes:
    """The cursor's bytes; empty unless it is the exact text we would issue for them (base64 ignores the
    spare bits of its last character)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return b""
    return raw if base64.urlsafe_b64encode(raw).decode().rstrip("=") == cursor else b""


class PageWindow:
    """The rows after `position` (where the previous page ended; None: from the start) in `order`,
    skipping `offset`: one page's query."""

    def __init__(
        self, cursors: Cursors, listing: str, query: PageQuery, order: Order, position: Position | None
    ) -> None:
        self._cursors = cursors
        self._listing = listing
        self.limit = query.limit
        self.offset = query.offset
        self.order = order
        self.position = position

    def params(self) -> dict[str, int]:
        """A page by id: the ids strictly between `after` and `before`."""
        last_id = None if self.position is None else int(self.position[-1])
        after = last_id if last_id is not None and self.order == "asc" else 0
        before = last_id if last_id is not None and self.order == "desc" else MAX_ID
        return {"after": after, "before": before, **self.rows()}

    def rows(self) -> dict[str, int]:
        """How many rows to skip and fetch: one more than the page tells whether another page follows."""
        return {"offset": self.offset, "fetch": self.limit + 1}

    def page(
        self,
        page_type: type[P],
        items: Sequence[T],
        position_of: Callable[[T], Position],
        total: int | msgspec.UnsetType = msgspec.UNSET,
    ) -> P:
        """The envelope for the items the query found (up to limit + 1)."""
        shown = list(items[: self.limit])
        more = len(items) > self.limit
        cursor = self._cursors.encode(position_of(shown[-1]), self._listing) if more else None
        return page_type(data=shown, limit=self.limit, offset=self.offset, next_cursor=cursor, total=total)
