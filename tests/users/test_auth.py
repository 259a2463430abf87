"""POST /auth/verify and password hashing: one 401 for every failure, case-insensitive lookup,
argon2id hashes re-hashed when their parameters are out of date, no user enumeration by timing,
and hashing that never blocks the event loop."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from litestar.testing import transport as test_transport

from blogsvc.app import create_app
from tests.helpers import assert_problem, new_user_body, unique_email

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import pymysql
    from litestar import Litestar

    from blogsvc.config import Settings

    Client = AsyncTestClient[Litestar]

PASSWORD = "correct horse battery"


@asynccontextmanager
async def app_client(settings: Settings, **changes: Any) -> AsyncIterator[Client]:
    """A client on a second app, on the same database, with some settings changed (e.g. the hasher's)."""
    async with AsyncTestClient(create_app(msgspec.structs.replace(settings, **changes))) as client:
        yield client


async def create_user(client: Client, **fields: Any) -> dict[str, Any]:
    response = await client.post("/users", json=new_user_body(password=PASSWORD, **fields))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def verify(client: Client, email: str, password: str) -> httpx.Response:
    return await client.post("/auth/verify", json={"email": email, "password": password})


def stored_hash(db_conn: pymysql.connections.Connection, user_id: int) -> str:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT password_hash FROM users WHERE id = %s", (user_id,))
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


async def test_right_password_gives_the_user(client: Client) -> None:
    user = await create_user(client, first_name="Alan", city="Wilmslow")
    response = await verify(client, user["email"], PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json() == user
    assert "password" not in response.text and "$argon2" not in response.text


@pytest.mark.parametrize("spelling", [str.upper, str.lower, str.swapcase], ids=["upper", "lower", "swapcase"])
async def test_email_lookup_ignores_case(client: Client, spelling: Any) -> None:
    user = await create_user(client, email=unique_email("Mixed.Case"))
    response = await verify(client, spelling(user["email"]), PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == user["id"]


async def test_every_failure_is_the_same_401(client: Client) -> None:
    wrong_password = await create_user(client)
    deleted = await create_user(client)
    assert (await client.delete(f"/users/{deleted['id']}")).status_code == 204
    inactive = await create_user(client, is_active=False)
    deactivated = await create_user(client)
    assert (await client.patch(f"/users/{deactivated['id']}", json={"is_active": False})).status_code == 200
    attempts = {
        "wrong password": (wrong_password["email"], PASSWORD + "!"),
        "password in another case": (wrong_password["email"], PASSWORD.upper()),
        "unknown email": (unique_email("nobody"), PASSWORD),
        "deleted user": (deleted["email"], PASSWORD),
        "inactive user": (inactive["email"], PASSWORD),
        "deactivated user": (deactivated["email"], PASSWORD),
    }
    bodies = {}
    for why, (email, password) in attempts.items():
        response = await verify(client, email, password)
        bodies[why] = assert_problem(response, 401)
        for leak in ("Traceback", "SELECT", "$argon2", password):
            assert leak not in response.text, why
    first = next(iter(bodies.values()))
    assert all(body == first for body in bodies.values()), bodies


async def test_stored_hash_is_argon2id(client: Client, db_conn: pymysql.connections.Connection) -> None:
    user = await create_user(client)
    stored = stored_hash(db_conn, user["id"])
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_outdated_hash_is_rehashed_on_verify(
    client: Client, settings: Settings, db_conn: pymysql.connections.Connection
) -> None:
    async with app_client(settings, argon2_time_cost=2) as other:
        user = await create_user(other)
    old = stored_hash(db_conn, user["id"])
    assert old.startswith("$argon2id$") and "t=2" in old
    tag = (await client.get(f"/users/{user['id']}")).headers["etag"]
    assert (await verify(client, user["email"], PASSWORD)).status_code == 200
    new = stored_hash(db_conn, user["id"])
    assert new != old
    assert new.startswith("$argon2id$") and f"t={settings.argon2_time_cost}" in new
    assert (await verify(client, user["email"], PASSWORD)).json() == user
    assert stored_hash(db_conn, user["id"]) == new  # up to date now: no second re-hash
    assert (await verify(client, user["email"], "not the password")).status_code == 401
    # The hash is no part of the representation: the user did not change.
    assert (await client.get(f"/users/{user['id']}", headers={"If-None-Match": tag})).status_code == 304


async def test_wrong_password_does_not_rehash(
    client: Client, settings: Settings, db_conn: pymysql.connections.Connection
) -> None:
    async with app_client(settings, argon2_time_cost=2) as other:
        user = await create_user(other)
    old = stored_hash(db_conn, user["id"])
    assert (await verify(client, user["email"], "not the password")).status_code == 401
    assert stored_hash(db_conn, user["id"]) == old


async def test_unknown_email_costs_what_a_wrong_password_costs(client: Client, settings: Settings) -> None:
    async with app_client(settings, argon2_time_cost=2, argon2_memory_kib=32768) as costly:
        user = await create_user(costly)

        async def timed(email: str, password: str) -> float:
            start = time.perf_counter()
            response = await verify(costly, email, password)
            elapsed = time.perf_counter() - start
            assert response.status_code == 401
            return elapsed

        wrong, unknown = [], []
        for _ in range(5):  # interleaved, so that noise hits both alike
            wrong.append(await timed(user["email"], "not the password"))
            unknown.append(await timed(unique_email("nobody"), "not the password"))
    assert statistics.median(unknown) >= 0.5 * statistics.median(wrong), (unknown, wrong)


async def test_hashing_does_not_block_the_event_loop(settings: Settings) -> None:
    costly_settings = {"argon2_time_cost": 3, "argon2_memory_kib": 65536, "hash_concurrency": 2}
    async with app_client(settings, **costly_settings) as costly:
        assert (await costly.get("/users", params={"limit": 1})).status_code == 200  # the pool is up
        hash_times = []
        for _ in range(2):
            start = time.perf_counter()
            await create_user(costly)
            hash_times.append(time.perf_counter() - start)
        one_hash = min(hash_times)

        # The AsyncTestClient blocks until each response is done, so the creates go from threads.
        sync = httpx.Client(
            transport=test_transport.TestClientTransport(client=costly),
            base_url=str(costly.base_url),
        )
        with ThreadPoolExecutor(max_workers=6) as pool:
            creates = [pool.submit(sync.post, "/users", json=new_user_body()) for _ in range(6)]
            time.sleep(one_hash / 4)
            probes = []
            for _ in range(3):
                start = time.perf_counter()
                health = await costly.get("/healthz")
                probes.append(time.perf_counter() - start)
                assert health.status_code == 200
            in_flight = sum(not create.done() for create in creates)
            statuses = [create.result().status_code for create in creates]
    assert statuses == [201] * 6
    assert in_flight > 0, "the creates were over before the probes: nothing was measured"
    assert statistics.median(probes) < 0.5 * one_hash, (probes, one_hash)
