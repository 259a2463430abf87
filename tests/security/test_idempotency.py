"""Safe retries (API.md): Idempotency-Key on POST routes. A repeat with the same key and body within 24 hours
gets the first response again and creates nothing; another body is a 422; a repeat while the first runs is a
409; failed first attempts (5xx, or raised) release the key; keys are per caller and expire."""

from __future__ import annotations

import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pytest
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from litestar.testing import transport as test_transport

from blogsvc.app import create_app
from blogsvc.config import parse_tokens
from blogsvc.db.cluster import Database
from blogsvc.ops import background as housekeeping
from blogsvc.security.idempotency import IdempotencyMiddleware
from tests.helpers import assert_problem, new_user_body
from tests.security.conftest import WRITE, WRITE_TOKEN

if TYPE_CHECKING:
    import pymysql
    from litestar import Litestar

    from blogsvc.config import Settings

    Client = AsyncTestClient[Litestar]


def new_key() -> str:
    return f"key-{secrets.token_hex(8)}"


def users_with_email(db_conn: pymysql.connections.Connection, email: str) -> int:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM users WHERE email = %s", (email,))
        (count,) = cursor.fetchone()
    return int(count)


def articles_titled(db_conn: pymysql.connections.Connection, title: str) -> int:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM articles WHERE title = %s", (title,))
        (count,) = cursor.fetchone()
    return int(count)


def records(db_conn: pymysql.connections.Connection, key: str, caller: bytes = b"") -> list[tuple[Any, ...]]:
    key_hash = hashlib.sha256(caller + b"\0" + key.encode()).digest()
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT status, lease_until, expires_at FROM idempotency_keys WHERE key_hash = %s", (key_hash,))
        return list(cursor.fetchall())


def change_record(db_conn: pymysql.connections.Connection, key: str, assignments: str) -> None:
    key_hash = hashlib.sha256(b"\0" + key.encode()).digest()
    with db_conn.cursor() as cursor:
        cursor.execute(f"UPDATE idempotency_keys SET {assignments} WHERE key_hash = %s", (key_hash,))  # noqa: S608
        assert cursor.rowcount == 1


async def create_user(client: Client) -> dict[str, Any]:
    response = await client.post("/users", json=new_user_body())
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


def test_every_post_route_and_no_other_takes_keys(app: Litestar) -> None:
    """The middleware is declared route by route (so that reads run no layer): none may be missed."""
    handlers = [handler for route in app.routes if isinstance(route, HTTPRoute) for handler in route.route_handlers]
    posts = [handler for handler in handlers if "POST" in handler.http_methods]
    assert len(posts) == 5
    for handler in handlers:
        idempotent = any(isinstance(layer, IdempotencyMiddleware) for layer in handler.resolve_middleware())
        assert idempotent == (handler in posts), handler
    # Without service tokens, no other route runs any route middleware.
    assert all(not handler.resolve_middleware() for handler in handlers if handler not in posts)


async def test_a_repeat_gets_the_first_response_and_creates_nothing(
    client: Client, db_conn: pymysql.connections.Connection
) -> None:
    body, key = new_user_body(), new_key()
    first = await client.post("/users", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    for _ in range(2):
        again = await client.post("/users", json=body, headers={"Idempotency-Key": key})
        assert again.status_code == 201
        assert again.json() == first.json()
        for header in ("location", "etag", "content-type"):
            assert again.headers[header] == first.headers[header], header
        assert again.headers["idempotent-replayed"] == "true"
    assert users_with_email(db_conn, body["email"]) == 1
    assert [status for status, *_ in records(db_conn, key)] == [201]


async def test_the_same_body_with_another_key_runs_again(
    client: Client, db_conn: pymysql.connections.Connection
) -> None:
    author = await create_user(client)
    title = f"twice {secrets.token_hex(4)}"
    for _ in range(2):
        response = await client.post(
            f"/users/{author['id']}/articles", json={"title": title}, headers={"Idempotency-Key": new_key()}
        )
        assert response.status_code == 201, response.text
    assert articles_titled(db_conn, title) == 2


async def test_without_a_key_nothing_is_stored(client: Client, db_conn: pymysql.connections.Connection) -> None:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM idempotency_keys")
        before = cursor.fetchone()
        await create_user(client)
        cursor.execute("SELECT COUNT(*) FROM idempotency_keys")
        assert cursor.fetchone() == before


@pytest.mark.parametrize("same_fields", [False, True], ids=["another-body", "same-fields-other-bytes"])
async def test_the_key_with_another_body_is_422(
    client: Client, db_conn: pymysql.connections.Connection, same_fields: bool
) -> None:
    author, key = await create_user(client), new_key()
    path, title = f"/users/{author['id']}/articles", f"first {secrets.token_hex(4)}"
    assert (await client.post(path, json={"title": title}, headers={"Idempotency-Key": key})).status_code == 201
    # The same fields in other bytes are another body too: bodies are compared as sent.
    second = {"title": title, "body": None} if same_fields else {"title": f"second {secrets.token_hex(4)}"}
    response = await client.post(path, json=second, headers={"Idempotency-Key": key})
    body = assert_problem(response, 422)
    assert "Idempotency-Key" in body["detail"]
    assert articles_titled(db_conn, title) == 1
    assert articles_titled(db_conn, second["title"]) == (1 if same_fields else 0)


async def test_the_key_on_another_route_is_422(client: Client) -> None:
    author, key = await create_user(client), new_key()
    assert (await client.post("/users", json=new_user_body(), headers={"Idempotency-Key": key})).status_code == 201
    response = await client.post(
        f"/users/{author['id']}/articles", json={"title": "t"}, headers={"Idempotency-Key": key}
    )
    assert_problem(response, 422)


async def test_a_repeat_while_the_first_is_in_flight_is_409(
    client: Client, db_conn: pymysql.connections.Connection
) -> None:
    body, key = new_user_body(), new_key()
    assert (await client.post("/users", json=body, headers={"Idempotency-Key": key})).status_code == 201
    # As if the first request had claimed the key and not finished yet.
    change_record(db_conn, key, "status = NULL, lease_until = UTC_TIMESTAMP(6) + INTERVAL 1 MINUTE")
    response = await client.post("/users", json=body, headers={"Idempotency-Key": key})
    assert_problem(response, 409)
    assert response.headers["retry-after"] == "1"
    # Another body is still a 422, in flight or not.
    assert_problem(await client.post("/users", json=new_user_body(), headers={"Idempotency-Key": key}), 422)


def test_concurrent_repeats_run_once(client: Client, db_conn: pymysql.connections.Connection) -> None:
    """Six requests with one key at once: one creates, the others wait their turn with a 409 or replay it."""
    body, key = new_user_body(), new_key()
    # The AsyncTestClient blocks until each response is done, so the requests go from threads.
    sync = httpx.Client(transport=test_transport.TestClientTransport(client=client), base_url=str(client.base_url))
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(sync.post, "/users", json=body, headers={"Idempotency-Key": key}) for _ in range(6)]
        responses = [future.result() for future in futures]
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(created) == 1
    assert all(r.json() == created[0].json() for r in responses if r.status_code == 201)
    assert users_with_email(db_conn, body["email"]) == 1


async def test_an_abandoned_claim_is_taken_over(client: Client, db_conn: pymysql.connections.Connection) -> None:
    """A worker that died mid-request leaves a claim whose lease runs out; a retry then runs."""
    author, key = await create_user(client), new_key()
    path, title = f"/users/{author['id']}/articles", f"abandoned {secrets.token_hex(4)}"
    assert (await client.post(path, json={"title": title}, headers={"Idempotency-Key": key})).status_code == 201
    change_record(db_conn, key, "status = NULL, lease_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND")
    retried = await client.post(path, json={"title": title}, headers={"Idempotency-Key": key})
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert articles_titled(db_conn, title) == 2  # it ran again: the first run's response was never stored
    assert [status for status, *_ in records(db_conn, key)] == [201]


async def test_keys_expire_after_24_hours(client: Client, db_conn: pymysql.connections.Connection) -> None:
    author, key = await create_user(client), new_key()
    path, title = f"/users/{author['id']}/articles", f"expiring {secrets.token_hex(4)}"
    assert (await client.post(path, json={"title": title}, headers={"Idempotency-Key": key})).status_code == 201
    ((_, _, expires_at),) = records(db_conn, key)
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(6), %s)", (expires_at,))
        assert cursor.fetchone()[0] in (24 * 60 - 1, 24 * 60)
    change_record(db_conn, key, "expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND")
    # An expired key is a new key: another body is no 422, and the same body runs again.
    again = await client.post(path, json={"title": title}, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert articles_titled(db_conn, title) == 2


async def test_housekeeping_deletes_expired_keys_only(
    client: Client, settings: Settings, db_conn: pymysql.connections.Connection
) -> None:
    expired, live = new_key(), new_key()
    for key in (expired, live):
        assert (await client.post("/users", json=new_user_body(), headers={"Idempotency-Key": key})).status_code == 201
    change_record(db_conn, expired, "expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND")
    db = Database.open(settings)
    try:
        _, deleted = await housekeeping.sweep(db)
    finally:
        await db.close()
    assert deleted >= 1
    assert records(db_conn, expired) == []
    assert len(records(db_conn, live)) == 1


async def test_a_failed_first_attempt_releases_the_key(
    client: Client, app: Litestar, db_conn: pymysql.connections.Connection
) -> None:
    """The route raised (a 500): nothing is stored, and the retry runs."""

    class BrokenHasher:
        async def hash(self, password: str) -> str:
            raise RuntimeError("the hasher broke")

    body, key = new_user_body(), new_key()
    hasher = app.state.hasher
    app.state.hasher = BrokenHasher()
    try:
        failed = await client.post("/users", json=body, headers={"Idempotency-Key": key})
    finally:
        app.state.hasher = hasher
    assert_problem(failed, 500)
    assert records(db_conn, key) == []
    retried = await client.post("/users", json=body, headers={"Idempotency-Key": key})
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert users_with_email(db_conn, body["email"]) == 1


async def test_a_4xx_from_the_route_is_replayed(client: Client) -> None:
    """404: no deleted user to restore. Replayed even after the user is deleted (a retry, not a new request)."""
    user, key = await create_user(client), new_key()
    path = f"/users/{user['id']}/restore"
    first = await client.post(path, headers={"Idempotency-Key": key})
    assert_problem(first, 404)
    assert (await client.delete(f"/users/{user['id']}")).status_code == 204
    again = await client.post(path, headers={"Idempotency-Key": key})
    assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (404, first.json(), "true")
    assert again.headers["content-type"].startswith("application/problem+json")
    # Without the key it is a new request, and the user comes back.
    assert (await client.post(path)).status_code == 200


@pytest.mark.parametrize(
    ("request_kwargs", "status"),
    [
        ({"json": {"title": ""}}, 400),  # a bound of the body
        ({"json": {"title": "t", "author_id": 1}}, 400),  # an unknown field
        ({"content": b"title=t", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415),
        (
            {"content": b'{"title": "' + b"x" * (1024 * 1024) + b'"}', "headers": {"Content-Type": "application/json"}},
            413,
        ),
    ],
    ids=["bound", "unknown-field", "not-json", "too-large"],
)
async def test_requests_bound_to_fail_claim_nothing(
    client: Client, db_conn: pymysql.connections.Connection, request_kwargs: dict[str, Any], status: int
) -> None:
    author, key = await create_user(client), new_key()
    headers = {"Idempotency-Key": key, **request_kwargs.pop("headers", {})}
    response = await client.post(f"/users/{author['id']}/articles", headers=headers, **request_kwargs)
    assert_problem(response, status)
    assert records(db_conn, key) == []
    # So the key is still free for the corrected request.
    fixed = await client.post(f"/users/{author['id']}/articles", json={"title": "t"}, headers={"Idempotency-Key": key})
    assert fixed.status_code == 201, fixed.text


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "with space", "tab\there", "caf\u00e9"],
    ids=["empty", "256", "space", "tab", "non-ascii"],
)
async def test_malformed_keys_are_400(client: Client, key: str) -> None:
    response = await client.post("/users", json=new_user_body(), headers={"Idempotency-Key": key.encode("utf-8")})
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert body["errors"][0]["in"] == "header"


async def test_two_keys_are_400(client: Client) -> None:
    headers = [("Idempotency-Key", new_key()), ("Idempotency-Key", new_key())]
    response = await client.post("/users", json=new_user_body(), headers=httpx.Headers(headers))
    assert_problem(response, 400)


async def test_the_longest_key_is_fine(client: Client) -> None:
    key = secrets.token_hex(4) + "~" * 247
    assert len(key) == 255
    body = new_user_body()
    first = await client.post("/users", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    assert (await client.post("/users", json=body, headers={"Idempotency-Key": key})).json() == first.json()


async def test_keys_are_per_caller(secure_settings: Settings, db_conn: pymysql.connections.Connection) -> None:
    """Two callers may pick the same key: neither sees the other's response, or a 422."""
    other_token = secrets.token_urlsafe(32)
    settings = msgspec.structs.replace(
        secure_settings, api_tokens=(*secure_settings.api_tokens, *parse_tokens(f"write:{other_token}"))
    )
    async with AsyncTestClient(create_app(settings)) as client:
        author = (await client.post("/users", json=new_user_body(), headers=WRITE)).json()
        key, title = new_key(), f"shared key {secrets.token_hex(4)}"
        path = f"/users/{author['id']}/articles"
        mine = await client.post(path, json={"title": title}, headers={**WRITE, "Idempotency-Key": key})
        theirs = await client.post(
            path, json={"title": title}, headers={"Authorization": f"Bearer {other_token}", "Idempotency-Key": key}
        )
        assert (mine.status_code, theirs.status_code) == (201, 201)
        assert mine.json()["id"] != theirs.json()["id"]
        assert "idempotent-replayed" not in theirs.headers
        again = await client.post(path, json={"title": title}, headers={**WRITE, "Idempotency-Key": key})
        assert again.json() == mine.json() and again.headers["idempotent-replayed"] == "true"
    assert articles_titled(db_conn, title) == 2
    mine_hash = hashlib.sha256(WRITE_TOKEN.encode()).digest()
    assert len(records(db_conn, key, caller=mine_hash)) == 1
    assert records(db_conn, key) == []  # nothing under the anonymous caller


async def test_unauthenticated_requests_claim_nothing(
    secure_client: Client, db_conn: pymysql.connections.Connection
) -> None:
    key = new_key()
    response = await secure_client.post("/users", json=new_user_body(), headers={"Idempotency-Key": key})
    assert_problem(response, 401)
    assert records(db_conn, key) == []


async def test_verify_is_never_replayed(client: Client, db_conn: pymysql.connections.Connection) -> None:
    """The header is taken (and checked), but an old answer about a password is never given again."""
    body = new_user_body()
    user = (await client.post("/users", json=body)).json()
    key = new_key()
    credentials = {"email": body["email"], "password": body["password"]}
    assert (await client.post("/auth/verify", json=credentials, headers={"Idempotency-Key": key})).status_code == 200
    assert (await client.patch(f"/users/{user['id']}", json={"password": "a brand new secret"})).status_code == 200
    after = await client.post("/auth/verify", json=credentials, headers={"Idempotency-Key": key})
    assert_problem(after, 401)
    assert "idempotent-replayed" not in after.headers
    assert records(db_conn, key) == []
    assert_problem(await client.post("/auth/verify", json=credentials, headers={"Idempotency-Key": ""}), 400)


async def test_the_key_and_body_are_not_stored_as_sent(client: Client, db_conn: pymysql.connections.Connection) -> None:
    body, key = new_user_body(), new_key()
    sent = msgspec.json.encode(body)
    headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
    assert (await client.post("/users", content=sent, headers=headers)).status_code == 201
    key_hash = hashlib.sha256(b"\0" + key.encode()).digest()
    with db_conn.cursor() as cursor:
        cursor.execute(
            "SELECT key_hash, fingerprint, response_body FROM idempotency_keys WHERE key_hash = %s", (key_hash,)
        )
        ((stored_key, fingerprint, response_body),) = cursor.fetchall()
    assert key.encode() not in bytes(stored_key)
    # The request holds a password: its fingerprint is keyed (an HMAC), not a hash anyone could recompute.
    assert len(fingerprint) == 32
    assert bytes(fingerprint) not in {hashlib.sha256(sent).digest(), hashlib.sha256(b"POST/users" + sent).digest()}
    assert body["password"].encode() not in bytes(response_body)
