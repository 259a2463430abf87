"""Readiness, and draining on SIGTERM: /readyz turns 503 before the server stops."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Any

from litestar import get
from litestar.datastructures import State  # noqa: TC002  (Litestar reads handler signatures at run time)

from blogsvc.db.migrate import shipped_migrations
from blogsvc.db.queries import load_queries
from blogsvc.errors import ServiceUnavailable
from blogsvc.http.problems import BAD_HOST, problem_responses
from blogsvc.ops.docs import Health

if TYPE_CHECKING:
    from collections.abc import Callable

    from blogsvc.db.cluster import Database

log = logging.getLogger("blogsvc.health")
_APPLIED_MIGRATIONS = load_queries("service").take("applied_migrations")


class Lifecycle:
    """What readiness needs to know besides the database: are we shutting down, which schema we expect."""

    def __init__(self, readiness_timeout: float) -> None:
        self.draining = False
        self.readiness_timeout = readiness_timeout
        self.expected_migrations = frozenset(shipped_migrations())
        self._on_drain: list[Callable[[], None]] = []

    def on_drain(self, callback: Callable[[], None]) -> None:
        """Call `callback` (in the event loop) when draining begins: what would hold the shutdown up lets go."""
        self._on_drain.append(callback)

    def drain_on_sigterm(self, delay: float) -> None:
        """On SIGTERM, report not ready at once, and pass the signal on to uvicorn `delay` seconds later,
        so load balancers stop sending traffic before the server stops accepting it. Call inside uvicorn's
        serve loop (the lifespan), after it has installed its own handler. A second SIGTERM stops at once."""
        uvicorn_handler = signal.getsignal(signal.SIGTERM)
        if not callable(uvicorn_handler):
            return
        loop = asyncio.get_running_loop()

        def on_sigterm(signum: int, frame: Any) -> None:
            if self.draining:
                uvicorn_handler(signum, frame)
                return
            self.draining = True
            log.info("SIGTERM: draining for %.3g s, then finishing in-flight requests", delay)
            for callback in self._on_drain:
                loop.call_soon_threadsafe(callback)
            loop.call_soon_threadsafe(loop.call_later, delay, uvicorn_handler, signum, None)

        signal.signal(signal.SIGTERM, on_sigterm)


@get("/readyz", operation_id="getReadiness", tags=["service"], responses={400: BAD_HOST, **problem_responses()})
async def readyz(state: State) -> Health:
    """Check readiness. 200 when the database answers and its schema is at the latest migration; 503
    otherwise, and from the moment shutdown begins."""
    lifecycle: Lifecycle = state.lifecycle
    db: Database = state.db
    if lifecycle.draining:
        raise ServiceUnavailable("Shutting down.")
    try:
        async with asyncio.timeout(lifecycle.readiness_timeout):
            applied = {row[0] for row in await db.all(_APPLIED_MIGRATIONS, {})}
    except (TimeoutError, ServiceUnavailable):
        raise ServiceUnavailable("The database does not answer.") from None
    except Exception:  # e.g. no migration table yet
        log.warning("readiness check failed", exc_info=True)
        raise ServiceUnavailable("The database schema cannot be read.") from None
    if missing := lifecycle.expected_migrations - applied:
        raise ServiceUnavailable(f"The database schema lacks migrations {sorted(missing)}; run `blogsvc migrate`.")
    return Health(status="ready")
