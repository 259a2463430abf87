"""The connection pools (one per database server, failing over between them), statements and transactions
on them with the retries that are safe, and the loader for the named queries in sql/. The driver is
aiomysql unless BLOGSVC_DB_DRIVER says asyncmy (drivers.py); both have aiomysql's shape."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec

from blogsvc import drivers
from blogsvc.coalescing import Coalescer
from blogsvc.errors import ConnectionLost, ServerNotReady, ServiceUnavailable, TransientConflict, from_mysql_error

if TYPE_CHECKING:
    from blogsvc.config import Settings

log = logging.getLogger("blogsvc.db")

Row = tuple[Any, ...]
Params = Mapping[str, Any]
# The driver's objects (aiomysql's or asyncmy's classes of these names).
Pool = Any
Connection = Any
Cursor = Any


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


def id_list(ids: Sequence[int]) -> Params:
    """The parameters of a lookup query: `ids` as a JSON array, which SQL reads with JSON_TABLE."""
    return {"ids": msgspec.json.encode(ids).decode()}


# Seconds a statement gets on the client beyond the server's own limit before the client gives
# up on the server (one that vanished without closing its sockets would never answer).
_CLIENT_GRACE = 2.0
# Retries after a conflict wait a random time up to base x 2^n seconds (capped): full jitter, so
# the transactions that collided do not collide again in step.
_BACKOFF_BASE, _BACKOFF_CAP = 0.05, 1.0
# A server that keeps refusing connections is logged at most this often.
_LOG_EVERY = 10.0
# Errors after which a write or a transaction surely did not take effect, so it may run again.
_RUN_AGAIN = (TransientConflict, ServerNotReady)

T = TypeVar("T")


def session_setup(statement_timeout: float) -> str:
    """The statement each new connection runs first: UTC sessions and the statement time limit.

    The limit is set with executable comments, so one statement suits both servers: MariaDB runs
    `/*M!...*/` (max_statement_time, seconds, every statement) and skips `/*!50708...*/` as MySQL's;
    MySQL 5.7.8+ runs `/*!50708...*/` (max_execution_time, milliseconds, SELECTs only) and reads
    `/*M!...*/` as a plain comment."""
    setup = "SET time_zone = '+00:00'"
    if statement_timeout > 0:
        setup += (
            f" /*M!100108 , max_statement_time = {statement_timeout:.6f} */"
            f" /*!50708 , max_execution_time = {max(1, round(statement_timeout * 1000))} */"
        )
    return setup


def _domain_error(driver: drivers.Driver, exc: Exception, conn: Connection) -> Exception | None:
    """The domain error a driver exception on `conn` stands for, or None for a bug (to propagate as it is)."""
    if isinstance(exc, driver.mysql_error) and exc.args and isinstance(exc.args[0], int):
        mapped = from_mysql_error(exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else "")
        if mapped is not None:
            return mapped
    # Refused or reset before MySQL's protocol got a word in, used after it was closed, or any
    # other failure that left the connection closed: it is lost.
    if driver.is_closed(conn) or isinstance(exc, OSError | driver.interface_error):
        return ConnectionLost("The database connection was lost; retry shortly.")
    return None


def _no_answer() -> ServiceUnavailable:
    return ServiceUnavailable("The database did not answer in time; retry shortly.")


def _wrong_kind(query: Query, kind: str) -> TypeError:
    return TypeError(f"query {query.name!r} is a {query.kind!r} query, not {kind!r}")


def _backoff(retry: int) -> float:
    return random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2**retry))  # noqa: S311  (jitter, not a secret)


class Executor(Protocol):
    """What a repository runs its queries on: the Database (one statement, autocommit) or a Session."""

    async def one(self, query: Query, params: Params) -> Row | None: ...
    async def value(self, query: Query, params: Params) -> Any: ...
    async def all(self, query: Query, params: Params) -> list[Row]: ...
    async def execute(self, query: Query, params: Params) -> int: ...
    async def insert(self, query: Query, params: Params) -> int: ...
    async def lookup(self, query: Query, key: int) -> Row | None: ...


class Session:
    """Runs named queries on one pooled connection, as they come: no retries (inside a transaction,
    one statement cannot be run again on its own)."""

    def __init__(self, conn: Connection, limit: float | None, driver: drivers.Driver) -> None:
        self._conn = conn
        self._limit = limit
        self._driver = driver

    async def _run(self, query: Query, kind: str, params: Params) -> Cursor:
        if query.kind != kind:
            raise _wrong_kind(query, kind)
        cursor = self._driver.cursor_class(self._conn)
        await self._guarded(cursor.execute(query.sql, params))
        return cursor

    async def _guarded(self, statement: Awaitable[Any]) -> None:
        """Await a statement within the client's time limit, its errors turned into domain errors."""
        try:
            async with asyncio.timeout(self._limit):
                await statement
        except TimeoutError:
            self._conn.close()
            raise _no_answer() from None
        except self._driver.errors as exc:
            mapped = _domain_error(self._driver, exc, self._conn)
            if mapped is None:
                raise
            raise mapped from exc

    async def one(self, query: Query, params: Params) -> Row | None:
        row: Row | None = await (await self._run(query, "one", params)).fetchone()
        return row

    async def value(self, query: Query, params: Params) -> Any:
        row = await (await self._run(query, "value", params)).fetchone()
        return None if row is None else row[0]

    async def all(self, query: Query, params: Params) -> list[Row]:
        return list(await (await self._run(query, "all", params)).fetchall())

    async def execute(self, query: Query, params: Params) -> int:
        rowcount: int = (await self._run(query, "execute", params)).rowcount
        return rowcount

    async def insert(self, query: Query, params: Params) -> int:
        lastrowid: int = (await self._run(query, "insert", params)).lastrowid
        return lastrowid

    async def lookup(self, query: Query, key: int) -> Row | None:
        rows = await self.all(query, id_list((key,)))
        return rows[0] if rows else None


class Database:
    """Connection pools, one per database server, and statements run on them.

    Several servers are equivalent nodes of one cluster (Galera): every statement goes to the
    current one, the first in the list at start. When it refuses a connection, the next in the
    list that gives one becomes current; when it says it is not ready (a node cut off from the
    cluster), the next becomes current at once. The current server stays current until it fails
    in turn: no fail-back, so a recovering node is not hit while it catches up.

    The query methods each run one autocommitted statement: a read whose connection dies under it
    runs once more on a fresh connection (so a restarted or failed-over server costs no error); a
    write the database rolled back for a conflict, or a node refused, runs again, with backoff. A
    write whose connection died is never run again: it may have taken effect."""

    def __init__(
        self,
        servers: Sequence[tuple[str, Pool]],
        *,
        acquire_timeout: float,
        statement_timeout: float = 0.0,
        conflict_retries: int = 3,
        driver: drivers.Driver | None = None,
    ) -> None:
        if not servers:
            raise ValueError("Database needs at least one server")
        self._pools = [pool for _, pool in servers]
        self._names = {pool: name for name, pool in servers}
        self.pool: Pool = self._pools[0]  # the current server's pool (/metrics samples it)
        self._acquire_timeout = acquire_timeout
        self._limit = statement_timeout + _CLIENT_GRACE if statement_timeout > 0 else None
        self._retries = conflict_retries
        self._loop = asyncio.get_running_loop()
        self._logged: dict[Pool, float] = {}
        self._coalescers: dict[str, Coalescer] = {}
        # Turns at a connection, first come first served: a pool's own wait lets a newcomer take the
        # connection just released ahead of the waiters, and under load some then wait for seconds.
        # With no more turns than connections, nobody waits inside the pool.
        self._turns = asyncio.Semaphore(self.pool.maxsize)
        self._driver = driver or drivers.load("aiomysql")
        self._errors = self._driver.errors
        # What a failed pool acquire raises: no connection from that server. Both drivers raise
        # RuntimeError("Transport does not expose socket instance") when, on uvloop, the server
        # resets the socket before the handshake sets keep-alive (a server killed under load does).
        self._connect_errors: tuple[type[Exception], ...] = (*self._errors, RuntimeError)

    @classmethod
    def open(cls, settings: Settings) -> Database:
        """Make the pools without connecting, so the service starts (not ready) while the database is down."""
        db = settings.database
        driver = drivers.load(settings.db_driver)
        servers = [
            (
                f"{host}:{port}",
                driver.make_pool(
                    minsize=settings.pool_min,
                    maxsize=settings.pool_max,
                    pool_recycle=settings.pool_recycle,
                    host=host,
                    port=port,
                    user=db.user,
                    password=db.password,
                    database=db.database,
                    charset="utf8mb4",
                    autocommit=True,
                    connect_timeout=settings.db_connect_timeout,
                    init_command=session_setup(settings.statement_timeout),
                ),
            )
            for host, port in db.hosts
        ]
        return cls(
            servers,
            acquire_timeout=settings.pool_acquire_timeout,
            statement_timeout=settings.statement_timeout,
            conflict_retries=settings.conflict_retries,
            driver=driver,
        )

    @property
    def driver(self) -> str:
        return self._driver.name

    @property
    def server(self) -> str:
        """host:port of the current server."""
        return self._names[self.pool]

    async def close(self) -> None:
        for pool in self._pools:
            pool.close()
        await asyncio.gather(*(pool.wait_closed() for pool in self._pools))

    # -- connections and fail-over --

    def _no_connection(self) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"No database connection came free within {self._acquire_timeout:g} s; retry shortly."
        )

    def _after(self, pool: Pool) -> list[Pool]:
        """The other servers' pools, in list order starting after `pool`'s, wrapping around."""
        at = self._pools.index(pool)
        return self._pools[at + 1 :] + self._pools[:at]

    def _make_current(self, pool: Pool, instead_of: Pool, why: object) -> None:
        if self.pool is instead_of:
            self.pool = pool
            log.warning("database server %s failed (%s); now using %s", self._names[instead_of], why, self.server)

    async def _fail_over(self, failed: Pool, exc: Exception) -> tuple[Pool, Connection]:
        """`failed` gave no connection: take one from the next server that gives one, and make it current."""
        for pool in self._after(failed):
            try:
                conn = await pool.acquire()
            except self._connect_errors:
                continue
            self._make_current(pool, failed, exc)
            return pool, conn
        now = self._loop.time()
        if now - self._logged.get(failed, -_LOG_EVERY) >= _LOG_EVERY:
            self._logged[failed] = now
            log.warning("no database server gives a connection (%s: %s)", self._names[failed], exc)
        raise ServiceUnavailable("The database is unavailable; retry shortly.") from exc

    def _avoid(self, pool: Pool, why: object) -> None:
        """`pool`'s server answers but is not ready: the next one becomes current."""
        if len(self._pools) > 1:
            self._make_current(self._after(pool)[0], pool, why)

    async def _take(self) -> tuple[Pool, Connection]:
        """A turn, then a connection (failing over if the current server gives none); the caller
        gives back both with _give_back, and awaits this within the acquire timeout. Holds no turn if it fails."""
        await self._turns.acquire()
        pool = self.pool
        try:
            try:
                return pool, await pool.acquire()
            except self._connect_errors as exc:
                return await self._fail_over(pool, exc)
        except BaseException:
            self._turns.release()
            raise

    def _give_back(self, pool: Pool, conn: Connection) -> None:
        """The connection and the turn that _take gave."""
        pool.release(conn)
        self._turns.release()

    async def _connection(self) -> tuple[Pool, Connection]:
        try:
            async with asyncio.timeout(self._acquire_timeout):
                return await self._take()
        except TimeoutError:
            raise self._no_connection() from None

    async def _once(self, query: Query, params: Params) -> Cursor:
        """One autocommitted statement on a pooled connection; the cursor holds its (buffered) result.

        The hot path: one pool acquire, one round trip, one timer (rescheduled from the acquire
        timeout to the statement's limit)."""
        pool = self.pool
        conn = None
        try:
            async with asyncio.timeout(self._acquire_timeout) as deadline:
                pool, conn = await self._take()
                deadline.reschedule(None if self._limit is None else self._loop.time() + self._limit)
                cursor = self._driver.cursor_class(conn)
                await cursor.execute(query.sql, params)
                return cursor
        except TimeoutError:
            if conn is None:
                raise self._no_connection() from None
            conn.close()
            raise _no_answer() from None
        except self._errors as exc:
            mapped = _domain_error(self._driver, exc, conn)
            if mapped is None:
                raise
            if isinstance(mapped, ServerNotReady):
                self._avoid(pool, exc)
            raise mapped from exc
        finally:
            if conn is not None:
                self._give_back(pool, conn)

    async def _run_again(self, attempt: Callable[[], Awaitable[T]], error: ServiceUnavailable) -> T:
        """Run `attempt` again after the database rolled it back (a conflict) or refused it (a node
        not ready; the next one is current now): up to `conflict_retries` more times, each after a
        jittered exponential backoff; the last error if they all fail."""
        for retry in range(1, self._retries + 1):
            log.info("database: %s; retry %d of %d", error.__cause__ or error, retry, self._retries)
            await asyncio.sleep(_backoff(retry))
            try:
                return await attempt()
            except _RUN_AGAIN as exc:
                error = exc
        raise error

    # -- sessions and transactions --

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        pool, conn = await self._connection()
        try:
            yield Session(conn, self._limit, self._driver)
        finally:
            self._give_back(pool, conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A session inside BEGIN ... COMMIT; any exception, a failed COMMIT included, rolls back.
        Not retried: a transaction to be retried on conflicts goes through run_in_transaction()."""
        async with self.session() as session:
            conn = session._conn
            await session._guarded(conn.begin())
            try:
                yield session
                await session._guarded(conn.commit())
            except BaseException:
                # A failed rollback leaves the connection mid-transaction; the pool then closes it.
                with suppress(Exception):
                    async with asyncio.timeout(self._limit):
                        await conn.rollback()
                raise

    async def run_in_transaction(self, fn: Callable[[Session], Awaitable[T]]) -> T:
        """`await fn(session)` inside BEGIN ... COMMIT, and its result. When the database rolls the
        transaction back for a conflict (deadlock, lock wait timeout, a cluster's certification
        failure at COMMIT), or a cluster node refuses it, the whole of it runs again, so `fn` must
        do nothing but run statements on the session. Other errors roll back and propagate."""
        try:
            return await self._transaction_once(fn)
        except _RUN_AGAIN as exc:
            return await self._run_again(partial(self._transaction_once, fn), exc)

    async def _transaction_once(self, fn: Callable[[Session], Awaitable[T]]) -> T:
        async with self.transaction() as session:
            return await fn(session)

    # -- one autocommitted statement --

    async def _read(self, query: Query, kind: str, params: Params) -> Cursor:
        if query.kind != kind:
            raise _wrong_kind(query, kind)
        try:
            return await self._once(query, params)
        except ConnectionLost:  # a read is safe to run again; on a fresh connection
            return await self._once(query, params)

    async def _write(self, query: Query, kind: str, params: Params) -> Cursor:
        if query.kind != kind:
            raise _wrong_kind(query, kind)
        try:
            return await self._once(query, params)
        except _RUN_AGAIN as exc:  # rolled back or refused, so safe to run again
            return await self._run_again(partial(self._once, query, params), exc)

    async def one(self, query: Query, params: Params) -> Row | None:
        row: Row | None = await (await self._read(query, "one", params)).fetchone()
        return row

    async def value(self, query: Query, params: Params) -> Any:
        row = await (await self._read(query, "value", params)).fetchone()
        return None if row is None else row[0]

    async def all(self, query: Query, params: Params) -> list[Row]:
        return list(await (await self._read(query, "all", params)).fetchall())

    async def execute(self, query: Query, params: Params) -> int:
        rowcount: int = (await self._write(query, "execute", params)).rowcount
        return rowcount

    async def insert(self, query: Query, params: Params) -> int:
        lastrowid: int = (await self._write(query, "insert", params)).lastrowid
        return lastrowid

    async def lookup(self, query: Query, key: int) -> Row | None:
        """The row of id `key` from `query`: an "all" query over the ids in `%(ids)s` (id_list) whose
        first column is the id. Lookups made together run as one statement (coalescing.py)."""
        coalescer = self._coalescers.get(query.name)
        if coalescer is None:
            coalescer = self._coalescers[query.name] = Coalescer(partial(self._all_of, query))
        return await coalescer.get(key)

    async def _all_of(self, query: Query, ids: tuple[int, ...]) -> list[Row]:
        return await self.all(query, id_list(ids))
