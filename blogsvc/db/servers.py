"""The connection pools, one per database server, and which server is current.

Several servers are equivalent nodes of one cluster (Galera): every connection comes from the
current one, the first in the list at start. When it refuses a connection, the next in the list
that gives one becomes current; when it says it is not ready (a node cut off from the cluster),
the next becomes current at once. The current server stays current until it fails in turn: no
fail-back, so a recovering node is not hit while it catches up."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from blogsvc.db.errors import unavailable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from blogsvc.db.drivers import Driver

log = logging.getLogger("blogsvc.db")

Pool = Any  # the driver's pool
Connection = Any

# A server that keeps refusing connections is logged at most this often (seconds).
_LOG_EVERY = 10.0


class Servers:
    def __init__(self, servers: Sequence[tuple[str, Pool]], driver: Driver) -> None:
        if not servers:
            raise ValueError("Database needs at least one server")
        self.pools = [pool for _, pool in servers]
        self._names = {pool: name for name, pool in servers}
        self.current: Pool = self.pools[0]
        self._logged: dict[Pool, float] = {}
        # Turns at a connection, first come first served: a pool's own wait lets a newcomer take the
        # connection just released ahead of the waiters, and under load some then wait for seconds.
        # With no more turns than connections, nobody waits inside the pool.
        self._turns = asyncio.Semaphore(self.current.maxsize)
        # What a failed pool acquire raises: no connection from that server. Both drivers raise
        # RuntimeError("Transport does not expose socket instance") when, on uvloop, the server
        # resets the socket before the handshake sets keep-alive (a server killed under load does).
        self._connect_errors: tuple[type[Exception], ...] = (*driver.errors, RuntimeError)

    def name(self, pool: Pool) -> str:
        """host:port of `pool`'s server."""
        return self._names[pool]

    async def take(self) -> tuple[Pool, Connection]:
        """A turn, then a connection (failing over if the current server gives none); the caller
        gives back both with give_back, and bounds the wait. Holds no turn if it fails."""
        await self._turns.acquire()
        pool = self.current
        try:
            try:
                return pool, await pool.acquire()
            except self._connect_errors as exc:
                return await self._fail_over(pool, exc)
        except BaseException:
            self._turns.release()
            raise

    def give_back(self, pool: Pool, conn: Connection) -> None:
        """The connection and the turn that take() gave."""
        pool.release(conn)
        self._turns.release()

    def avoid(self, pool: Pool, why: object) -> None:
        """`pool`'s server answers but is not ready: the next one becomes current."""
        if len(self.pools) > 1:
            self._make_current(self._after(pool)[0], pool, why)

    async def close(self) -> None:
        for pool in self.pools:
            pool.close()
        await asyncio.gather(*(pool.wait_closed() for pool in self.pools))

    def _after(self, pool: Pool) -> list[Pool]:
        """The other servers' pools, in list order starting after `pool`'s, wrapping around."""
        at = self.pools.index(pool)
        return self.pools[at + 1 :] + self.pools[:at]

    def _make_current(self, pool: Pool, instead_of: Pool, why: object) -> None:
        if self.current is instead_of:
            self.current = pool
            log.warning("database server %s failed (%s); now using %s", self.name(instead_of), why, self.name(pool))

    async def _fail_over(self, failed: Pool, exc: Exception) -> tuple[Pool, Connection]:
        """`failed` gave no connection: take one from the next server that gives one, and make it current."""
        for pool in self._after(failed):
            try:
                conn = await pool.acquire()
            except self._connect_errors:
                continue
            self._make_current(pool, failed, exc)
            return pool, conn
        now = asyncio.get_running_loop().time()
        if now - self._logged.get(failed, -_LOG_EVERY) >= _LOG_EVERY:
            self._logged[failed] = now
            log.warning("no database server gives a connection (%s: %s)", self.name(failed), exc)
        raise unavailable() from exc
