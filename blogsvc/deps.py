"""What handlers receive by name: the pool, the password hasher, the cursor codec, the page query."""

from __future__ import annotations

from litestar.datastructures import State  # noqa: TC002  (Litestar reads provider signatures at run time)
from litestar.di import NamedDependency, Provide

from blogsvc.db import Database
from blogsvc.pagination import Cursors, PageQuery, page_query
from blogsvc.passwords import PasswordHasher

DB = NamedDependency[Database]
Hasher = NamedDependency[PasswordHasher]
CursorCodec = NamedDependency[Cursors]
PageParams = NamedDependency[PageQuery]


def _database(state: State) -> Database:
    db: Database = state.db
    return db


def _hasher(state: State) -> PasswordHasher:
    hasher: PasswordHasher = state.hasher
    return hasher


def _cursors(state: State) -> Cursors:
    cursors: Cursors = state.cursors
    return cursors


# The names handlers use: db, hasher, cursors, page.
PROVIDERS = {
    "db": Provide(_database, sync_to_thread=False),
    "hasher": Provide(_hasher, sync_to_thread=False),
    "cursors": Provide(_cursors, sync_to_thread=False),
    "page": Provide(page_query, sync_to_thread=False),
}
