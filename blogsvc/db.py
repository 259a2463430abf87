"""The aiomysql pool, sessions and transactions on it, and the loader for the named queries in sql/."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiomysql
import pymysql

from blogsvc.errors import ServiceUnavailable, from_mysql_error

if TYPE_CHECKING:
    from blogsvc.config import Settings

log = logging.getLogger("blogsvc.db")

Row = tuple[Any, ...]
Params = Mapping[str, Any]


def utc_now() -> datetime:
    """Now, as the naive UTC datetime the DATETIME(6) columns hold (sessions run in UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def resource_dir(name: str) -> Path:
    """sql/ or migrations/: inside the installed package, else at the top of the source tree."""
    packaged = Path(__file__).parent / name
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / name


# ---- named queries (aiosql's grammar: "-- name: <name><suffix>", then doc comments, then SQL) ----

# The suffix says how a query is run: ^ one row, $ one value, (none) all rows,
# ! a write returning the affected row count, <! an insert returning the new id.
_KINDS = {"^": "one", "$": "value", "": "all", "!": "execute", "<!": "insert"}
_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>\S*?)(?P<suffix><!|[\^$!])?\s*$", re.MULTILINE)
_VALID_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Query:
    name: str
    kind: str
    sql: str


class QueryFile:
    """The queries of one sql/*.sql file; take() them at import so a missing name fails early."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queries = parse_queries(path.read_text(encoding="utf-8"), str(path))
        self.taken: set[str] = set()

    def take(self, name: str) -> Query:
        if name not in self.queries:
            raise KeyError(f"no query named {name!r} in {self.path}")
        self.taken.add(name)
        return self.queries[name]

    def unused(self) -> list[str]:
        return sorted(set(self.queries) - self.taken)


def parse_queries(text: str, source: str = "<sql>") -> dict[str, Query]:
    """Split a file into named queries; reject bad names, duplicates and empty bodies."""
    matches = list(_NAME_LINE.finditer(text))
    if _has_sql(text[: matches[0].start()] if matches else text):
        raise ValueError(f"{source}: SQL before the first '-- name:' line")
    queries: dict[str, Query] = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        name = match["name"]
        if not _VALID_NAME.fullmatch(name):
            raise ValueError(f"{source}: bad query name {name!r}")
        if name in queries:
            raise ValueError(f"{source}: query {name!r} is defined twice")
        body = text[match.end() : following.start() if following else len(text)]
        sql = _strip_comments(body).strip().rstrip(";").strip()
        if not sql:
            raise ValueError(f"{source}: query {name!r} has no SQL")
        queries[name] = Query(name, _KINDS[match["suffix"] or ""], sql)
    return queries


def _strip_comments(body: str) -> str:
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--"))


def _has_sql(text: str) -> bool:
    return bool(_strip_comments(text).strip())


_query_files: dict[str, QueryFile] = {}


def load_queries(name: str) -> QueryFile:
    """The queries of sql/<name>.sql, loaded once per process."""
    if name not in _query_files:
        _query_files[name] = QueryFile(resource_dir("sql") / f"{name}.sql")
    return _query_files[name]


def loaded_query_files() -> list[QueryFile]:
    return list(_query_files.values())


# ---- running queries ----


@contextmanager
def _translated_errors() -> Iterator[None]:
    """MySQL errors that mean something to a caller become domain errors (errors.py says which)."""
    try:
        yield
    except pymysql.err.InterfaceError as exc:  # the connection was already closed under us
        raise ServiceUnavailable("The database connection was lost; retry shortly.") from exc
    except pymysql.err.MySQLError as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        mapped = from_mysql_error(code, str(exc.args[1]) if len(exc.args) > 1 else "")
        if mapped is None:
            raise
        raise mapped from exc
    except OSError as exc:  # refused or reset before MySQL's protocol got a word in
        raise ServiceUnavailable("The database is unavailable; retry shortly.") from exc


class Executor(Protocol):
    """What a repository runs its queries on: the Database (one statement, autocommit) or a Session."""

    async def one(self, query: Query, params: Params) -> Row | None: ...
    async def value(self, query: Query, params: Params) -> Any: ...
    async def all(self, query: Query, params: Params) -> list[Row]: ...
    async def execute(self, query: Query, params: Params) -> int: ...
    async def insert(self, query: Query, params: Params) -> int: ...


class Session:
    """Runs named queries on one pooled connection."""

    def __init__(self, conn: aiomysql.Connection) -> None:
        self._conn = conn

    @asynccontextmanager
    async def _executed(self, query: Query, kind: str, params: Params) -> AsyncIterator[aiomysql.Cursor]:
        if query.kind != kind:
            raise TypeError(f"query {query.name!r} is a {query.kind!r} query, not {kind!r}")
        async with self._conn.cursor() as cursor:
            with _translated_errors():
                await cursor.execute(query.sql, params)
            yield cursor

    async def one(self, query: Query, params: Params) -> Row | None:
        async with self._executed(query, "one", params) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def value(self, query: Query, params: Params) -> Any:
        async with self._executed(query, "value", params) as cursor:
            row = await cursor.fetchone()
            return None if row is None else row[0]

    async def all(self, query: Query, params: Params) -> list[Row]:
        async with self._executed(query, "all", params) as cursor:
            return list(await cursor.fetchall())

    async def execute(self, query: Query, params: Params) -> int:
        async with self._executed(query, "execute", params) as cursor:
            rowcount: int = cursor.rowcount
            return rowcount

    async def insert(self, query: Query, params: Params) -> int:
        async with self._executed(query, "insert", params) as cursor:
            lastrowid: int = cursor.lastrowid
            return lastrowid


class Database:
    """The pool. Its query methods each run one autocommitted statement on a pooled connection."""

    def __init__(self, pool: aiomysql.Pool, acquire_timeout: float) -> None:
        self.pool = pool
        self._acquire_timeout = acquire_timeout

    @classmethod
    def open(cls, settings: Settings) -> Database:
        """Make the pool without connecting, so the service starts (not ready) while the database is down."""
        db = settings.database
        pool = aiomysql.Pool(
            minsize=settings.pool_min,
            maxsize=settings.pool_max,
            echo=False,
            pool_recycle=settings.pool_recycle,
            loop=asyncio.get_running_loop(),
            host=db.host,
            port=db.port,
            user=db.user,
            password=db.password,
            db=db.database,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=settings.db_connect_timeout,
            init_command="SET time_zone = '+00:00'",
        )
        return cls(pool, settings.pool_acquire_timeout)

    async def close(self) -> None:
        self.pool.close()
        await self.pool.wait_closed()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        try:
            with _translated_errors():
                async with asyncio.timeout(self._acquire_timeout):
                    conn = await self.pool.acquire()
        except TimeoutError:
            raise ServiceUnavailable(
                f"No database connection came free within {self._acquire_timeout:g} s; retry shortly."
            ) from None
        try:
            yield Session(conn)
        finally:
            self.pool.release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A session inside BEGIN ... COMMIT; any exception rolls back."""
        async with self.session() as session:
            conn = session._conn
            with _translated_errors():
                await conn.begin()
            try:
                yield session
            except BaseException:
                # A failed rollback leaves the connection mid-transaction; the pool then closes it.
                with suppress(Exception):
                    await conn.rollback()
                raise
            with _translated_errors():
                await conn.commit()

    async def one(self, query: Query, params: Params) -> Row | None:
        async with self.session() as session:
            return await session.one(query, params)

    async def value(self, query: Query, params: Params) -> Any:
        async with self.session() as session:
            return await session.value(query, params)

    async def all(self, query: Query, params: Params) -> list[Row]:
        async with self.session() as session:
            return await session.all(query, params)

    async def execute(self, query: Query, params: Params) -> int:
        async with self.session() as session:
            return await session.execute(query, params)

    async def insert(self, query: Query, params: Params) -> int:
        async with self.session() as session:
            return await session.insert(query, params)
