"""`blogsvc relay`: publishes the change feed, in order, to a NATS JetStream stream (nats-py). Each event
goes to subject <prefix>.<resource>.<action> (by default its type: blogsvc.article.updated, ...; another
prefix lets several deployments share one NATS) with Nats-Msg-Id = its feed id, so a resend is
dropped as a duplicate, and Nats-Expected-Last-Msg-Id = the one before, so the stream refuses anything
out of order (even from a relay that lost its lease without knowing). Publishes are pipelined, and as
their acknowledgements come the relay stores how far it got (event_relays, a write at a time); it
resumes from there, or from the stream's own last event if that is further (it crashed between the
two). One relay per stream works at a time, by a lease row; another waits until that lease runs out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import nats
from nats.js.api import PubAck, StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from blogsvc.db.cluster import Database
from blogsvc.errors import Gone
from blogsvc.events import repository as feed
from blogsvc.events.sequencer import Sequencer, holder_name, release_quietly

if TYPE_CHECKING:
    from nats.js import JetStreamContext

    from blogsvc.config import Settings

log = logging.getLogger("blogsvc.relay")

PREFIX = "blogsvc"
DUPLICATE_WINDOW = 600.0  # seconds JetStream remembers a Nats-Msg-Id
LEASE_SECONDS = 5.0
STANDBY_CHECK_EVERY = 1.0
POLL_EVERY = 0.02  # for new events, when the relay has caught up
BATCH = 500  # events read, then published without waiting for each acknowledgement
ACK_TIMEOUT = 10.0  # seconds JetStream gets to acknowledge a publish
CLOSE_TIMEOUT = 3.0  # seconds each of NATS and the database get to close at the end
_WRONG_LAST_MSG_ID = 10070  # JetStream's error code: Nats-Expected-Last-Msg-Id did not match


class LostLease(Exception):
    """Another relay holds the lease now."""


async def ensure_stream(js: JetStreamContext, stream: str, prefix: str) -> None:
    """Create the stream if missing (file storage, every subject under `prefix`, a 10-minute duplicate window)."""
    try:
        await js.stream_info(stream)
    except NotFoundError:
        subjects = f"{prefix}.>"
        config = StreamConfig(
            name=stream, subjects=[subjects], storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW
        )
        await js.add_stream(config)
        log.info("relay: created stream %s (subjects %s)", stream, subjects)


async def last_in_stream(js: JetStreamContext, stream: str) -> int:
    """The feed id of the stream's newest message (0: none, or not ours)."""
    last = (await js.stream_info(stream)).state.last_seq
    if not last:
        return 0
    try:
        message = await js.get_msg(stream, seq=last)
    except NotFoundError:
        return 0
    msg_id = (message.headers or {}).get("Nats-Msg-Id", "")
    return int(msg_id) if msg_id.isdigit() else 0


class Recorder:
    """Stores the newest acknowledged position in event_relays as acknowledgements come, one write at a
    time, so that publishing never waits for the database (a crash between the two is covered by the
    stream's own last event: Relay._resume_from)."""

    def __init__(self, db: Database, stream: str, holder: str, stored: int) -> None:
        self._db = db
        self._stream = stream
        self._holder = holder
        self._acknowledged = self._stored = stored
        self._new = asyncio.Event()
        self._failure: Exception | None = None

    def acknowledged(self, position: int) -> None:
        self._acknowledged = position
        self._new.set()

    def check(self) -> None:
        """Raise what stopped the storing: LostLease (another relay holds the lease now) or a database error."""
        if self._failure is not None:
            raise self._failure

    async def run(self) -> None:
        try:
            while True:
                await self._new.wait()
                self._new.clear()
                position = self._acknowledged
                if position > self._stored:
                    if not await feed.record_relayed(self._db, self._stream, self._holder, position, LEASE_SECONDS):
                        raise LostLease
                    self._stored = position
        except Exception as exc:
            self._failure = exc


class Relay:
    def __init__(self, db: Database, js: JetStreamContext, stream: str, prefix: str = PREFIX) -> None:
        self._db = db
        self._js = js
        self._stream = stream
        self._prefix = prefix
        self.holder = holder_name()

    async def run(self) -> None:
        """Relay whenever this one holds the lease, wait while another does; for ever (cancel to stop).
        Gone (the feed has pruned events this stream never got) ends it: an operator must decide."""
        waiting = False
        try:
            while True:
                try:
                    if await feed.claim_relay(self._db, self._stream, self.holder, LEASE_SECONDS):
                        waiting = False
                        log.info("relay: %s publishes the change feed to stream %s", self.holder, self._stream)
                        await self._publish_all()
                    elif not waiting:
                        waiting = True
                        log.info("relay: another relay publishes to stream %s; waiting", self._stream)
                except LostLease:
                    log.warning("relay: %s lost the lease on stream %s", self.holder, self._stream)
                except Gone:
                    raise
                except Exception as exc:  # the database or NATS is down or failing over: again shortly
                    log.warning("relay: %s; trying again", exc)
                await asyncio.sleep(STANDBY_CHECK_EVERY)
        finally:
            await asyncio.shield(self._release())

    async def _publish_all(self) -> None:
        """Publish a batch at a time, pipelined (acknowledgements awaited in order), each event after
        the one before it; the recorder stores each acknowledged position as it comes."""
        loop = asyncio.get_running_loop()
        position, in_stream = await self._resume_from()
        recorder = Recorder(self._db, self._stream, self.holder, position)
        recording = asyncio.create_task(recorder.run())
        try:
            renew_at = loop.time() + LEASE_SECONDS / 5
            while True:
                recorder.check()
                events = await feed.events_after(self._db, position, BATCH)
                if not events:
                    if loop.time() >= renew_at:
                        if not await feed.claim_relay(self._db, self._stream, self.holder, LEASE_SECONDS):
                            raise LostLease
                        renew_at = loop.time() + LEASE_SECONDS / 5
                    await asyncio.sleep(POLL_EVERY)
                    continue
                acks = []
                for event in events:
                    acks.append(await self._publish(event, in_stream))
                    in_stream = event.feed_id
                try:
                    for event, ack in zip(events, acks, strict=True):
                        await asyncio.wait_for(ack, ACK_TIMEOUT)
                        position = event.feed_id
                        recorder.acknowledged(position)
                except APIError as exc:
                    await asyncio.gather(*acks, return_exceptions=True)
                    if exc.err_code != _WRONG_LAST_MSG_ID:
                        raise
                    position, in_stream = await self._resume_from()  # the stream holds more than we knew
                renew_at = loop.time() + LEASE_SECONDS / 5
        finally:
            recording.cancel()
            await asyncio.gather(recording, return_exceptions=True)

    async def _resume_from(self) -> tuple[int, int]:
        """Where to go on from (the stored position, or the stream's last event if further), and the
        stream's last event id (0: none of ours)."""
        stored = await feed.relayed_through(self._db, self._stream)
        in_stream = await last_in_stream(self._js, self._stream)
        if in_stream > stored:
            log.info("relay: stream %s has events through %d, the database said %d", self._stream, in_stream, stored)
        return max(stored, in_stream), in_stream

    async def _publish(self, event: feed.FeedEvent, stream_last: int) -> asyncio.Future[PubAck]:
        """Send one event; the future of its acknowledgement."""
        headers = {"Nats-Msg-Id": str(event.feed_id)}
        if stream_last:  # the stream must still end with the event before (nothing else came between)
            headers["Nats-Expected-Last-Msg-Id"] = str(stream_last)
        subject = self._prefix + event.type.removeprefix(PREFIX)
        return await self._js.publish_async(subject, event.cloudevent, stream=self._stream, headers=headers)

    async def _release(self) -> None:
        await release_quietly(feed.release_relay(self._db, self._stream, self.holder), log, "relay")


async def relay_forever(settings: Settings, nats_url: str, stream: str, prefix: str = PREFIX) -> None:
    """`blogsvc relay`: connect to the database and NATS, make the stream, relay until cancelled."""
    db = Database.open(settings)
    nc = await nats.connect(nats_url, name=f"blogsvc-relay {stream}", max_reconnect_attempts=-1)
    try:
        js = nc.jetstream()
        await ensure_stream(js, stream, prefix)
        # A sequencer too, so the feed moves on even while no `blogsvc serve` runs.
        sequencer = asyncio.create_task(Sequencer(db, settings.events_retention_days).run())
        try:
            await Relay(db, js, stream, prefix).run()
        finally:
            sequencer.cancel()
            await asyncio.gather(sequencer, return_exceptions=True)
    finally:
        # Bounded: a relay told to stop must stop, even with NATS or the database gone.
        for closing in (nc.close(), db.close()):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await closing
