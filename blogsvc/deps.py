"""What handlers work with: the app's state through their controller (the pool, the password hasher),
and for list routes the listing (the pool and the page asked for), by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from litestar import Controller
from litestar.di import NamedDependency, Provide

from blogsvc.db import Database  # noqa: TC001 (msgspec reads Listing's annotations at run time)
from blogsvc.pagination import Cursors, PageQuery, PageWindow, page_query

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


@dataclass(frozen=True)
class Listing:
    """What a list route needs, in one dependency: Litestar resolves two or more dependencies of a
    handler in a task group of their own, on every request, which cost as much as the page's queries (cProfile)."""

    db: Database
    query: PageQuery
    cursors: Cursors

    def window(self, listing: str) -> PageWindow:
        """The rows the page covers; `listing` names the route and its filters (cursors are per listing)."""
        return self.cursors.window(self.query, listing)


Listed = NamedDependency[Listing]


def providers(state: State) -> dict[str, Provide]:
    """The names list handlers use: listing (and page, the query parameters listing reads). It reads
    the app's `state` (filled by the lifespan) itself: asking Litestar for `state` would build a
    State object on every request."""

    def listing(page: NamedDependency[PageQuery]) -> Listing:
        return Listing(state.db, page, state.cursors)

    return {
        "page": Provide(page_query, sync_to_thread=False),
        "listing": Provide(listing, sync_to_thread=False),
    }
