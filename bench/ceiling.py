"""The ceiling for a single-article read: raw aiomysql point-selects, no HTTP.

N concurrent asyncio tasks (the same count as wrk's connections) share one aiomysql pool
(as large as blogsvc's, BLOGSVC_POOL_MAX, default 10) and run a primary-key SELECT on the
articles table with random ids, on uvloop like blogsvc, for a fixed duration. Prints one JSON
object: queries/s and latency percentiles (microseconds).

    bench/.venv/bin/python bench/ceiling.py --db bench_blogsvc --concurrency 32 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

import aiomysql
import uvloop

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # blogsvc's query loader is plain Python: read the file as the service does

from blogsvc.db.queries import parse_queries  # noqa: E402


def lookup_sql() -> str:
    """get_articles from sql/articles.sql, as the service runs it, with the named parameter made positional."""
    queries, _templates = parse_queries((REPO / "sql" / "articles.sql").read_text(encoding="utf-8"))
    sql = queries["get_articles"].sql
    return re.sub(r"%\(ids\)s", "%s", sql)


QUERIES = {
    # The brief's ceiling: a plain point-select on the articles table.
    "plain": "SELECT id, author_id, title, body, created_at, updated_at FROM articles WHERE id = %s",
    # What blogsvc's GET /articles/{id} runs (sql/articles.sql, get_articles) for one id, for information.
    "blogsvc_query": lookup_sql(),
}


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


async def run(args: argparse.Namespace) -> dict[str, object]:
    pool = await aiomysql.create_pool(
        host=args.host,
        port=args.port,
        user=args.user,
        password=args.password,
        db=args.db,
        minsize=args.pool,
        maxsize=args.pool,
        autocommit=True,
        charset="utf8mb4",
        init_command="SET time_zone = '+00:00'",
    )
    sql = QUERIES[args.query]
    latencies: list[float] = []
    counting = False
    stop = False

    async def worker(seed: int) -> None:
        rnd = random.Random(seed)
        while not stop:
            article_id = rnd.randint(1, args.max_id)
            started = time.perf_counter()
            async with pool.acquire() as conn, conn.cursor() as cur:
                await cur.execute(sql, (article_id if args.query == "plain" else f"[{article_id}]",))
                row = await cur.fetchone()
            if row is None:
                raise RuntimeError(f"article {article_id} not found")
            if counting:
                latencies.append(time.perf_counter() - started)

    tasks = [asyncio.create_task(worker(i)) for i in range(args.concurrency)]
    await asyncio.sleep(args.warmup)
    counting = True
    began = time.perf_counter()
    await asyncio.sleep(args.duration)
    counting = False
    elapsed = time.perf_counter() - began
    stop = True
    await asyncio.gather(*tasks)
    pool.close()
    await pool.wait_closed()
    lat = sorted(latencies)
    return {
        "query": args.query,
        "requests": len(lat),
        "duration_s": elapsed,
        "rps": len(lat) / elapsed,
        "concurrency": args.concurrency,
        "pool": args.pool,
        "latency_us": {
            "mean": statistics.fmean(lat) * 1e6 if lat else 0.0,
            "p50": percentile(lat, 50) * 1e6,
            "p90": percentile(lat, 90) * 1e6,
            "p99": percentile(lat, 99) * 1e6,
            "max": (lat[-1] if lat else 0.0) * 1e6,
        },
    }


def database_arguments(parser: argparse.ArgumentParser) -> None:
    """The server and database to measure on (the bench data: python3 bench/run.py --keep-db)."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    parser.add_argument("--db", default="bench_blogsvc")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    database_arguments(parser)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--max-id", type=int, default=100_000)
    parser.add_argument("--query", choices=sorted(QUERIES), default="plain")
    args = parser.parse_args()
    print(json.dumps(uvloop.run(run(args))))


if __name__ == "__main__":
    main()
