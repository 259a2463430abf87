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


async def test_past_the_concurrency_limit_a_worker_answers_503_but_never_to_its_probes(
    settings: Settings, tmp_path: Path
) -> None:
    # The limit counts requests in progress (here two long polls), not open connections, and the probes
    # are never turned away (http/server_protocol.py).
    server = Server(settings, tmp_path / "serve.log", BLOGSVC_LIMIT_CONCURRENCY="2", BLOGSVC_DRAIN_DELAY="0")
    try:
        await asyncio.to_thread(server.wait_until_healthy)
        idle = [httpx.AsyncClient(base_url=server.base_url) for _ in range(5)]
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            for client in idle:  # five open connections, idle: no request in progress
                assert (await client.get("/healthz")).status_code == 200
            assert (await http.get("/users")).status_code == 200
            head = 0
            while (page := (await http.get("/events", params={"after": head, "limit": 1000})).json())["data"]:
                head = page["next_after"]  # the newest event: a poll after it waits
            polls = [asyncio.create_task(http.get("/events", params={"after": head, "wait": 3})) for _ in range(2)]
            await asyncio.sleep(0.5)  # both are waiting in the worker
            async with httpx.AsyncClient(base_url=server.base_url) as third:
                refused = await third.get("/users")
                body = assert_problem(refused, 503)
                assert refused.headers["retry-after"] == "1"
                assert refused.headers["connection"] == "close"
                assert "busy" in body["detail"]
                for probe in ("/healthz", "/readyz"):
                    assert (await third.get(probe)).status_code == 200, probe
            assert [p.status_code for p in await asyncio.gather(*polls)] == [200, 200]
            assert (await http.get("/users")).status_code == 200  # free again
            metrics = (await http.get("/metrics")).text
            assert 'blogsvc_connections_closed_total{reason="overloaded"} 1.0' in metrics, metrics
        for client in idle:
            await client.aclose()
    finally:
        server.stop()
