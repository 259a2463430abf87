"""The `blogsvc` command: serve the API, migrate the database, show the settings."""

from __future__ import annotations

import argparse
import asyncio
import functools
import math
import signal
import sys
import textwrap
from typing import TYPE_CHECKING

import uvicorn

from blogsvc import __version__, config
from blogsvc.db import migrate
from blogsvc.errors import Gone
from blogsvc.http import supervisor
from blogsvc.http.server_protocol import ConnectionLimits, ServerProtocol
from blogsvc.ops.logs import configure_process

if TYPE_CHECKING:
    from collections.abc import Sequence

    from blogsvc.config import Settings


def _parser() -> argparse.ArgumentParser:
    settings = textwrap.fill(", ".join(config.variable(name) for name in config.FIELDS), width=100)
    parser = argparse.ArgumentParser(
        prog="blogsvc",
        description="The blog microservice: users and their articles over HTTP, on MariaDB.",
        epilog=f"Settings come from the environment: {settings}.\n"
        "`blogsvc settings` shows their current values; docs/operations.md explains each.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"blogsvc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API with uvicorn")
    serve.add_argument("--host", help="address to bind (default: BLOGSVC_HOST, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: BLOGSVC_PORT, else 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default: BLOGSVC_WORKERS, else one per CPU)")
    mig = commands.add_parser("migrate", help="create the database if missing and apply pending migrations")
    mig.add_argument("--rollback", action="store_true", help="undo the latest applied migration instead")
    commands.add_parser("settings", help="list every setting with its current value (secrets masked)")
    relay = commands.add_parser("relay", help="publish the change feed to a NATS JetStream stream, in order")
    relay.add_argument("--nats", required=True, metavar="nats://HOST:PORT", help="the NATS server")
    relay.add_argument(
        "--stream", default="blogsvc", type=_nats_name, help="the JetStream stream (made if missing; default blogsvc)"
    )
    relay.add_argument(
        "--prefix",
        default="blogsvc",
        type=_nats_name,
        help="subjects are <prefix>.<resource>.<action> (default blogsvc; another lets deployments share a NATS)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # before the settings: --help and --version work whatever they are
    try:
        # Only the API checks tokens: the pods of `migrate` and `relay` need not mount a token file.
        settings = config.from_env(read_tokens=args.command not in ("migrate", "relay"))
        config.traces_service_name()  # an OTEL_* setting it cannot honour stops blogsvc here, not each worker
    except config.ConfigError as exc:
        return _fail(str(exc), status=2)
    if args.command == "settings":
        return _settings(settings)
    configure_process(settings)
    try:
        if args.command == "migrate":
            return _migrate(settings, rollback=args.rollback)
        if args.command == "relay":
            return _relay(settings, args.nats, args.stream, args.prefix)
        return _serve(
            settings,
            settings.host if args.host is None else args.host,
            settings.port if args.port is None else args.port,
            settings.workers if args.workers is None else args.workers,
        )
    except migrate.Unusable as exc:
        return _fail(str(exc), status=1)


def _fail(message: str, status: int) -> int:
    print(f"blogsvc: {message}", file=sys.stderr)
    return status


def _settings(settings: Settings) -> int:
    rows = config.described(settings)
    width = max(len(name) for name, _, _ in rows)
    for name, value, meaning in rows:
        print(f"{name:<{width}}  {value}\n{'':<{width}}  ({meaning})")
    return 0


def _migrate(settings: Settings, rollback: bool) -> int:
    url = settings.database
    done = migrate.rollback_latest(url) if rollback else migrate.apply(url)
    verb = "rolled back" if rollback else "applied"
    print(f"blogsvc: {verb} {', '.join(done) if done else 'nothing'} on {url.host}:{url.port}/{url.database}")
    return 0


def _nats_name(name: str) -> str:
    if not name or any(c in name for c in ". *>/\\") or len(name) > 100:
        raise argparse.ArgumentTypeError("up to 100 characters, none of . * > / \\ or space")
    return name


def _relay(settings: Settings, nats_url: str, stream: str, prefix: str) -> int:
    """Relay until SIGTERM or SIGINT (then release the lease so another relay takes over at once)."""
    from blogsvc.events.relay import relay_forever  # nats-py is only needed here

    async def until_stopped() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)  # type: ignore[union-attr]  # inside a task
        await relay_forever(settings, nats_url, stream, prefix)

    migrate.check(settings.database, settings.db_connect_timeout)
    try:
        asyncio.run(until_stopped())
    except asyncio.CancelledError:
        return 0
    except Gone as exc:
        return _fail(f"relay: {exc.detail}", status=1)
    return 0


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    if not 1 <= port <= 65535 or workers < 1:
        return _fail("--port must be 1-65535 and --workers at least 1", status=2)
    # Once serving, a database outage makes the service not ready (503) rather than stop it; at the
    # start, a database it cannot log in to is a mistake to say at once.
    migrate.check(settings.database, settings.db_connect_timeout)
    config.share_with_workers(settings, workers)
    # Only now: importing it makes the metrics, which with PROMETHEUS_MULTIPROC_DIR set open files in that
    # directory, and share_with_workers has just made it (the image sets it; /tmp starts empty).
    from blogsvc.ops import metrics

    # Uvicorn re-raises SIGTERM once it has shut down gracefully; ending then is a clean exit (status 0).
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    server = uvicorn.Config(
        "blogsvc.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        # The connection's limits (slow or huge requests, requests in progress) are the protocol's: uvicorn's
        # own concurrency limit counted idle connections too, probes included.
        http=functools.partial(  # type: ignore[arg-type]  # called as the class would be
            ServerProtocol, limits=_limits(settings), on_rejected=metrics.connection_closed
        ),
        # The service never reads the client's address or scheme (Location headers are paths), so
        # X-Forwarded-* would be parsed for nothing; and the server's name is nobody's business.
        proxy_headers=False,
        server_header=False,
        log_level=settings.log_level,
        log_config=None,  # the app configures logging (structlog); the request log is ours too
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout),
    )
    return supervisor.run(server)


def _limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        # A backstop against overload: past this many requests at once, a worker answers 503 at once
        # instead of queueing more work (0: no limit).
        max_requests=settings.limit_concurrency or None,
    )
