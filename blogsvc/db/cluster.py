"""The Database: statements and transactions on the current server's pool (servers.py), with the retries
that are safe, and point reads made together run as one statement (coalescing.py)."""

from __future__ import annotations

import asyncio
import logging
import random
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from blogsvc import spans
from blogsvc.db import drivers
from blogsvc.db.coalescing import Coalescer
from blogsvc.db.errors import from_driver_error, no_answer
from blogsvc.db.executor import Cursor, Executor, Params, Row, id_list
from blogsvc.db.servers import Connection, Pool, Servers
from blogsvc.db.session import Session, session_setup
from blogsvc.errors import ConnectionLost, ServerNotReady, ServiceUnavailable, TransientConflict

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

    from blogsvc.config import Settings
    from blogsvc.db.queries import Query

log = logging.getLogger("blogsvc.db")

# Seconds a statement gets on the client beyond the server's own limit before the client gives
# up on the server (one that vanished without closing its sockets would never answer).
_CLIENT_GRACE = 2.0
# Retries after a conflict wait a random time up to base x 2^n seconds (capped): full jitter, so
# the transactions that collided do not collide again in step.
_BACKOFF_BASE, _BACKOFF_CAP = 0.05, 1.0
# Errors after which a write or a transaction surely did not take effect, so it may run again.
_RUN_AGAIN = (TransientConflict, ServerNotReady)

T = TypeVar("T")


class Database(Executor):
    """Each query method runs one autocommitted statement: a read whose connection dies under it runs
    once more on a fresh connection (so a restarted or failed-over server costs no error); a write the
    database rolled back for a conflict, or a node refused, runs again, with backoff. A write whose
    connection died is never run again: it may have taken effect."""

    def __init__(
        self,
        servers: Sequence[tuple[str, Pool]],
        *,
        acquire_timeout: float,
        statement_timeout: float = 0.0,
        conflict_retries: int = 3,
        driver: drivers.Driver | None = None,
    ) -> None:
        self._driver = driver or drivers.load("aiomysql")
        self._servers = Servers(servers, self._driver)
        self._acquire_timeout = acquire_timeout
        self._limit = statement_timeout + _CLIENT_GRACE if statement_timeout > 0 else None
        self._retries = conflict_retries
        self._loop = asyncio.get_running_loop()
        self._coalescers: dict[str, Coalescer] = {}

    @classmethod
    def open(cls, settings: Settings) -> Database:
        """Make the pools without connecting, so the service starts (not ready) while the database is down."""
        url = settings.database
        driver = drivers.load(settings.db_driver)
        connect = {
            "minsize": settings.pool_min,
            "maxsize": settings.pool_max,
            "pool_recycle": settings.pool_recycle,
            "user": url.user,
            "password": url.password,
            "database": url.database,
            "charset": "utf8mb4",
            "autocommit": True,
            "connect_timeout": settings.db_connect_timeout,
            "init_command": session_setup(settings.statement_timeout),
        }
        servers = [(f"{host}:{port}", driver.make_pool(host=host, port=port, **connect)) for host, port in url.hosts]
        return cls(
            servers,
            acquire_timeout=settings.pool_acquire_timeout,
            statement_timeout=settings.statement_timeout,
            conflict_retries=settings.conflict_retries,
            driver=driver,
        )

    @property
    def pool(self) -> Pool:
        """The current server's pool (/metrics samples it)."""
        return self._servers.current

    @property
    def server(self) -> str:
        """host:port of the current server."""
        return self._servers.name(self._servers.current)

    @property
    def driver(self) -> str:
        return self._driver.name

    async def close(self) -> None:
        await self._servers.close()

    # -- one autocommitted statement --

    async def _once(self, query: Query, params: Params) -> Cursor:
        """One autocommitted statement on a pooled connection; the cursor holds its (buffered) result.

        The hot path: one pool acquire, one round trip, one timer (rescheduled from the acquire
        timeout to the statement's limit)."""
        pool = self._servers.current
        conn: Connection = None
        try:
            async with asyncio.timeout(self._acquire_timeout) as deadline:
                pool, conn = await self._servers.take()
                deadline.reschedule(None if self._limit is None else self._loop.time() + self._limit)
                cursor = self._driver.cursor_class(conn)
                with spans.statement(query.name):
                    await cursor.execute(query.sql, params)
                return cursor
        except TimeoutError:
            if conn is None:
                raise self._no_connection() from None
            conn.close()
            raise no_answer() from None
        except self._driver.errors as exc:
            mapped = from_driver_error(self._driver, exc, conn)
            if mapped is None:
                raise
            if isinstance(mapped, ServerNotReady):
                self._servers.avoid(pool, exc)
            raise mapped from exc
        finally:
            if conn is not None:
                self._servers.give_back(pool, conn)

    async def _read(self, query: Query, params: Params) -> Cursor:
        try:
            return await self._once(query, params)
        except ConnectionLost:  # a read is safe to run again; on a fresh connection
            return await self._once(query, params)

    async def _write(self, query: Query, params: Params) -> Cursor:
        try:
            return await self._once(query, params)
        except _RUN_AGAIN as exc:  # rolled back or refused, so safe to run again
            return await self._run_again(partial(self._once, query, params), exc)

    async def lookup(self, query: Query, key: int) -> Row | None:
        """As Executor.lookup; lookups made together run as one statement (coalescing.py)."""
        coalescer = self._coalescers.get(query.name)
        if coalescer is None:
            coalescer = self._coalescers[query.name] = Coalescer(partial(self._all_of, query))
        return await coalescer.get(key)

    async def _all_of(self, query: Query, ids: tuple[int, ...]) -> list[Row]:
        return await self.all(query, id_list(ids))

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

    def _no_connection(self) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"No database connection came free within {self._acquire_timeout:g} s; retry shortly."
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        try:
            async with asyncio.timeout(self._acquire_timeout):
                pool, conn = await self._servers.take()
        except TimeoutError:
            raise self._no_connection() from None
        try:
            yield Session(conn, self._limit, self._driver)
        finally:
            self._servers.give_back(pool, conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A session inside BEGIN ... COMMIT; any exception, a failed COMMIT included, rolls back.
        Not retried: a transaction to be retried on conflicts goes through run_in_transaction()."""
        async with self.session() as session:
            await session.begin()
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
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


def _backoff(retry: int) -> float:
    return random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2**retry))  # noqa: S311  (jitter, not a secret)
