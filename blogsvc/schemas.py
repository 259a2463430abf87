"""Types shared by every resource: timestamps as served, and the problem document (for OpenAPI)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

import msgspec
from litestar.openapi.datastructures import ResponseSpec

# Formatted by the database as RFC 3339 UTC with microseconds, e.g. 2026-11-22T03:18:16.123456Z.
Timestamp = Annotated[str, msgspec.Meta(extra_json_schema={"format": "date-time"})]
Id = Annotated[int, msgspec.Meta(ge=1)]


class FieldError(msgspec.Struct):
    field: str
    message: str
    in_: str = msgspec.field(name="in")


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def problem_responses(*statuses: int, body: bool = False) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error statuses a route can answer, each a problem document.
    Every caller is a database route, so 503 (database unavailable or busy) is always among them;
    a route that takes a body also answers 413 (over 1 MiB) and 415 (not JSON)."""
    if body:
        statuses = (*statuses, 413, 415)
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type="application/problem+json",
            description=HTTPStatus(status).phrase,
            generate_examples=False,
        )
        for status in (*statuses, 503)
    }
