"""Prometheus metrics at /metrics: requests by route template and status (the names of Litestar's
plugin), and the database pool. With several workers, `blogsvc serve` sets PROMETHEUS_MULTIPROC_DIR so every worker's
figures are summed in whichever worker answers the scrape."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge, Histogram

from blogsvc.ops.background import in_background
from blogsvc.ops.logs import log_connection_closed

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from blogsvc.db.cluster import Database

# livesum: the sum over live worker processes.
POOL_CONNECTIONS = Gauge(
    "blogsvc_db_pool_connections",
    "Database connections held by the pools, by state.",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge("blogsvc_db_pool_max", "Most connections the pools may hold.", multiprocess_mode="livesum")
_POOL_SAMPLE_SECONDS = 1.0

_APP = "blogsvc"
# The names and labels Litestar's Prometheus plugin uses, recorded by http/edge.py in the one layer
# every request passes (a route middleware would cost a layer and an exception handler per route).
_ROUTE_LABELS = ("method", "path", "status_code", "app_name")
REQUESTS = Counter("blogsvc_requests_total", "Total requests", _ROUTE_LABELS)
DURATION = Histogram("blogsvc_request_duration_seconds", "Request duration, in seconds", _ROUTE_LABELS)
ERRORS = Counter("blogsvc_requests_error_total", "Total errors in requests", _ROUTE_LABELS)
# By method only: the route is not known until the router has run.
IN_PROGRESS = Gauge(
    "blogsvc_requests_in_progress",
    "Total requests currently in progress",
    ("method", "app_name"),
    multiprocess_mode="livesum",
)
CONNECTIONS_CLOSED = Counter(
    "blogsvc_connections_closed_total",
    "Connections the server closed for a limit (header_timeout, body_timeout, headers_too_large, "
    "too_many_headers, bad_request) and requests it turned away (overloaded), by reason.",
    ["reason"],
)


def connection_closed(reason: str, status: int) -> None:
    """What the server protocol reports (http/server_protocol.py): counted, and a line in the access log."""
    CONNECTIONS_CLOSED.labels(reason).inc()
    log_connection_closed(reason, status)


class RouteMetrics:
    """Requests by method, route template and status. The labelled series are looked up once per
    combination and kept: labels() is most of what recording would cost."""

    def __init__(self) -> None:
        self._in_progress: dict[str, Any] = {}
        self._series: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def in_progress(self, method: str) -> Any:
        if (gauge := self._in_progress.get(method)) is None:
            gauge = self._in_progress[method] = IN_PROGRESS.labels(method, _APP)
        return gauge

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        if (series := self._series.get((method, route, status))) is None:
            labels = (method, route, status, _APP)
            series = REQUESTS.labels(*labels), DURATION.labels(*labels), ERRORS.labels(*labels)
            self._series[method, route, status] = series
        count, duration, errors = series
        count.inc()
        duration.observe(seconds)
        if status >= 500:
            errors.inc()


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

    async with in_background(sample()):
        yield
