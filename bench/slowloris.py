"""How the probes answer while slow clients flood a server (issue #16's goal: within 100 ms throughout).

    .venv/bin/python bench/slowloris.py [--sockets 3000] [--workers 2]

Makes a database (bench_slowloris), starts `blogsvc serve --workers 2` with default settings, then opens
`--sockets` connections that send their headers a byte every 10 s (100 at a time, 50 ms apart), from a
process of their own, while this process asks /healthz and /readyz alternately on a new connection every
50 ms until a second after the last slow socket was closed. Reports the probes' statuses and latency
(median, p99, max, in ms) and how long the server held the slow sockets (min and max, in s). The JSON goes
to bench/results/slowloris-<stamp>.json; the database is removed at the end.
tests/security/test_connection_limits.py checks the same behaviour with a looser bound, as tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pymysql

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
DATABASE = "bench_slowloris"
PORT = 8094


def sql(statement: str) -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    try:
        conn.cursor().execute(statement)
    finally:
        conn.close()


async def slow_sockets(port: int, count: int) -> list[float]:
    """The attack: how long each socket stayed open, from its connect to the server's close."""

    async def one() -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        opened = time.monotonic()
        writer.write(b"G")
        try:
            while True:
                try:
                    await asyncio.wait_for(reader.read(), 10)
                    break
                except TimeoutError:
                    writer.write(b"E")
        except ConnectionError:
            pass
        writer.close()
        return time.monotonic() - opened

    tasks = []
    for start in range(0, count, 100):  # 100 at a time, so the listen queue never overflows
        tasks += [asyncio.create_task(one()) for _ in range(start, min(count, start + 100))]
        await asyncio.sleep(0.05)
    return await asyncio.gather(*tasks)


def probe_until(port: int, stop: threading.Event, probes: list[tuple[int, float]]) -> None:
    paths = ("/healthz", "/readyz")
    while not stop.is_set():
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", paths[len(probes) % 2])
            status = connection.getresponse().status
        except OSError:
            status = 0
        finally:
            connection.close()
        probes.append((status, time.monotonic() - started))
        time.sleep(0.05)


def wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("blogsvc did not become ready within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--attack", type=int, help=argparse.SUPPRESS)  # the child process: run the sockets
    args = parser.parse_args()
    if args.attack:
        print(json.dumps(asyncio.run(slow_sockets(args.attack, args.sockets))))
        return

    env = os.environ | {
        "BLOGSVC_DATABASE_URL": f"mysql://root@127.0.0.1:3306/{DATABASE}",
        "BLOGSVC_LOG_LEVEL": "warning",
    }
    sql(f"DROP DATABASE IF EXISTS {DATABASE}")
    subprocess.run([sys.executable, "-m", "blogsvc", "migrate"], env=env, cwd=REPO, check=True, capture_output=True)
    command = [sys.executable, "-m", "blogsvc", "serve", "--port", str(PORT), "--workers", str(args.workers)]
    server = subprocess.Popen(command, env=env, cwd=REPO)
    try:
        wait_healthy(PORT)
        probes: list[tuple[int, float]] = []
        stop = threading.Event()
        prober = threading.Thread(target=probe_until, args=(PORT, stop, probes))
        prober.start()
        try:
            attack = [sys.executable, __file__, "--attack", str(PORT), "--sockets", str(args.sockets)]
            held = sorted(json.loads(subprocess.run(attack, check=True, capture_output=True, text=True).stdout))
            time.sleep(1)
        finally:
            stop.set()
            prober.join()
    finally:
        server.terminate()
        server.wait()
        sql(f"DROP DATABASE IF EXISTS {DATABASE}")

    latencies = sorted(seconds for _, seconds in probes)
    result = {
        "sockets": args.sockets,
        "workers": args.workers,
        "probes": len(probes),
        "probe_statuses": sorted({status for status, _ in probes}),
        "probe_ms": {
            "median": round(latencies[len(latencies) // 2] * 1000, 1),
            "p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
            "max": round(latencies[-1] * 1000, 1),
        },
        "socket_held_s": {"min": round(held[0], 2), "max": round(held[-1], 2)},
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"slowloris-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
