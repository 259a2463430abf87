"""The Database under failure, against the real test server: a busy pool, slow statements,
conflicts that roll a transaction back, connections that die under a statement, and servers that
refuse connections or stop answering (a relay in front of the real server plays those)."""

from __future__ import annotations

import asyncio
import secrets
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import msgspec
import pymysql
import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from blogsvc.app import create_app
from blogsvc.config import DatabaseURL
from blogsvc.db.cluster import Database
from blogsvc.db.queries import Query
from blogsvc.db.session import Session, session_setup
from blogsvc.errors import ConnectionLost, DuplicateKey, ServiceUnavailable, StatementTimeout, TransientConflict
from blogsvc.http.controllers import AppController
from tests.helpers import assert_problem
from tests.resilience.proxy import Relay

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from blogsvc.config import Settings

SLACK = 2.0  # what a bound on waiting allows beyond the configured time (scheduling, a loaded machine)


@asynccontextmanager
async def opened(settings: Settings, **changes: Any) -> AsyncIterator[Database]:
    db = Database.open(msgspec.structs.replace(settings, **changes))
    try:
        yield db
    finally:
        await db.close()


def _connect(settings: Settings) -> pymysql.connections.Connection:
    url = settings.database
    return pymysql.connect(
        host=url.host, port=url.port, user=url.user, password=url.password, database=url.database, autocommit=True
    )


@pytest.fixture(scope="module")
def rows_table(settings: Settings) -> Iterator[None]:
    conn = _connect(settings)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE resilience_rows (id INT PRIMARY KEY, n INT NOT NULL, note VARCHAR(50) UNIQUE)")
    yield
    with conn.cursor() as cursor:
        cursor.execute("DROP TABLE resilience_rows")
    conn.close()


@pytest.fixture
def rows(rows_table: None, settings: Settings) -> Iterator[pymysql.connections.Connection]:
    """Rows 1 and 2 at n = 0; a plain connection to look at them (and to lock them)."""
    conn = _connect(settings)
    with conn.cursor() as cursor:
        cursor.execute("DELETE FROM resilience_rows")
        cursor.execute("INSERT INTO resilience_rows (id, n) VALUES (1, 0), (2, 0)")
    yield conn
    conn.rollback()
    conn.close()


def _n(conn: pymysql.connections.Connection, row: int) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SELECT n FROM resilience_rows WHERE id = %s", (row,))
        (n,) = cursor.fetchone()
        return int(n)


BUMP = Query("bump", "execute", "UPDATE resilience_rows SET n = n + 1 WHERE id = %(id)s")
# SET STATEMENT ... FOR: a one-second lock wait for this statement alone, not for the pooled connection.
BUMP_WAITING_1S = Query(
    "bump_waiting",
    "execute",
    "SET STATEMENT innodb_lock_wait_timeout = 1 FOR UPDATE resilience_rows SET n = n + 1 WHERE id = %(id)s",
)
SLEEP = Query("sleep", "value", "SELECT SLEEP(%(seconds)s)")


def _hold_row_lock(conn: pymysql.connections.Connection, row: int) -> None:
    conn.begin()
    with conn.cursor() as cursor:
        cursor.execute("SELECT n FROM resilience_rows WHERE id = %s FOR UPDATE", (row,))


# ---- the statement limit ----


async def test_sessions_get_utc_and_the_statement_limit(settings: Settings) -> None:
    async with opened(settings, statement_timeout=2.5) as db:
        row = await db.one(Query("vars", "one", "SELECT @@session.max_statement_time, @@session.time_zone"), {})
    assert row is not None and (float(row[0]), row[1]) == (2.5, "+00:00")
    assert session_setup(0) == "SET time_zone = '+00:00'"  # 0: no limit


async def test_a_statement_over_the_limit_is_a_503(settings: Settings) -> None:
    async with opened(settings, statement_timeout=0.3) as db:
        started = time.monotonic()
        with pytest.raises(StatementTimeout) as raised:
            await db.value(SLEEP, {"seconds": 5})
        assert time.monotonic() - started < 5  # stopped by the server, not slept out
        assert raised.value.status == 503
        # The connection survives the timeout and serves the next statement.
        assert await db.value(SLEEP, {"seconds": 0}) == 0


async def test_a_slow_request_gets_a_503_problem_document(settings: Settings) -> None:
    class Slow(AppController):
        @get("/slow")
        async def slow(self) -> None:
            await self.state.db.value(SLEEP, {"seconds": 5})

    app = create_app(msgspec.structs.replace(settings, statement_timeout=0.3))
    app.register(Slow)
    async with AsyncTestClient(app) as client:
        response = await client.get("/slow")
    body = assert_problem(response, 503)
    assert response.headers["retry-after"].isdigit()
    assert "took too long" in body["detail"] and "SLEEP" not in response.text


# ---- connections under load ----


async def test_connections_go_to_statements_in_the_order_they_asked(settings: Settings) -> None:
    """Clients in a closed loop (each asks again as soon as it is answered) on one connection: the
    server runs the statements in the order they were asked for. A pool's own wait lets the client
    just answered take the connection again ahead of the waiting ones."""
    log = Query("log", "insert", "INSERT INTO fair_log (asked) VALUES (%(asked)s)")
    asked = 0

    async def client(statements: int) -> None:
        nonlocal asked
        for _ in range(statements):
            asked += 1
            await db.insert(log, {"asked": asked})

    conn = _connect(settings)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE fair_log (ran INT AUTO_INCREMENT PRIMARY KEY, asked INT NOT NULL)")
    try:
        async with opened(settings, pool_min=1, pool_max=1) as db:
            await asyncio.gather(*(client(20) for _ in range(5)))
        with conn.cursor() as cursor:
            cursor.execute("SELECT asked FROM fair_log ORDER BY ran")
            order = [asked for (asked,) in cursor.fetchall()]
    finally:
        with conn.cursor() as cursor:
            cursor.execute("DROP TABLE fair_log")
        conn.close()
    assert order == list(range(1, 101))


# ---- conflicts: the whole transaction again, with backoff ----


async def test_a_deadlocked_transaction_runs_again(settings: Settings, rows: pymysql.connections.Connection) -> None:
    attempts: list[str] = []
    both_hold_one_row = asyncio.Barrier(2)

    def crossing(first: int, second: int, name: str) -> Any:
        async def body(tx: Session) -> None:
            attempts.append(name)
            await tx.execute(BUMP, {"id": first})
            if attempts.count(name) == 1:
                await both_hold_one_row.wait()
            await tx.execute(BUMP, {"id": second})

        return body

    async with opened(settings) as db:
        await asyncio.gather(db.run_in_transaction(crossing(1, 2, "a")), db.run_in_transaction(crossing(2, 1, "b")))
    # InnoDB rolled one back (the deadlock victim); it ran again, and each committed exactly once.
    assert sorted(attempts) in (["a", "a", "b"], ["a", "b", "b"])
    assert (_n(rows, 1), _n(rows, 2)) == (2, 2)


async def test_a_lock_wait_timeout_runs_the_transaction_again(
    settings: Settings, rows: pymysql.connections.Connection
) -> None:
    attempts = 0

    async def body(tx: Session) -> int:
        nonlocal attempts
        attempts += 1
        await tx.execute(BUMP, {"id": 2})
        return await tx.execute(BUMP_WAITING_1S, {"id": 1})

    _hold_row_lock(rows, 1)
    release = asyncio.get_running_loop().call_later(1.5, rows.rollback)
    try:
        async with opened(settings) as db:
            assert await db.run_in_transaction(body) == 1
    finally:
        release.cancel()
    assert attempts >= 2
    # The rolled-back attempts left nothing behind: each row moved once.
    assert (_n(rows, 1), _n(rows, 2)) == (1, 1)


async def test_conflict_retries_are_bounded(settings: Settings, rows: pymysql.connections.Connection) -> None:
    attempts = 0

    async def body(tx: Session) -> None:
        nonlocal attempts
        attempts += 1
        await tx.execute(BUMP_WAITING_1S, {"id": 1})

    _hold_row_lock(rows, 1)
    async with opened(settings, conflict_retries=1) as db:
        with pytest.raises(TransientConflict) as raised:
            await db.run_in_transaction(body)
    rows.rollback()
    assert attempts == 2
    assert raised.value.status == 503 and raised.value.headers == {"Retry-After": "1"}
    assert _n(rows, 1) == 0


async def test_a_duplicate_key_is_not_retried(settings: Settings, rows: pymysql.connections.Connection) -> None:
    attempts = 0
    note = Query("note", "execute", "UPDATE resilience_rows SET note = %(note)s WHERE id = %(id)s")

    async def body(tx: Session) -> None:
        nonlocal attempts
        attempts += 1
        await tx.execute(note, {"id": 2, "note": "taken"})

    async with opened(settings) as db:
        await db.execute(note, {"id": 1, "note": "taken"})
        with pytest.raises(DuplicateKey):
            await db.run_in_transaction(body)
    assert attempts == 1


async def test_an_autocommitted_write_rolled_back_by_a_lock_wait_runs_again(
    settings: Settings, rows: pymysql.connections.Connection
) -> None:
    _hold_row_lock(rows, 1)
    release = asyncio.get_running_loop().call_later(1.5, rows.rollback)
    try:
        async with opened(settings) as db:
            # Without a retry this would be a TransientConflict after the first one-second wait.
            assert await db.execute(BUMP_WAITING_1S, {"id": 1}) == 1
    finally:
        release.cancel()
    assert _n(rows, 1) == 1


# ---- connections that die under a statement ----


def _kill_connection_running(conn: pymysql.connections.Connection, marker: str) -> int:
    """KILL CONNECTION the session whose statement carries `marker`, once it runs; its id."""
    deadline = time.monotonic() + 5
    with conn.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE %s AND ID <> CONNECTION_ID()",
                (f"%{marker}%",),
            )
            found = cursor.fetchone()
            if found:
                cursor.execute(f"KILL CONNECTION {int(found[0])}")
                return int(found[0])
            time.sleep(0.01)
    pytest.fail(f"no statement with {marker} ran")


async def test_a_read_whose_connection_dies_runs_once_more_on_a_fresh_one(
    settings: Settings, rows: pymysql.connections.Connection
) -> None:
    marker = secrets.token_hex(6)
    read = Query("slow_read", "one", "SELECT CONNECTION_ID(), SLEEP(0.5), %(marker)s")
    async with opened(settings) as db:
        reading = asyncio.create_task(db.one(read, {"marker": marker}))
        killed = await asyncio.to_thread(_kill_connection_running, rows, marker)
        row = await reading
    assert row is not None
    assert row[0] != killed and row[1] == 0


async def test_a_write_whose_connection_dies_is_not_run_again(
    settings: Settings, rows: pymysql.connections.Connection
) -> None:
    marker = secrets.token_hex(6)
    write = Query(
        "slow_write",
        "execute",
        "UPDATE resilience_rows SET n = n + 1 WHERE id = 1 AND SLEEP(0.5) = 0 AND %(marker)s <> ''",
    )
    async with opened(settings) as db:
        writing = asyncio.create_task(db.execute(write, {"marker": marker}))
        await asyncio.to_thread(_kill_connection_running, rows, marker)
        with pytest.raises(ConnectionLost):
            await writing
        await asyncio.sleep(0.6)  # what a second run would have needed
    assert _n(rows, 1) == 0


# ---- several servers: fail-over; and a server that stops answering ----


def _through(settings: Settings, *relays: Relay) -> DatabaseURL:
    hosts = tuple(("127.0.0.1", relay.port) for relay in relays)
    url = settings.database
    return DatabaseURL(
        user=url.user, password=url.password, host="127.0.0.1", port=relays[0].port, database=url.database, hosts=hosts
    )


@pytest.fixture
async def relays(settings: Settings) -> AsyncIterator[list[Relay]]:
    """Two relays to the test server: two 'servers' of one cluster, as far as the Database can tell."""
    started = [Relay(settings.database.host, settings.database.port) for _ in range(2)]
    for relay in started:
        await relay.start()
    yield started
    for relay in started:
        await relay.cut()


async def test_fail_over_to_the_next_server_without_an_error(
    settings: Settings, relays: list[Relay], rows_table: None
) -> None:
    first, second = relays
    get_n = Query("get_n", "value", "SELECT n FROM resilience_rows WHERE id = %(id)s")
    async with opened(settings, database=_through(settings, first, second)) as db:
        assert db.server == first.address
        assert await db.value(SLEEP, {"seconds": 0}) == 0
        await first.cut()  # the pooled connection dies, and the server refuses new ones
        # Its pooled connection is dead and it refuses new ones: the read goes to the second, no error.
        assert await db.value(SLEEP, {"seconds": 0}) == 0
        assert db.server == second.address
        await first.start()
        # No fail-back: the second stays current while it works.
        assert await db.value(get_n, {"id": 999}) is None
        assert db.server == second.address


async def test_no_server_answering_is_a_503_and_the_first_to_return_serves(
    settings: Settings, relays: list[Relay]
) -> None:
    first, second = relays
    async with opened(settings, database=_through(settings, first, second)) as db:
        await first.cut()
        await second.cut()
        with pytest.raises(ServiceUnavailable) as raised:
            await db.value(SLEEP, {"seconds": 0})
        assert raised.value.status == 503
        await second.start()
        assert await db.value(SLEEP, {"seconds": 0}) == 0
        assert db.server == second.address


async def test_a_server_that_stops_answering_costs_a_503_not_a_hang(settings: Settings, relays: list[Relay]) -> None:
    relay = relays[0]
    statement_timeout = 0.5
    async with opened(settings, database=_through(settings, relay), statement_timeout=statement_timeout) as db:
        assert await db.value(SLEEP, {"seconds": 0}) == 0
        relay.frozen = True
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as raised:
            await db.value(SLEEP, {"seconds": 0})
        waited = time.monotonic() - started
        relay.frozen = False
        assert "did not answer in time" in raised.value.detail
        # The server's own limit plus the client's grace (2 s), not forever.
        assert waited <= statement_timeout + 2 + SLACK
        # The stuck connection was dropped; the next statement gets a working one.
        assert await db.value(SLEEP, {"seconds": 0}) == 0


async def test_a_connection_reset_mid_handshake_is_a_503(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """On uvloop, both drivers raise RuntimeError (not a MySQL error) when the server resets the
    socket before the handshake sets keep-alive: a server killed under load did that, and it was a
    500. Only aiomysql's (pure Python) connect can be made to do it here."""
    if settings.db_driver != "aiomysql":
        pytest.skip("aiomysql's connect only")
    import aiomysql.connection

    def reset(connection: Any) -> None:
        raise RuntimeError("Transport does not expose socket instance")

    async with opened(settings) as db:
        monkeypatch.setattr(aiomysql.connection.Connection, "_set_keep_alive", reset)
        with pytest.raises(ServiceUnavailable):
            await db.value(SLEEP, {"seconds": 0})
        monkeypatch.undo()
        assert await db.value(SLEEP, {"seconds": 0}) == 0
