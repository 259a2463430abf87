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

# A cursor is a format byte and the last id of the page, then an HMAC over both and the
# listing it belongs to (route, filters, order): a damaged, forged or misapplied one is a 400.
_CURSOR = struct.Struct(">BQ")
_CURSOR_FORMAT = 1
_TAG_BYTES = 16


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


P = TypeVar("P", bound=Page[Any])


class PageQuery(msgspec.Struct, frozen=True):
    """The paging parameters of a list request (http/controllers.py reads them from the query string)."""

    limit: int
    offset: int
    cursor: str | None
    order: Order


class Cursors:
    """Issues and checks keyset cursors with the service's secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _tag(self, payload: bytes, listing: str) -> bytes:
        return hmac.new(self._secret, payload + listing.encode(), hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, last_id: int, listing: str) -> str:
        payload = _CURSOR.pack(_CURSOR_FORMAT, last_id)
        return base64.urlsafe_b64encode(payload + self._tag(payload, listing)).decode().rstrip("=")

    def decode(self, cursor: str, listing: str) -> int:
        """The last id of the previous page; BadRequest unless we issued this cursor for this listing."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        payload, tag = raw[: _CURSOR.size], raw[_CURSOR.size :]
        # Only the exact text we issued: base64 ignores the spare bits of its last character.
        canonical = base64.urlsafe_b64encode(raw).decode().rstrip("=") == cursor
        if (
            not canonical
            or len(raw) != _CURSOR.size + _TAG_BYTES
            or not hmac.compare_digest(tag, self._tag(payload, listing))
        ):
            raise BadRequest("cursor is malformed, tampered with, or from another listing or order")
        return int(_CURSOR.unpack(payload)[1])

    def window(self, query: PageQuery, listing: str) -> PageWindow:
        """The rows a page covers; `listing` names the route and its filters."""
        listing = f"{listing}|{query.order}"
        if query.cursor is None:
            return PageWindow(self, listing, query, after=0, before=MAX_ID)
        if query.offset:
            raise BadRequest("cursor and a non-zero offset cannot be combined")
        last_id = self.decode(query.cursor, listing)
        if query.order == "asc":
            return PageWindow(self, listing, query, after=last_id, before=MAX_ID)
        return PageWindow(self, listing, query, after=0, before=last_id)


class PageWindow:
    """Ids strictly between `after` and `before`, in `order`, skipping `offset`: one page's query."""

    def __init__(self, cursors: Cursors, listing: str, query: PageQuery, after: int, before: int) -> None:
        self._cursors = cursors
        self._listing = listing
        self.limit = query.limit
        self.offset = query.offset
        self.order = query.order
        self.after = after
        self.before = before

    def params(self) -> dict[str, int]:
        # One row more than the page tells whether another page follows.
        return {"after": self.after, "before": self.before, "offset": self.offset, "fetch": self.limit + 1}

    def page(self, page_type: type[P], items: Sequence[T], id_of: Callable[[T], int]) -> P:
        """The envelope for the items the query found (up to limit + 1)."""
        shown = list(items[: self.limit])
        more = len(items) > self.limit
        cursor = self._cursors.encode(id_of(shown[-1]), self._listing) if more else None
        return page_type(data=shown, limit=self.limit, offset=self.offset, next_cursor=cursor)
