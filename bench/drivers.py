"""What one statement costs the client, by driver: aiomysql (blogsvc's) against asyncmy (Cython).

Runs blogsvc's single-article lookup (sql/articles.sql, get_articles) one statement at a time on
one connection, for lookups of 1 and of 5 ids (what coalesced reads send under load), and prints
the client process's CPU time and the wall time per statement. The database must hold the bench
data (python3 bench/run.py --keep-db leaves it in bench_blogsvc).

    bench/.venv/bin/python bench/drivers.py [--db bench_blogsvc] [--statements 3000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

import aiomysql
import asyncmy
import uvloop

from ceiling import database_arguments, lookup_sql


async def measure(pool: Any, sql: str, ids_per_statement: int, statements: int, articles: int) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(statements):
        ids = json.dumps([random.randint(1, articles) for _ in range(ids_per_statement)])  # noqa: S311
        async with pool.acquire() as conn, conn.cursor() as cursor:
            await cursor.execute(sql, (ids,))
            await cursor.fetchall()
    return {
        "cpu_us": (time.process_time() - cpu) / statements * 1e6,
        "wall_us": (time.perf_counter() - wall) / statements * 1e6,
    }


async def run(args: argparse.Namespace) -> None:
    sql = lookup_sql()
    common = {"host": args.host, "port": args.port, "user": args.user, "password": args.password}
    pools = {
        "aiomysql": await aiomysql.create_pool(db=args.db, minsize=1, maxsize=1, autocommit=True, **common),
        "asyncmy": await asyncmy.create_pool(database=args.db, minsize=1, maxsize=1, autocommit=True, **common),
    }
    for pool in pools.values():  # warm-up
        await measure(pool, sql, 1, 200, args.articles)
    for round_ in range(1, args.rounds + 1):
        for name, pool in pools.items():
            for size in (1, 5):
                figures = await measure(pool, sql, size, args.statements, args.articles)
                print(
                    f"round {round_}  {name:9} {size} id(s)/statement: "
                    f"client CPU {figures['cpu_us']:6.1f} us, wall {figures['wall_us']:6.1f} us per statement"
                )
    for pool in pools.values():
        pool.close()
        await pool.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    database_arguments(parser)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--statements", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
