"""Brute force (API.md): after 10 failed attempts for one email within 15 minutes, 429 with Retry-After
until the window passes, right password or not; the count is in the database, so it holds across
workers (two apps here) and concurrent requests; old rows are cleaned up."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from blogsvc.app import create_app
from blogsvc.db.cluster import Database
from blogsvc.errors import TooManyRequests
from blogsvc.ops import background as housekeeping
from blogsvc.security import lockout
from tests.helpers import assert_problem, new_user_body, unique_email

if TYPE_CHECKING:
    import httpx
    import pymysql
    from litestar import Litestar

    from blogsvc.config import Settings

    Client = AsyncTestClient[Litestar]

PASSWORD = "correct horse battery"
WINDOW_SECONDS = 15 * 60


async def create_user(client: Client) -> dict[str, Any]:
    response = await client.post("/users", json=new_user_body(password=PASSWORD))
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def verify(client: Client, email: str, password: str) -> httpx.Response:
    return await client.post("/auth/verify", json={"email": email, "password": password})


def stored_attempts(db_conn: pymysql.connections.Connection, email: str) -> int | None:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT attempts FROM auth_attempts WHERE email_key = UNHEX(SHA2(LOWER(%s), 256))", (email,))
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def age_window(db_conn: pymysql.connections.Connection, email: str, seconds: int) -> None:
    """Move the email's window into the past, as if `seconds` had gone by."""
    with db_conn.cursor() as cursor:
        cursor.execute(
            "UPDATE auth_attempts SET window_start = window_start - INTERVAL %s SECOND"
            " WHERE email_key = UNHEX(SHA2(LOWER(%s), 256))",
            (seconds, email),
        )
        assert cursor.rowcount == 1


def assert_locked(response: httpx.Response, at_most: int = WINDOW_SECONDS) -> int:
    body = assert_problem(response, 429)
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= at_most
    assert str(retry_after) in body["detail"]
    return retry_after


async def test_ten_failures_then_429_even_with_the_right_password(
    client: Client, db_conn: pymysql.connections.Connection
) -> None:
    user = await create_user(client)
    for attempt in range(1, 11):
        assert_problem(await verify(client, user["email"], f"wrong {attempt}"), 401)
    assert stored_attempts(db_conn, user["email"]) == 10
    retry_after = assert_locked(await verify(client, user["email"], PASSWORD))
    assert retry_after > WINDOW_SECONDS - 60
    assert_locked(await verify(client, user["email"], "wrong again"))
    assert stored_attempts(db_conn, user["email"]) == 12


async def test_the_lock_lifts_when_the_window_passes(client: Client, db_conn: pymysql.connections.Connection) -> None:
    user = await create_user(client)
    for _ in range(10):
        await verify(client, user["email"], "wrong")
    age_window(db_conn, user["email"], 10 * 60)
    retry_after = assert_locked(await verify(client, user["email"], PASSWORD), at_most=5 * 60)
    assert retry_after > 5 * 60 - 60
    age_window(db_conn, user["email"], 5 * 60)
    response = await verify(client, user["email"], PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == user["id"]


async def test_a_new_window_counts_from_one(client: Client, db_conn: pymysql.connections.Connection) -> None:
    email = unique_email("window")
    for _ in range(7):
        await verify(client, email, "wrong")
    age_window(db_conn, email, WINDOW_SECONDS)
    assert_problem(await verify(client, email, "wrong"), 401)
    assert stored_attempts(db_conn, email) == 1


async def test_unknown_emails_lock_alike(client: Client, db_conn: pymysql.connections.Connection) -> None:
    """Otherwise the lockout would tell which emails have users."""
    email = unique_email("nobody")
    statuses = [(await verify(client, email, "guess")).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    assert stored_attempts(db_conn, email) == 11


async def test_every_spelling_of_an_email_counts_against_it(client: Client) -> None:
    user = await create_user(client)
    email = user["email"]
    for spelling in [email.upper(), email.lower(), email.swapcase(), email.title(), email] * 2:
        assert_problem(await verify(client, spelling, "wrong"), 401)
    assert_locked(await verify(client, email.upper(), PASSWORD))


async def test_no_spelling_of_an_email_has_a_budget_of_its_own(
    client: Client, db_conn: pymysql.connections.Connection
) -> None:
    """The email column's collation ignores trailing spaces: "victim@... " found the user while the lockout
    counted that spelling apart, so each added space bought ten more guesses. Every spelling that names the
    account shares one count; one that is no address at all is a 400 and counts nothing (and finds nobody)."""
    local = f"victim.{secrets.token_hex(4)}"
    email = f"{local}@bücher.example"
    created = await client.post("/users", json=new_user_body(email=email, password=PASSWORD))
    assert created.status_code == 201, created.text
    same = [email, email.upper(), f"{local}@xn--bcher-kva.example", f"{local.title()}@BÜCHER.Example"]
    refused = [f"{email} ", f"{email}   ", f" {email}", f"{email}\t", f"{email}.", f"{email}\u00a0"]
    for attempt in range(10):
        assert_problem(await verify(client, same[attempt % len(same)], "wrong"), 401)
    for spelling in refused:
        assert_problem(await verify(client, spelling, PASSWORD), 400)
    for spelling in same:
        assert_locked(await verify(client, spelling, PASSWORD))
    assert stored_attempts(db_conn, email) == 10 + len(same)
    # Before any lockout, the same spellings do find the user (so they were worth locking).
    other = f"other.{secrets.token_hex(4)}@bücher.example"
    assert (await client.post("/users", json=new_user_body(email=other, password=PASSWORD))).status_code == 201
    for spelling in (other.upper(), other.replace("bücher", "xn--bcher-kva")):
        response = await verify(client, spelling, PASSWORD)
        assert response.status_code == 200, response.text
        assert response.json()["email"] == other


async def test_the_email_filter_takes_an_address_only(client: Client) -> None:
    user = await create_user(client)
    found = await client.get("/users", params={"email": user["email"].upper()})
    assert [u["id"] for u in found.json()["data"]] == [user["id"]]
    for spelling in (f"{user['email']} ", f" {user['email']}", f"{user['email']}."):
        body = assert_problem(await client.get("/users", params={"email": spelling}), 400)
        assert [(e["field"], e["in"]) for e in body["errors"]] == [("email", "query")], body


async def test_a_right_password_clears_the_count(client: Client, db_conn: pymysql.connections.Connection) -> None:
    user = await create_user(client)
    for _ in range(9):
        await verify(client, user["email"], "wrong")
    assert (await verify(client, user["email"], PASSWORD)).status_code == 200
    assert stored_attempts(db_conn, user["email"]) is None
    for _ in range(10):
        assert_problem(await verify(client, user["email"], "wrong"), 401)
    assert_locked(await verify(client, user["email"], "wrong"))


async def test_other_emails_are_not_locked(client: Client) -> None:
    locked, other = await create_user(client), await create_user(client)
    for _ in range(11):
        await verify(client, locked["email"], "wrong")
    assert (await verify(client, other["email"], PASSWORD)).status_code == 200


async def test_the_count_holds_across_workers(
    client: Client, settings: Settings, db_conn: pymysql.connections.Connection
) -> None:
    """Two apps on one database stand for two workers (or replicas): they share one count."""
    user = await create_user(client)
    async with AsyncTestClient(create_app(settings)) as other_worker:
        for worker in [client, other_worker] * 5:
            assert_problem(await verify(worker, user["email"], "wrong"), 401)
        assert stored_attempts(db_conn, user["email"]) == 10
        assert_locked(await verify(other_worker, user["email"], PASSWORD))
        assert_locked(await verify(client, user["email"], PASSWORD))


async def test_concurrent_attempts_get_no_more_than_ten_checks(settings: Settings) -> None:
    """The count goes up before the password is checked, in one statement: 25 attempts at once, on as
    many connections, let exactly 10 through, whichever order they run in."""
    db = Database.open(msgspec.structs.replace(settings, pool_max=25))
    email = unique_email("storm")
    try:
        results = await asyncio.gather(*(lockout.count_attempt(db, email) for _ in range(25)), return_exceptions=True)
    finally:
        await db.close()
    refused = [r for r in results if isinstance(r, TooManyRequests)]
    assert [r for r in results if r is not None and not isinstance(r, TooManyRequests)] == []
    assert (len(results) - len(refused), len(refused)) == (10, 15)


async def test_no_email_is_stored(client: Client, db_conn: pymysql.connections.Connection) -> None:
    email = unique_email("private")
    await verify(client, email, "wrong")
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT email_key FROM auth_attempts")
        keys = [bytes(row[0]) for row in cursor.fetchall()]
    assert hashlib.sha256(email.lower().encode()).digest() in keys
    assert all(email.encode() not in key for key in keys)


async def test_housekeeping_deletes_closed_windows_only(
    client: Client, settings: Settings, db_conn: pymysql.connections.Connection
) -> None:
    closed, open_ = unique_email("closed"), unique_email("open")
    await verify(client, closed, "wrong")
    await verify(client, open_, "wrong")
    age_window(db_conn, closed, WINDOW_SECONDS + 1)
    db = Database.open(settings)
    try:
        attempts, _ = await housekeeping.sweep(db)
    finally:
        await db.close()
    assert attempts >= 1
    assert stored_attempts(db_conn, closed) is None
    assert stored_attempts(db_conn, open_) == 1


@pytest.mark.parametrize("body", [{"email": "", "password": "x"}, {"email": "a" * 255, "password": "x"}])
async def test_bad_bodies_are_not_counted(client: Client, db_conn: pymysql.connections.Connection, body: Any) -> None:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM auth_attempts")
        before = cursor.fetchone()
        assert_problem(await client.post("/auth/verify", json=body), 400)
        cursor.execute("SELECT COUNT(*) FROM auth_attempts")
        assert cursor.fetchone() == before
