"""How fast the change feed moves: numbering, reading through GET /events, and publishing with the relay.

    .venv/bin/python bench/feed.py [--events 50000] [--nats nats://127.0.0.1:4222]

Makes a database (bench_feed), writes `--events` changes in big statements (users, then articles with
1 KB bodies: an event each, from the triggers), then starts `blogsvc serve --workers 1` and measures:
how long its sequencer takes to number them all (events/s), one consumer walking the whole feed through
GET /events with limit=1000 and limit=100 (events/s), how soon a long poll on that server answers after
a user is created through a second server (20 times: median and worst, in ms), and `blogsvc relay`
publishing it all to a new JetStream stream (events/s, from start to the last acknowledged publish, lease
and stream creation included). The JSON goes to bench/results/feed-<stamp>.json; the database and the stream are removed
at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import pymysql

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
BLOGSVC = [sys.executable, "-m", "blogsvc"]
DATABASE = "bench_feed"
STREAM = "bench_feed"
PORT = 8097
OTHER_PORT = 8096


def sql(statement: str, database: str | None = DATABASE) -> Any:
    conn = pymysql.connect(host="127.0.0.1", user="root", database=database, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall()
    finally:
        conn.close()


def env() -> dict[str, str]:
    return os.environ | {
        "BLOGSVC_DATABASE_URL": f"mysql://root@127.0.0.1:3306/{DATABASE}",
        "BLOGSVC_LOG_LEVEL": "warning",
    }


def load(events: int) -> None:
    sql(f"DROP DATABASE IF EXISTS {DATABASE}", None)
    subprocess.run([*BLOGSVC, "migrate"], env=env(), cwd=REPO, check=True, capture_output=True)
    users = max(1, events // 10)
    sql(
        "INSERT INTO users (email, password_hash, created_at)"
        f" SELECT CONCAT('u', seq, '@example.com'), 'x', UTC_TIMESTAMP(6) FROM seq_1_to_{users}"
    )
    sql(
        "INSERT INTO articles (author_id, title, slug, body, created_at)"
        f" SELECT 1 + seq MOD {users}, CONCAT('Article ', seq), CONCAT('article-', seq), REPEAT('x', 1000),"
        f" UTC_TIMESTAMP(6) FROM seq_1_to_{events - users}"
    )


def wait_numbered(total: int) -> float:
    started = time.monotonic()
    while sql("SELECT COUNT(feed_id) FROM events")[0][0] < total:
        time.sleep(0.05)
    return time.monotonic() - started


def walk(total: int, limit: int) -> float:
    started = time.monotonic()
    after = seen = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as http:
        while seen < total:
            page = http.get("/events", params={"after": after, "limit": limit}).json()
            seen += len(page["data"])
            after = page["next_after"]
    return time.monotonic() - started


def wake_delays(after: int, rounds: int = 20) -> list[float]:
    """Seconds from a create's answer (through the other server) to the answer of a long poll for it."""
    delays = []
    with (
        httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as poller,
        httpx.Client(base_url=f"http://127.0.0.1:{OTHER_PORT}", timeout=60) as writer,
    ):
        for n in range(rounds):
            body = {"email": f"wake{n}@example.com", "password": "correct horse battery"}
            answered: list[float] = []

            def poll(after: int = after, answered: list[float] = answered) -> None:
                poller.get("/events", params={"after": after, "wait": 10})
                answered.append(time.monotonic())

            thread = threading.Thread(target=poll)
            thread.start()
            time.sleep(0.3)
            writer.post("/users", json=body).raise_for_status()
            committed = time.monotonic()
            thread.join()
            delays.append(answered[0] - committed)
            after += 1
    return delays


async def relay(nats_url: str, total: int) -> float:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_stream(STREAM)
    started = time.monotonic()
    process = subprocess.Popen(
        [*BLOGSVC, "relay", "--nats", nats_url, "--stream", STREAM, "--prefix", STREAM], env=env(), cwd=REPO
    )
    try:
        while True:
            try:
                if (await js.stream_info(STREAM)).state.messages >= total:
                    return time.monotonic() - started
            except nats.js.errors.NotFoundError:
                pass
            await asyncio.sleep(0.05)
    finally:
        process.terminate()
        process.wait()
        await js.delete_stream(STREAM)
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    args = parser.parse_args()
    load(args.events)
    servers = [
        subprocess.Popen([*BLOGSVC, "serve", "--port", str(port), "--workers", "1"], env=env(), cwd=REPO)
        for port in (PORT, OTHER_PORT)
    ]
    try:
        numbering = wait_numbered(args.events)
        walks = {limit: walk(args.events, limit) for limit in (1000, 100)}
        delays = sorted(wake_delays(args.events))
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    relaying = asyncio.run(relay(args.nats, args.events + len(delays)))
    sql(f"DROP DATABASE {DATABASE}", None)
    result = {
        "events": args.events,
        "numbered_per_s": round(args.events / numbering),
        "get_events_per_s": {f"limit={limit}": round(args.events / seconds) for limit, seconds in walks.items()},
        "relayed_per_s": round(args.events / relaying),
        "long_poll_wake_ms": {"median": round(delays[len(delays) // 2] * 1000, 1), "max": round(delays[-1] * 1000, 1)},
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"feed-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
