"""Running under orchestration: readiness, draining on SIGTERM, metrics across workers, request ids and logs."""

from __future__ import annotations

import gc
import json
import logging
import re
import secrets
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pymysql
import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from blogsvc.app import app_from_env, create_app
from tests.e2e_server import Server
from tests.helpers import assert_problem, new_user_body

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from litestar import Litestar

    from blogsvc.config import Settings


# ---- readiness ----


async def test_ready_when_the_database_answers_and_is_migrated(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready"}


@pytest.fixture
def empty_database(settings: Settings) -> Iterator[Settings]:
    """Settings for a database that exists but has no migrations applied."""
    name = f"blogsvc_empty_{secrets.token_hex(4)}"
    url = settings.database
    conn = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password, autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    try:
        yield msgspec.structs.replace(settings, database=url.with_database(name))
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE `{name}`")
        conn.close()


async def test_not_ready_before_migrations(empty_database: Settings) -> None:
    async with AsyncTestClient(create_app(empty_database)) as client:
        assert_problem(await client.get("/readyz"), 503)
        assert (await client.get("/healthz")).status_code == 200


async def test_not_ready_without_a_database(settings: Settings) -> None:
    nowhere = msgspec.structs.replace(
        settings,
        database=settings.database.with_database("blogsvc").__class__(
            user="root", password="", host="127.0.0.1", port=1, database="blogsvc"
        ),
    )
    async with AsyncTestClient(create_app(nowhere)) as client:
        body = assert_problem(await client.get("/readyz"), 503)
        assert "database" in body["detail"]
        assert (await client.get("/healthz")).status_code == 200
        # Every database route degrades the same way: a 503 problem document with Retry-After.
        down = await client.get("/users")
        assert_problem(down, 503)
        assert down.headers["retry-after"].isdigit()


# ---- request ids and logs ----


async def test_request_id_is_echoed_or_made(client: AsyncTestClient[Litestar]) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "caller-id-123"})
    assert given.headers["x-request-id"] == "caller-id-123"
    made, again = await client.get("/healthz"), await client.get("/healthz")
    assert made.headers["x-request-id"] != again.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{24,}", made.headers["x-request-id"])
    # An id that could forge log lines is replaced, not echoed; unrouted requests get one too.
    forged = await client.get("/nowhere", headers={"X-Request-ID": "x\ty"})
    assert forged.status_code == 404
    assert re.fullmatch(r"[0-9a-f]{24,}", forged.headers["x-request-id"])


def _access_lines(logged: str) -> list[dict[str, Any]]:
    """The access log lines (JSON, on stderr) among what was logged."""
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "blogsvc.access"]


async def test_one_access_line_per_request_with_route_template(
    client: AsyncTestClient[Litestar], capfd: pytest.CaptureFixture[str]
) -> None:
    created = (await client.post("/users", json=new_user_body())).json()
    await client.get(f"/users/{created['id']}", headers={"X-Request-ID": "trace-me"})
    (line,) = [line for line in _access_lines(capfd.readouterr().err) if line.get("request_id") == "trace-me"]
    assert line["method"] == "GET"
    assert line["route"] == "/users/{user_id}"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


async def test_no_password_hash_or_authorization_in_any_log_line(
    client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    password, new_password = f"pw-{secrets.token_hex(8)}", f"pw-{secrets.token_hex(8)}"
    token = f"tok-{secrets.token_hex(8)}"
    with caplog.at_level(logging.DEBUG):
        body = new_user_body(password=password)
        user = (await client.post("/users", json=body, headers={"Authorization": f"Bearer {token}"})).json()
        await client.post("/auth/verify", json={"email": body["email"], "password": password})
        await client.post("/auth/verify", json={"email": body["email"], "password": "wrong-" + password})
        await client.patch(f"/users/{user['id']}", json={"password": new_password})
        await client.post("/users", json={"email": "not-an-address", "password": password})
    logged = capfd.readouterr().err + caplog.text + "".join(str(r.msg) + str(r.args) for r in caplog.records)
    assert _access_lines(logged), "nothing was logged, so this test proves nothing"
    for secret in (password, new_password, token, "$argon2"):
        assert secret not in logged


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_an_unexpected_error_is_logged_with_traceback_but_not_sent(settings: Settings) -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("kaboom in the handler")

    app = create_app(settings)
    app.register(boom)
    collect = _Collect()
    logging.getLogger("blogsvc.errors").addHandler(collect)
    try:
        async with AsyncTestClient(app) as client:
            response = await client.get("/boom")
    finally:
        logging.getLogger("blogsvc.errors").removeHandler(collect)
    body = assert_problem(response, 500)
    assert "kaboom" not in response.text and "Traceback" not in response.text
    assert body["type"].endswith("internal-error")
    (record,) = [r for r in collect.records if r.exc_info]
    assert "kaboom in the handler" in str(record.exc_info[1])


# ---- a real server: draining and metrics ----


def _post_user(base_url: str, results: list[int]) -> None:
    response = httpx.post(f"{base_url}/users", json=new_user_body(), timeout=30)
    results.append(response.status_code)


def test_sigterm_drains_without_dropping_requests(settings: Settings, tmp_path: Path) -> None:
    # Costly hashes, one at a time: the creates are still running when SIGTERM arrives.
    server = Server(
        settings,
        tmp_path / "serve.log",
        BLOGSVC_ARGON2_TIME_COST="6",
        BLOGSVC_ARGON2_MEMORY_KIB="65536",
        BLOGSVC_HASH_CONCURRENCY="1",
        BLOGSVC_DRAIN_DELAY="1.5",
    )
    try:
        server.wait_until_healthy()
        assert httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 200
        results: list[int] = []
        clients = [threading.Thread(target=_post_user, args=(server.base_url, results)) for _ in range(4)]
        for thread in clients:
            thread.start()
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # Draining: not ready, still alive, still serving.
        assert httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 503
        assert httpx.get(f"{server.base_url}/healthz", timeout=5).status_code == 200
        for thread in clients:
            thread.join(timeout=60)
        assert results == [201] * 4, f"{results}\n{server.output()}"
        assert server.process.wait(timeout=30) == 0, server.output()
    finally:
        server.stop()


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_sum_over_workers(settings: Settings, tmp_path: Path) -> None:
    server = Server(settings, tmp_path / "serve.log", workers=2, BLOGSVC_DRAIN_DELAY="0")
    try:
        server.wait_until_healthy()
        with httpx.Client(base_url=server.base_url, timeout=5) as http:
            user = http.post("/users", json=new_user_body()).json()
            for _ in range(20):  # new connections, so both workers get some
                assert httpx.get(f"{server.base_url}/users/{user['id']}", timeout=5).status_code == 200
            time.sleep(1.5)  # the pool gauges are sampled every second
            for _ in range(3):  # whichever worker answers, the figures are the sum over both
                text = http.get("/metrics").text
                labels = {"method": "GET", "path": "/users/{user_id}", "status_code": "200"}
                assert _metric(text, "blogsvc_requests_total", **labels) == 20
                assert _metric(text, "blogsvc_request_duration_seconds_count", **labels) == 20
                assert _metric(text, "blogsvc_db_pool_connections", state="idle") >= 1
    finally:
        server.stop()


def test_a_served_worker_freezes_what_start_up_made() -> None:
    """So that full collections skip it (they took 30 ms each and made reads' p99): frozen after the
    lifespan has opened the pool, as the last start-up hook."""
    assert app_from_env().on_startup[-1] is gc.freeze
