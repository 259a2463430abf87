"""ETags from row versions, the If-Match / If-None-Match checks (RFC 9110), and the responses that carry them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Generic, NamedTuple, NoReturn, TypeVar

from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

from blogsvc.errors import NotFound, PreconditionFailed
from blogsvc.responses import JSONResponse

if TYPE_CHECKING:
    from litestar.types import HTTPResponseStartEvent

    from blogsvc.db import Executor, Query

T = TypeVar("T")

IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", max_length=1024, description="Write only if the ETag still matches.")
]
ETAG_HEADER = ResponseHeader(name="ETag", description="The resource's current version.", documentation_only=True)
# A GET that declares this response also takes If-None-Match (the header is added to its OpenAPI
# operation by security/openapi.py; edge.Edge answers it).
NOT_MODIFIED = ResponseSpec(None, description="Not Modified: the If-None-Match tag is current.")
IF_NONE_MATCH_DOC = "304 if the ETag still matches."
# What a 304 leaves out: it has no body.
_BODY_HEADERS = frozenset((b"content-type", b"content-length"))

_STRONG_TAG = re.compile(r'(?<![W/])"(\d{1,10})"')


def if_match_versions(header: str | None) -> str | None:
    """What the write queries' `if_match` parameter takes: None for no condition (absent or *),
    else the comma-separated versions the header names ("" when it names none we could have issued)."""
    if header is None or header.strip() == "*":
        return None
    # If-Match uses the strong comparison: weak tags (W/"...") never match.
    return ",".join(_STRONG_TAG.findall(header))


def not_modified(start: HTTPResponseStartEvent, if_none_match: bytes) -> HTTPResponseStartEvent | None:
    """The 304 that a GET's 200 becomes when If-None-Match names its ETag (weak comparison) or is *;
    None when it stays. Done once for every GET at the edge (edge.Edge), after the handler."""
    if start["status"] != 200:
        return None
    headers = list(start.get("headers", ()))
    current = next((value for name, value in headers if name.lower() == b"etag"), None)
    if current is None:
        return None
    wanted = if_none_match.strip()
    if wanted != b"*" and current.removeprefix(b"W/") not in (
        tag.strip().removeprefix(b"W/") for tag in wanted.split(b",")
    ):
        return None
    kept = [(name, value) for name, value in headers if name.lower() not in _BODY_HEADERS]
    return {"type": "http.response.start", "status": 304, "headers": kept}


class Versioned(NamedTuple, Generic[T]):
    """A resource and the row version its ETag is made from."""

    item: T
    version: int

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def require_match(current: Versioned[T], if_match: str | None, resource: str) -> Versioned[T]:
    """`current` if If-Match allows writing it (for a write that changes nothing), else PreconditionFailed."""
    if if_match is not None and str(current.version) not in if_match.split(","):
        raise _stale(resource)
    return current


async def explain_unchanged(db: Executor, version_query: Query, resource: str, resource_id: int) -> NoReturn:
    """A guarded write changed no row: NotFound if the resource is absent or deleted, else it was stale."""
    if await db.value(version_query, {"id": resource_id}) is None:
        raise NotFound(f"No {resource} with id {resource_id}.")
    raise _stale(resource)


def _stale(resource: str) -> PreconditionFailed:
    return PreconditionFailed(f"If-Match does not name the {resource}'s current ETag.")


def tagged(found: Versioned[T], status_code: int = 200, **headers: str) -> JSONResponse[T]:
    """The resource as a response with its ETag."""
    return JSONResponse(found.item, status_code=status_code, headers={"ETag": found.etag, **headers})
