"""ETags from row versions, the If-Match / If-None-Match checks (RFC 9110), and the responses that carry them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Generic, NamedTuple, NoReturn, TypeVar

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

from blogsvc.errors import NotFound, PreconditionFailed

if TYPE_CHECKING:
    from blogsvc.db import Executor, Query

T = TypeVar("T")

IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", max_length=1024, description="Write only if the ETag still matches.")
]
IfNoneMatch = Annotated[
    str | None, HeaderParameter(name="If-None-Match", max_length=1024, description="304 if the ETag still matches.")
]
ETAG_HEADER = ResponseHeader(name="ETag", description="The resource's current version.", documentation_only=True)
NOT_MODIFIED = ResponseSpec(None, description="Not Modified: the If-None-Match tag is current.")

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


def tagged(found: Versioned[T], status_code: int = 200, **headers: str) -> Response[T]:
    """The resource as a response with its ETag."""
    return Response(found.item, status_code=status_code, headers={"ETag": found.etag, **headers})


def tagged_or_not_modified(found: Versioned[T], if_none_match: str | None) -> Response[Any]:
    """What a conditional GET answers: 304 if the caller's tag is current, else the resource."""
    if none_match(if_none_match, found.version):
        return Response(None, status_code=304, headers={"ETag": found.etag})
    return tagged(found)
