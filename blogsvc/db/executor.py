"""What repositories run their named queries on: one base for a Session (one connection, as statements
come) and the Database (one autocommitted statement each, with the retries that are safe)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from blogsvc.db.queries import Query

Row = tuple[Any, ...]
Params = Mapping[str, Any]
Cursor = Any  # the driver's buffered cursor


def utc_now() -> datetime:
    """Now, as the naive UTC datetime the DATETIME(6) columns hold (sessions run in UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def id_list(ids: Sequence[int]) -> Params:
    """The parameters of a lookup query: `ids` as a JSON array, which SQL reads with JSON_TABLE."""
    return {"ids": msgspec.json.encode(ids).decode()}


class Executor:
    """Runs a named query as its kind says (sql/*.sql suffixes). Subclasses say how a statement runs:
    `_read` may run it again on a fresh connection, `_write` only where it surely did not take effect."""

    async def _read(self, query: Query, params: Params) -> Cursor:
        raise NotImplementedError

    async def _write(self, query: Query, params: Params) -> Cursor:
        raise NotImplementedError

    async def one(self, query: Query, params: Params) -> Row | None:
        row: Row | None = await (await self._read(_of_kind(query, "one"), params)).fetchone()
        return row

    async def value(self, query: Query, params: Params) -> Any:
        row = await (await self._read(_of_kind(query, "value"), params)).fetchone()
        return None if row is None else row[0]

    async def all(self, query: Query, params: Params) -> list[Row]:
        return list(await (await self._read(_of_kind(query, "all"), params)).fetchall())

    async def execute(self, query: Query, params: Params) -> int:
        rowcount: int = (await self._write(_of_kind(query, "execute"), params)).rowcount
        return rowcount

    async def insert(self, query: Query, params: Params) -> int:
        lastrowid: int = (await self._write(_of_kind(query, "insert"), params)).lastrowid
        return lastrowid

    async def lookup(self, query: Query, key: int) -> Row | None:
        """The row of id `key` from `query`: an "all" query over the ids in `%(ids)s` (id_list) whose
        first column is the id."""
        rows = await self.all(query, id_list((key,)))
        return rows[0] if rows else None


def _of_kind(query: Query, kind: str) -> Query:
    if query.kind != kind:
        raise TypeError(f"query {query.name!r} is a {query.kind!r} query, not {kind!r}")
    return query
