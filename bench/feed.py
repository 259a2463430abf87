"""How fast the change feed moves: numbering, reading through GET /events, and publishing with the relay.

    .venv/bin/python bench/feed.py [--events 50000] [--nats nats://127.0.0.1:4222]

Makes a database (bench_feed), writes `--events` changes in big statements (users, then articles with
1 KB bodies: an event each, from the triggers), then starts `blogsvc serve --workers 1` and measures:
how long its sequencer takes to number them all (events/s), one consumer walking the whole feed through
GET /events with limit=1000 and limit=100 (events/s), and `blogsvc relay` publishing it all to a new
JetStream stream (events/s, from start to the last acknowledged publish, lease and stream creation
included). The JSON goes to bench/results/feed-<stamp>.json; the database and the stream are removed
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
    server = subprocess.Popen([*BLOGSVC, "serve", "--port", str(PORT), "--workers", "1"], env=env(), cwd=REPO)
    try:
        numbering = wait_numbered(args.events)
        walks = {limit: walk(args.events, limit) for limit in (1000, 100)}
    finally:
        server.terminate()
        server.wait()
    relaying = asyncio.run(relay(args.nats, args.events))
    sql(f"DROP DATABASE {DATABASE}", None)
    result = {
        "events": args.events,
        "numbered_per_s": round(args.events / numbering),
        "get_events_per_s": {f"limit={limit}": round(args.events / seconds) for limit, seconds in walks.items()},
        "relayed_per_s": round(args.events / relaying),
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"feed-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
