"""The database dies (kill -9) under load and comes back: a real `blogsvc serve` against a private
MariaDB answers 503 problem documents while it is gone, never a 500, and serves again within 5 s of
its return without a restart; every write it acknowledged is there afterwards."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING

import httpx
import msgspec
import pytest

from blogsvc.db import migrate
from tests.e2e_server import Server
from tests.helpers import assert_problem, new_user_body
from tests.resilience.load import Load
from tests.resilience.private_mariadb import PrivateMariaDB

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from blogsvc.config import Settings

RECOVERY_SECONDS = 5.0  # the promise: everything succeeds again this long after the database returns
DOWN_SECONDS = 2.0


@pytest.fixture(scope="module")
def private_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateMariaDB]:
    db = PrivateMariaDB(tmp_path_factory.mktemp("mariadb"), f"blogsvc_outage_{secrets.token_hex(3)}")
    db.start()
    try:
        migrate.apply(db.url)
        yield db
    finally:
        db.stop()


async def test_database_killed_and_restarted_under_load(
    private_db: PrivateMariaDB, settings: Settings, tmp_path: Path
) -> None:
    server = Server(
        msgspec.structs.replace(settings, database=private_db.url),
        tmp_path / "serve.log",
        BLOGSVC_POOL_ACQUIRE_TIMEOUT="1",
        BLOGSVC_DB_CONNECT_TIMEOUT="1",
        BLOGSVC_READINESS_TIMEOUT="1",
        BLOGSVC_DRAIN_DELAY="0",
    )
    try:
        await asyncio.to_thread(server.wait_until_healthy)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            author = (await http.post("/users", json=new_user_body())).json()
            assert (await http.get("/readyz")).status_code == 200
            load = Load(http, author["id"])
            load.start()
            await asyncio.sleep(1.0)

            killed_at = time.monotonic()
            await asyncio.to_thread(private_db.kill)
            await asyncio.sleep(0.3)
            # Down: not ready, alive, and a database route answers a 503 problem document with Retry-After.
            not_ready = await http.get("/readyz")
            alive = await http.get("/healthz")
            read = await http.get(f"/users/{author['id']}")
            await asyncio.sleep(max(0.0, killed_at + DOWN_SECONDS - time.monotonic()))

            await asyncio.to_thread(private_db.start)
            back_at = time.monotonic()
            while not await load.all_succeed():
                assert time.monotonic() - back_at < RECOVERY_SECONDS, "not serving 5 s after the database returned"
                await asyncio.sleep(0.05)
            recovered_at = time.monotonic()
            await asyncio.sleep(1.5)  # the load goes on: from recovery on, nothing may fail again
            await load.stop()
        log = server.output()
        assert server.process.poll() is None, f"blogsvc exited:\n{log}"  # one process, never restarted
    finally:
        server.stop()

    assert_problem(not_ready, 503)
    assert alive.status_code == 200
    assert_problem(read, 503)
    assert read.headers["retry-after"].isdigit()

    failures = load.assert_only_successes_and_503_problems(log)
    assert failures, "the outage produced no 503 at all, so this test proved nothing"
    # Everything succeeded before the kill, and from the recovery (within 5 s of the return) on.
    before = [a for a in load.answers if a.finished < killed_at]
    after = [a for a in load.answers if a.started >= recovered_at]
    assert len(before) > 20 and len(after) > 20, (len(before), len(after))
    assert all(a.ok for a in before + after), [a for a in before + after if not a.ok]

    # Every acknowledged write is there, as acknowledged, from both sides of the outage.
    created = [a for a in load.answers if a.what == "create-article" and a.ok]
    assert any(a.finished < killed_at for a in created) and any(a.started > back_at for a in created)
    assert load.users
    conn = private_db.connect()
    try:
        load.assert_acknowledged_writes_stored(conn)
    finally:
        conn.close()
