"""`blogsvc relay` against the machine's NATS (JetStream on; `make test` starts one if none answers): killed
mid-stream and started again, with a second relay waiting its turn, it leaves the stream holding every
event exactly once, in order."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import nats
import pytest

from tests.e2e_server import ROOT, service_env
from tests.events.conftest import feed_head

if TYPE_CHECKING:
    from pathlib import Path

    import pymysql
    from litestar import Litestar
    from litestar.testing import AsyncTestClient
    from nats.js import JetStreamContext

    from blogsvc.config import Settings

NATS_URL = os.environ.get("BLOGSVC_NATS_URL", "nats://127.0.0.1:4222")


class RelayProcess:
    def __init__(self, settings: Settings, log: Path, stream: str, prefix: str) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
                [sys.executable, "-m", "blogsvc", "relay", "--nats", NATS_URL, "--stream", stream, "--prefix", prefix],
                env=service_env(settings.database) | {"BLOGSVC_LOG_LEVEL": "info", "BLOGSVC_LOG_FORMAT": "console"},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM) -> int | None:
        """The exit code once stopped by `signum`; None if it took over 10 s (then it is killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


async def _stream_last(js: JetStreamContext, stream: str) -> tuple[int, int]:
    """(messages in the stream, the Nats-Msg-Id of its last one)."""
    try:
        state = (await js.stream_info(stream)).state
    except nats.js.errors.NotFoundError:
        return 0, 0
    if not state.last_seq:
        return 0, 0
    last = await js.get_msg(stream, seq=state.last_seq)
    return state.messages, int((last.headers or {})["Nats-Msg-Id"])


async def _wait_for(check: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.02)


async def test_a_relay_killed_mid_stream_and_started_again_leaves_every_event_once_in_order(
    settings: Settings,
    tmp_path: Path,
    client: AsyncTestClient[Litestar],
    db_conn: pymysql.connections.Connection,
) -> None:
    token = secrets.token_hex(4)
    stream, prefix = f"blogsvc_test_{token}", f"test{token}"
    start = feed_head(db_conn)
    with db_conn.cursor() as cursor:
        # The stream is to get this test's events only: its relays start where the feed is now, as an
        # operator would start a new stream (docs/operations.md).
        cursor.execute("INSERT INTO event_relays (stream, relayed_through) VALUES (%s, %s)", (stream, start))
        # 10,000 users in one statement: an event each, from the trigger.
        cursor.execute(
            "INSERT INTO users (email, password_hash, created_at)"
            " SELECT CONCAT('relay', seq, %s, '@example.com'), 'x', UTC_TIMESTAMP(6) FROM seq_1_to_10000",
            (token,),
        )
    head = feed_head(db_conn)
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    relays = []
    try:
        first = RelayProcess(settings, tmp_path / "first.log", stream, prefix)
        relays.append(first)

        async def midway() -> bool:
            return (await _stream_last(js, stream))[0] >= 200

        await _wait_for(midway, "the first relay's first 200 events")
        first.stop(signal.SIGKILL)
        published, _ = await _stream_last(js, stream)
        assert published < head - start, "the relay was to be killed mid-stream"
        # Two more at once: one takes over once the dead one's lease runs out, the other waits.
        relays += [RelayProcess(settings, tmp_path / f"next{n}.log", stream, prefix) for n in (1, 2)]

        async def caught_up() -> bool:
            return (await _stream_last(js, stream))[1] >= head

        await _wait_for(caught_up, "the stream to hold the whole feed")
        outputs = [relay.output() for relay in relays[1:]]
        # Both waited for the dead one's lease; then one took over and the other went on waiting.
        assert all("another relay publishes" in output for output in outputs), outputs
        assert sum("publishes the change feed" in output for output in outputs) == 1, outputs

        async def stored() -> bool:  # the position follows the acknowledgements, a write at a time
            with db_conn.cursor() as cursor:
                cursor.execute("SELECT relayed_through FROM event_relays WHERE stream = %s", (stream,))
                return bool(cursor.fetchone() == (head,))

        await _wait_for(stored, "the relay to store its position", timeout=5)

        # A consumer of the stream gets every event once, in order, as GET /events gives it.
        consumer = await js.pull_subscribe(f"{prefix}.>", stream=stream)
        received: list[Any] = []
        while len(received) < head - start:
            batch = await consumer.fetch(500, timeout=5)
            await asyncio.gather(*(message.ack() for message in batch))
            received += batch
        assert [int(m.headers["Nats-Msg-Id"]) for m in received] == list(range(start + 1, head + 1))
        feed = []
        while len(feed) < head - start:
            after = start + len(feed)
            feed += (await client.get("/events", params={"after": after, "limit": 1000})).json()["data"]
        assert [json.loads(m.data) for m in received] == feed
        assert [m.subject for m in received] == [prefix + e["type"].removeprefix("blogsvc") for e in feed]
        # SIGTERM ends a relay at once and cleanly (it releases its lease).
        assert [relay.stop() for relay in relays[1:]] == [0, 0]
    finally:
        for relay in relays:
            relay.stop(signal.SIGKILL)
        with pytest.raises(nats.js.errors.NotFoundError):
            await js.delete_stream(stream)
            await js.stream_info(stream)
        await nc.close()
