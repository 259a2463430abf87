"""What handlers receive by name: the pool, the password hasher, and for list routes the listing
(the pool and the page asked for)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from litestar.di import NamedDependency, Provide

from blogsvc.db import Database
from blogsvc.pagination import Cursors, PageQuery, PageWindow, page_query
from blogsvc.passwords import PasswordHasher

if TYPE_CHECKING:
    from litestar.datastructures import State


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


DB = NamedDependency[Database]
Hasher = NamedDependency[PasswordHasher]
Listed = NamedDependency[Listing]


def providers(state: State) -> dict[str, Provide]:
    """The names handlers use: db, hasher, listing (and page, the query parameters listing reads). They
    read the app's `state` (filled by the lifespan) themselves: asking Litestar for `state` would build
    a State object on every request."""

    def database() -> Database:
        db: Database = state.db
        return db

    def hasher() -> PasswordHasher:
        found: PasswordHasher = state.hasher
        return found

    def listing(page: NamedDependency[PageQuery]) -> Listing:
        return Listing(state.db, page, state.cursors)

    return {
        "db": Provide(database, sync_to_thread=False),
        "hasher": Provide(hasher, sync_to_thread=False),
        "page": Provide(page_query, sync_to_thread=False),
        "listing": Provide(listing, sync_to_thread=False),
    }
