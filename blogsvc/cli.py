"""The `blogsvc` command: serve the API, or migrate the database."""

from __future__ import annotations

import argparse
import logging
import math
import os
import secrets
import signal
import sys
import tempfile
from typing import TYPE_CHECKING

import uvicorn

from blogsvc import __version__, migrate
from blogsvc.config import ConfigError, Settings, from_env
from blogsvc.one_write import OneWriteHttpToolsProtocol

if TYPE_CHECKING:
    from collections.abc import Sequence


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="blogsvc", description="The blog microservice.")
    parser.add_argument("--version", action="version", version=f"blogsvc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API with uvicorn")
    serve.add_argument("--host", default=settings.host, help=f"address to bind (default {settings.host})")
    serve.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port})")
    serve.add_argument(
        "--workers", type=int, default=settings.workers, help=f"worker processes (default {settings.workers})"
    )
    mig = commands.add_parser("migrate", help="create the database if missing and apply pending migrations")
    mig.add_argument("--rollback", action="store_true", help="undo the latest applied migration instead")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = from_env()
    except ConfigError as exc:
        print(f"blogsvc: {exc}", file=sys.stderr)
        return 2
    args = _parser(settings).parse_args(argv)
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if args.command == "migrate":
        return _migrate(settings, rollback=args.rollback)
    return _serve(settings, args.host, args.port, args.workers)


def _migrate(settings: Settings, rollback: bool) -> int:
    url = settings.database
    done = migrate.rollback_latest(url) if rollback else migrate.apply(url)
    verb = "rolled back" if rollback else "applied"
    print(f"blogsvc: {verb} {', '.join(done) if done else 'nothing'} on {url.host}:{url.port}/{url.database}")
    return 0


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    if not 1 <= port <= 65535 or workers < 1:
        print("blogsvc: --port must be 1-65535 and --workers at least 1", file=sys.stderr)
        return 2
    # Workers inherit the environment: one cursor key for all, and, with several, one directory where
    # prometheus_client's multiprocess mode sums their metrics (emptied: old workers' files are stale).
    # One worker keeps its metrics in memory, which costs a third as much per request.
    if not settings.cursor_secret:
        os.environ["BLOGSVC_CURSOR_SECRET"] = secrets.token_urlsafe(32)
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="blogsvc-metrics-")
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        _empty_directory(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    # Uvicorn re-raises SIGTERM once it has shut down gracefully; ending then is a clean exit (status 0).
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    uvicorn.run(
        "blogsvc.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http=OneWriteHttpToolsProtocol,
        # The service never reads the client's address or scheme (Location headers are paths), so
        # X-Forwarded-* would be parsed for nothing; and the server's name is nobody's business.
        proxy_headers=False,
        server_header=False,
        log_level=settings.log_level,
        log_config=None,  # the app configures logging (structlog); the request log is ours too
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout),
        # A backstop against overload: past this many connections or requests at once, a worker
        # answers 503 at once instead of queueing more work (0: no limit).
        limit_concurrency=settings.limit_concurrency or None,
    )
    return 0


def _empty_directory(path: str) -> None:
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
