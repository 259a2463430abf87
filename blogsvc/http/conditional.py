"""Conditional requests (RFC 9110): ETags from row versions (blogsvc.versions), If-Match as the write
queries take it, the 304 a GET becomes when If-None-Match names its ETag, and their OpenAPI pieces."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, TypeVar

from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

from blogsvc.http.responses import JSONResponse

if TYPE_CHECKING:
    from litestar.types import HTTPResponseStartEvent

    from blogsvc.versions import Versioned

T = TypeVar("T")

IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", max_length=1024, description="Write only if the ETag still matches.")
]
ETAG_HEADER = ResponseHeader(name="ETag", description="The resource's current version.", documentation_only=True)
# A GET that declares this response also takes If-None-Match (the header is added to its OpenAPI
# operation by http/openapi.py; http/edge.py answers it).
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
    None when it stays. Done once for every GET at the edge (http/edge.py), after the handler."""
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


def tagged(found: Versioned[T], status_code: int = 200, **headers: str) -> JSONResponse[T]:
    """The resource as a response with its ETag."""
    return JSONResponse(found.item, status_code=status_code, headers={"ETag": f'"{found.version}"', **headers})
