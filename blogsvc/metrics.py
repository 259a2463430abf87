"""Prometheus metrics at /metrics: requests by route template and status (Litestar's plugin), and the
database pool. With several workers, `blogsvc serve` sets PROMETHEUS_MULTIPROC_DIR so every worker's
figures are summed in whichever worker answers the scrape."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, ClassVar, cast

from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from prometheus_client import Gauge

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar.types import HTTPScope, Message, Receive, Scope, Send

    from blogsvc.db import Database

# livesum: the sum over live worker processes.
POOL_CONNECTIONS = Gauge(
    "blogsvc_db_pool_connections",
    "Database connections held by the pools, by state.",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge("blogsvc_db_pool_max", "Most connections the pools may hold.", multiprocess_mode="livesum")
_POOL_SAMPLE_SECONDS = 1.0


class RouteMetricsMiddleware(PrometheusMiddleware):
    """Litestar's Prometheus middleware, with its metrics and labels, minus most of its per-request work:
    no Request object, and the labelled series looked up once per (method, route, status) and kept."""

    _series: ClassVar[dict[tuple[str, str, int], tuple[Any, Any, Any]]] = {}
    _in_progress: ClassVar[dict[tuple[str, str], Any]] = {}

    def _labels(self, method: str, route: str, status: int) -> dict[str, str | int | float]:
        return {"method": method, "path": route, "status_code": status, "app_name": self._config.app_name}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, route = cast("HTTPScope", scope)["method"], scope["path_template"]
        if (in_progress := self._in_progress.get((method, route))) is None:
            labels = self._labels(method, route, 200)
            in_progress = self.requests_in_progress(labels).labels(*labels.values())
            self._in_progress[method, route] = in_progress
        status = 500

        async def send_capturing_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        in_progress.inc()
        try:
            await self.app(scope, receive, send_capturing_status)
        finally:
            in_progress.dec()
            count, duration, errors = self._series_for(method, route, status)
            count.inc()
            duration.observe(time.perf_counter() - started)
            if status >= 500:
                errors.inc()

    def _series_for(self, method: str, route: str, status: int) -> tuple[Any, Any, Any]:
        if (series := self._series.get((method, route, status))) is None:
            labels = self._labels(method, route, status)
            values = labels.values()
            series = (
                self.request_count(labels).labels(*values),
                self.request_time(labels).labels(*values),
                self.requests_error_count(labels).labels(*values),
            )
            self._series[method, route, status] = series
        return series


prometheus_config = PrometheusConfig(
    app_name="blogsvc",
    prefix="blogsvc",
    group_path=True,
    middleware_class=RouteMetricsMiddleware,
    scopes={ScopeType.HTTP},
)


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


@contextlib.asynccontextmanager
async def pool_gauges(db: Database) -> AsyncIterator[None]:
    """Sample the pool into the gauges every second while the app runs."""

    async def sample() -> None:
        while True:
            pool = db.pool
            idle = pool.freesize
            POOL_CONNECTIONS.labels("in_use").set(pool.size - idle)
            POOL_CONNECTIONS.labels("idle").set(idle)
            POOL_MAX.set(pool.maxsize)
            await asyncio.sleep(_POOL_SAMPLE_SECONDS)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
