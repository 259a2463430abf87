"""Fuzz a live `blogsvc serve` with schemathesis, driven by the service's own /openapi.json.

    .venv/bin/python -m tests.fuzz.run [--max-examples N] [more `schemathesis run` options]

Makes a throwaway database on the server BLOGSVC_DATABASE_URL names (migrated, dropped after), starts the
service on it with a write and a read token configured and cheap argon2 settings, runs

    schemathesis run http://127.0.0.1:PORT/openapi.json --mode all --checks all
        --phases examples,coverage,fuzzing,stateful --max-examples N -H "Authorization: Bearer <write token>"

with tests/fuzz/schemathesis.toml and tests/fuzz/hooks.py, and exits with schemathesis's status (the
server's errors are printed when it fails). Nothing is left behind: schemathesis runs in a temporary
directory."""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import msgspec
import pymysql

from blogsvc.config import DatabaseURL, from_env
from blogsvc.db import migrate
from tests.e2e_server import ROOT, Server

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
HOOKS = "tests.fuzz.hooks"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=10)
    args, extra = parser.parse_known_args(argv)

    base = from_env()
    database = base.database.with_database(f"blogsvc_fuzz_{secrets.token_hex(4)}")
    settings = msgspec.structs.replace(base, database=database)
    write_token, read_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    migrate.apply(database)
    with tempfile.TemporaryDirectory(prefix="blogsvc-fuzz-") as work:
        server = Server(
            settings,
            Path(work) / "server.log",
            BLOGSVC_API_TOKENS=f"write:{write_token},read:{read_token}",
            BLOGSVC_DRAIN_DELAY="0",
            BLOGSVC_LOG_LEVEL="warning",
        )
        try:
            server.wait_until_healthy()
            status = _schemathesis(server.base_url, write_token, args.max_examples, extra, work)
            if status != 0:
                errors = [line for line in server.output().splitlines() if '"level": "error"' in line]
                print("server errors:", *errors or ["(none)"], sep="\n", file=sys.stderr)
            return status
        finally:
            server.stop()
            _drop_database(database)


def _schemathesis(base_url: str, token: str, max_examples: int, extra: list[str], work: str) -> int:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/openapi.json",
        "--mode",
        "all",
        "--checks",
        "all",
        # Replaced by hooks.use_after_free_unless_restored: a restore brings a deleted resource back.
        "--exclude-checks",
        "use_after_free",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(max_examples),
        "--header",
        f"Authorization: Bearer {token}",
        *extra,
    ]
    print("+", " ".join(command).replace(token, "<write token>"), flush=True)
    # The hooks module is imported from the repository; schemathesis keeps its state in the work directory.
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=work, env=environment, check=False).returncode  # noqa: S603


def _drop_database(url: DatabaseURL) -> None:
    conn = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{url.database}`")
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
