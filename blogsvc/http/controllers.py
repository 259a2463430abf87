"""What handlers work with: the app's state through their controller (the pool, the password hasher),
and for list routes the page asked for and the cursors, in one dependency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import msgspec
from litestar import Controller
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Example, OpenAPIType, Schema
from litestar.params import Parameter, QueryParameter

from blogsvc.pagination import MAX_ID, MAX_OFFSET, Cursors, Order, PageQuery, PageWindow, well_formed_cursor
from blogsvc.validation import Check

MAX_IDS = 100  # ids one list request may ask for

if TYPE_CHECKING:
    from litestar import Litestar, Router
    from litestar.datastructures import State


class AppController(Controller):
    """A controller registered on the app itself. Its handlers reach what the lifespan puts in the
    app's state (`self.state.db`, `self.state.hasher`) through it rather than as Litestar
    dependencies: those are resolved again on every request, which cost a tenth of a single-article
    read's CPU (in-process timing of GET /articles/{id})."""

    def __init__(self, owner: Router) -> None:
        super().__init__(owner)
        self.state: State = cast("Litestar", owner).state


def page_query(
    limit: Annotated[int, Parameter(ge=1, le=100, description="Rows per page.")] = 20,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="Rows to skip; not with cursor.")] = 0,
    cursor: Annotated[
        str | None,
        Parameter(min_length=1, max_length=200, description="The next_cursor of the previous page."),
        Check(well_formed_cursor),
    ] = None,
    order: Annotated[
        Order | None,
        Parameter(
            description="Ascending or descending; by default ascending, except for the sorts by relevance and count."
        ),
    ] = None,
) -> PageQuery:
    """The paging parameters every list route takes (a Litestar dependency)."""
    return PageQuery(limit, offset, cursor, order)


@dataclass(frozen=True)
class Listing:
    """What a list route needs, in one dependency: Litestar resolves two or more dependencies of a
    handler in a task group of their own, on every request, which cost as much as the page's queries (cProfile)."""

    query: PageQuery
    cursors: Cursors

    def window(self, listing: str, default_order: Order = "asc") -> PageWindow:
        """The rows the page covers; `listing` names the route, its filters and sort (cursors are per listing)."""
        return self.cursors.window(self.query, listing, default_order)


Listed = NamedDependency[Listing]

# Filters more than one list takes.
Count = Annotated[
    bool,
    Parameter(
        description="true: the envelope gains `total`, how many live rows match.", examples=[Example(value=True)]
    ),
]
IdsFilter = Annotated[
    list[Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]] | None,
    QueryParameter(
        name="id",
        max_items=MAX_IDS,
        # Litestar leaves the items' own bounds out of the OpenAPI document.
        schema_extra={"items": Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_ID)},
        description=f"Only these ids (repeat it: id=3&id=5; up to {MAX_IDS}). Missing or deleted ones are "
        "simply absent.",
        examples=[Example(value=[3, 5])],
    ),
]
UpdatedSince = Annotated[
    datetime | None,
    Parameter(
        description="Only rows created or updated at or after this RFC 3339 time (with an offset).",
        examples=[Example(value="2026-12-01T00:00:00Z")],
    ),
]


def providers(cursors: Cursors) -> dict[str, Provide]:
    """The names list handlers use: listing (and page, the query parameters listing reads)."""

    def listing(page: NamedDependency[PageQuery]) -> Listing:
        return Listing(page, cursors)

    return {
        "page": Provide(page_query, sync_to_thread=False),
        "listing": Provide(listing, sync_to_thread=False),
    }
