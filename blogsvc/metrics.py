"""Prometheus metrics at /metrics: requests by route template and status (Litestar's plugin), and the
database pool. With several workers, `blogsvc serve` sets PROMETHEUS_MULTIPROC_DIR so every worker's
figures are summed in whichever worker answers the scrape."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from prometheus_client import Gauge

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

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

prometheus_config = PrometheusConfig(app_name="blogsvc", prefix="blogsvc", group_path=True)


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
