"""How long `blogsvc migrate` takes on a big table, and whether writes go on meanwhile.

    .venv/bin/python bench/migrate_online.py [--articles 1000000] [--since 0007]

Makes a database at the schema before `--since` (yoyo, the repository's own migrations), loads
`--articles` articles, then runs `blogsvc migrate` while a writer does what the previous version does
all day: create an article, update another, one after the other. It prints, for each migration applied,
its time (yoyo logs whole seconds) and the writes in flight during it: how many, how many failed, and the
longest the writer waited for one (failed ones included). The JSON goes to bench/results/migrate-<stamp>.json;
the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymysql
import yoyo

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
BLOGSVC = Path(sys.executable).parent / "blogsvc"


def connect(args: argparse.Namespace, database: str | None = None) -> Any:
    return pymysql.connect(
        host=args.db_host, port=args.db_port, user=args.db_user, password=args.db_password,
        database=database, autocommit=True, charset="utf8mb4",
    )  # fmt: skip


def url(args: argparse.Namespace) -> str:
    password = f":{args.db_password}" if args.db_password else ""
    return f"mysql://{args.db_user}{password}@{args.db_host}:{args.db_port}/{args.database}"


def prepare(args: argparse.Namespace) -> None:
    """The database at the schema before args.since, with the users and articles loaded."""
    server = connect(args)
    with server.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{args.database}`")
        cur.execute(f"CREATE DATABASE `{args.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    backend = yoyo.get_backend(url(args))
    before = yoyo.read_migrations(str(REPO / "migrations")).filter(lambda m: m.id < args.since)
    with backend.lock():
        backend.apply_migrations(backend.to_apply(before))
    db = connect(args, args.database)
    with db.cursor() as cur:
        cur.execute(
            "INSERT INTO users (email, password_hash, created_at) "
            "SELECT CONCAT('user', seq, '@example.com'), 'not-a-hash', NOW(6) FROM seq_1_to_1000"
        )
        for low in range(0, args.articles, 100_000):
            count = min(100_000, args.articles - low)
            cur.execute(
                "INSERT INTO articles (author_id, title, body, created_at) "
                "SELECT 1 + seq MOD 1000, CONCAT('Article number ', seq), "
                "CONCAT('Body of article ', seq, '. ', REPEAT('Lorem ipsum dolor sit amet. ', 7)), "
                f"TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_{low + 1}_to_{low + count}"
            )
        cur.execute("ANALYZE TABLE users, articles")
    db.close()


class Writer(threading.Thread):
    """The previous version's writes, back to back: create an article, update a random one."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(daemon=True)
        self.args = args
        self.done = threading.Event()
        self.writes: list[tuple[float, float, bool]] = []  # (ended at, seconds it took, whether it failed)
        self.errors: list[str] = []

    def run(self) -> None:
        db = connect(self.args, self.args.database)
        n = 0
        with db.cursor() as cur:
            while not self.done.is_set():
                n += 1
                started = time.monotonic()
                try:
                    if n % 2:
                        cur.execute(
                            "INSERT INTO articles (author_id, title, body, created_at) VALUES (%s, %s, %s, NOW(6))",
                            (1 + n % 1000, f"Written during the migration {n}", "Body."),
                        )
                    else:
                        cur.execute(
                            "UPDATE articles SET title = %s, updated_at = NOW(6), version = version + 1 "
                            "WHERE id = %s AND deleted_at IS NULL",
                            (f"Updated during the migration {n}", random.randint(1, self.args.articles)),
                        )
                except pymysql.MySQLError as exc:
                    failed = time.monotonic()
                    self.writes.append((failed, failed - started, True))
                    self.errors.append(f"after {failed - started:.1f} s: {exc}")
                    continue
                finished = time.monotonic()
                self.writes.append((finished, finished - started, False))
                time.sleep(0.005)
        db.close()


def applied_at(args: argparse.Namespace) -> list[tuple[str, datetime]]:
    """When each migration of this run was applied, by yoyo's log (UTC)."""
    db = connect(args, args.database)
    with db.cursor() as cur:
        cur.execute(
            "SELECT migration_id, created_at_utc FROM _yoyo_log WHERE operation = 'apply' AND migration_id >= %s "
            "ORDER BY created_at_utc",
            (args.since,),
        )
        rows = [(str(m), at.replace(tzinfo=UTC)) for m, at in cur.fetchall()]
    db.close()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--articles", type=int, default=1_000_000)
    p.add_argument("--since", default="0007", help="the first migration to measure (default 0007)")
    p.add_argument("--database", default="bench_migrate")
    p.add_argument("--db-host", default="127.0.0.1")
    p.add_argument("--db-port", type=int, default=3306)
    p.add_argument("--db-user", default="root")
    p.add_argument("--db-password", default="")
    args = p.parse_args()

    loading = time.monotonic()
    prepare(args)
    print(f"loaded {args.articles:,} articles at the schema before {args.since} in {time.monotonic() - loading:.0f} s")

    writer = Writer(args)
    writer.start()
    time.sleep(2)  # the writer's pace before the migration, for comparison
    start_wall, start = datetime.now(UTC), time.monotonic()
    env = {**os.environ, "BLOGSVC_DATABASE_URL": url(args), "BLOGSVC_LOG_LEVEL": "warning"}
    migrate = subprocess.run([str(BLOGSVC), "migrate"], env=env, capture_output=True, text=True, check=False)
    total = time.monotonic() - start
    time.sleep(2)
    writer.done.set()
    writer.join()
    if migrate.returncode != 0:
        sys.exit(f"blogsvc migrate failed:\n{migrate.stdout}{migrate.stderr}")

    steps: list[dict[str, Any]] = []
    begin = start
    for migration, at in applied_at(args):
        end = start + (at - start_wall).total_seconds()
        # The writes in flight during the step: a write that waited through it ends after it.
        during = [(took, failed) for ended, took, failed in writer.writes if ended > begin and ended - took < end]
        steps.append(
            {
                "migration": migration,
                "seconds": round(end - begin, 1),
                "writes": sum(not failed for _, failed in during),
                "failed_writes": sum(failed for _, failed in during),
                "longest_wait_s": round(max((took for took, _ in during), default=0.0), 3),
            }
        )
        begin = end
    before = [took for ended, took, _ in writer.writes if ended <= start]
    report = {
        "articles": args.articles,
        "migrate_seconds": round(total, 1),
        "steps": steps,
        "slowest_write_before_s": round(max(before, default=0.0), 3),
        "write_errors": writer.errors,
        "server": connect(args).get_server_info(),
    }
    print(f"blogsvc migrate: {total:.1f} s; slowest write in the 2 s before: {report['slowest_write_before_s']} s")
    for step in steps:
        print(
            f"  {step['migration']}: {step['seconds']} s, {step['writes']} writes ({step['failed_writes']} failed), "
            f"longest wait for one {step['longest_wait_s']} s"
        )
    print(f"write errors: {writer.errors}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"migrate-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")
    server = connect(args)
    with server.cursor() as cur:
        cur.execute(f"DROP DATABASE `{args.database}`")


if __name__ == "__main__":
    main()
