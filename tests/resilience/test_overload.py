"""Overload on a real `blogsvc serve`: every pooled connection busy, and more connections than the
server takes at once. Either way a request gets a quick 503, never a hang."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx
import pymysql

from tests.e2e_server import Server
from tests.helpers import assert_problem, new_user_body

if TYPE_CHECKING:
    from pathlib import Path

    from blogsvc.config import Settings

ACQUIRE_TIMEOUT = 0.5
SLACK = 2.0  # beyond the configured wait: scheduling, a loaded machine


def _busy_connections(settings: Settings, user_id: int) -> int:
    """Connections of the test database waiting for the lock on the user's row."""
    url = settings.database
    conn = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s AND INFO LIKE 'UPDATE users%%'",
                (url.database,),
            )
            (count,) = cursor.fetchone()
            return int(count)
    finally:
        conn.close()


async def test_with_every_connection_busy_a_request_gets_503_within_the_acquire_timeout(
    settings: Settings, db_conn: pymysql.connections.Connection, tmp_path: Path
) -> None:
    server = Server(
        settings,
        tmp_path / "serve.log",
        BLOGSVC_POOL_MIN="0",
        BLOGSVC_POOL_MAX="2",
        BLOGSVC_POOL_ACQUIRE_TIMEOUT=str(ACQUIRE_TIMEOUT),
        BLOGSVC_DRAIN_DELAY="0",
    )
    try:
        await asyncio.to_thread(server.wait_until_healthy)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            user = (await http.post("/users", json=new_user_body())).json()
            # Lock the user's row from outside: two PATCHes wait for it, holding both pooled connections.
            db_conn.begin()
            try:
                with db_conn.cursor() as cursor:
                    cursor.execute("SELECT id FROM users WHERE id = %s FOR UPDATE", (user["id"],))
                patches = [
                    asyncio.create_task(http.patch(f"/users/{user['id']}", json={"city": city}))
                    for city in ("Oslo", "Lima")
                ]
                deadline = time.monotonic() + 10
                while await asyncio.to_thread(_busy_connections, settings, user["id"]) < 2:
                    assert time.monotonic() < deadline, server.output()
                    await asyncio.sleep(0.02)
                started = time.monotonic()
                response = await http.get(f"/users/{user['id']}")
                waited = time.monotonic() - started
            finally:
                db_conn.rollback()
            body = assert_problem(response, 503)
            assert response.headers["retry-after"].isdigit()
            assert f"came free within {ACQUIRE_TIMEOUT:g} s" in body["detail"]
            assert waited <= ACQUIRE_TIMEOUT + SLACK
            # The waiting writes were not disturbed, and the pool serves again.
            assert [r.status_code for r in await asyncio.gather(*patches)] == [200, 200]
            assert (await http.get(f"/users/{user['id']}")).status_code == 200
    finally:
        server.stop()


def test_past_the_concurrency_limit_uvicorn_answers_503(settings: Settings, tmp_path: Path) -> None:
    # Uvicorn counts open connections too: with a limit of 2, a second open connection is one too many.
    server = Server(settings, tmp_path / "serve.log", BLOGSVC_LIMIT_CONCURRENCY="2", BLOGSVC_DRAIN_DELAY="0")
    try:
        server.wait_until_healthy()
        with (
            httpx.Client(base_url=server.base_url, timeout=5) as first,
            httpx.Client(base_url=server.base_url) as second,
        ):
            assert first.get("/healthz").status_code == 200  # the first connection stays open
            refused = second.get("/healthz")
            assert refused.status_code == 503
            assert refused.headers["connection"] == "close"
            # The refused connection counts until the server has closed it (a moment after the 503 under
            # load); from then on, the first one is served again.
            deadline = time.monotonic() + 5
            while (status := first.get("/healthz").status_code) != 200:
                assert time.monotonic() < deadline, status
                time.sleep(0.05)
        # Both connections closed: served again.
        deadline = time.monotonic() + 5
        while (status := httpx.get(f"{server.base_url}/healthz", timeout=5).status_code) != 200:
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
    finally:
        server.stop()
