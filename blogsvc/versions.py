"""Row versions: every row carries a version that each write raises; the http layer makes ETags of them
(http/conditional.py), repositories check If-Match against them in the write itself."""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

from blogsvc.errors import NotFound, PreconditionFailed

T = TypeVar("T")


class Versioned(NamedTuple, Generic[T]):
    """A resource and the row version its ETag is made from."""

    item: T
    version: int


def require_match(current: Versioned[T], if_match: str | None, resource: str) -> Versioned[T]:
    """`current` if If-Match allows writing it (for a write that changes nothing), else PreconditionFailed.
    `if_match` is None for no condition, else the comma-separated versions the header named."""
    if if_match is not None and str(current.version) not in if_match.split(","):
        raise _stale(resource)
    return current


def unchanged(resource: str, resource_id: int, version: int | None) -> NotFound | PreconditionFailed:
    """Why a guarded write changed no row, given the row's current version (None: absent or deleted)."""
    if version is None:
        return NotFound(f"No {resource} with id {resource_id}.")
    return _stale(resource)


def _stale(resource: str) -> PreconditionFailed:
    return PreconditionFailed(f"If-Match does not name the {resource}'s current ETag.")
