"""Structured logs through Litestar's structlog plugin: JSON lines (or a console format for development),
one access line per request carrying its request id (http/edge.py calls log_request) and, when traces are
on, its trace id, and no secret in any line."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from litestar.logging.config import LoggingConfig, StructLoggingConfig
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin
from opentelemetry import trace

from blogsvc.http.edge import request_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from structlog.typing import EventDict, Processor

    from blogsvc.config import Settings

# Defence in depth: these keys never reach a log line, whoever logs them.
_SECRET_KEYS = frozenset({"password", "password_hash", "new_hash", "old_hash", "authorization", "token", "secret"})

access_log = structlog.get_logger()


def _add_request_id(_: Any, __: str, event: EventDict) -> EventDict:
    if (current := request_id.get()) is not None:
        event.setdefault("request_id", current)
    return event


def _add_trace_id(_: Any, __: str, event: EventDict) -> EventDict:
    """The id of the trace this line was written in (ops/tracing.py's server span), as W3C writes it."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
    return event


def _redact_secrets(_: Any, __: str, event: EventDict) -> EventDict:
    for key in event.keys() & _SECRET_KEYS:
        event[key] = "[redacted]"
    event.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
    return event


def structlog_plugin(settings: Settings, *, trace_ids: bool = False) -> StructlogPlugin:
    """The app's logging (Litestar configures it when the app is made); `trace_ids` when traces are on."""
    config = _config(settings, trace_ids=trace_ids)
    return StructlogPlugin(StructlogConfig(structlog_logging_config=config, enable_middleware_logging=False))


def configure_process(settings: Settings) -> None:
    """The same logging for a process without an app: the command line, and the parent of `serve`'s workers."""
    config = _config(settings)
    if config.standard_lib_logging_config is not None:
        config.standard_lib_logging_config.configure()
    config.configure()


def _config(settings: Settings, *, trace_ids: bool = False) -> StructLoggingConfig:
    """structlog and the standard library (uvicorn, litestar, our own loggers) render alike. structlog's
    lines (the access log: one a request) skip the standard library and are written straight to stderr,
    which costs a third of the standard library's path."""
    as_json = settings.log_format == "json"
    # Colours only for a terminal: escape codes in a file or a log collector are noise.
    console = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        *([_add_trace_id] if trace_ids else []),  # off, not even a call per line
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_secrets,
    ]
    level = settings.log_level.upper()
    stdlib = LoggingConfig(
        formatters={
            "standard": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [structlog.stdlib.ExtraAdder(), structlog.stdlib.add_logger_name, *shared],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *([structlog.processors.format_exc_info] if as_json else []),  # the traceback as one string
                    structlog.processors.JSONRenderer() if as_json else console,
                ],
            }
        },
        loggers={
            **{
                name: {"level": level, "handlers": ["queue_listener"], "propagate": False}
                for name in ("blogsvc", "litestar", "uvicorn", "yoyo")
            },
            # http/edge.py writes the access log (log_request), with more in it.
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
        root={"level": "WARNING", "handlers": ["queue_listener"]},
        log_exceptions="never",  # errors.py logs unexpected exceptions itself, once
    )
    if as_json:
        render: Processor = _json_line
        # Unbuffered, on file descriptor 2 itself: a line is out before the next request starts.
        factory: Any = structlog.BytesLoggerFactory(open(2, "wb", buffering=0, closefd=False))  # noqa: SIM115
    else:
        render, factory = console, structlog.PrintLoggerFactory(sys.stderr)
    return StructLoggingConfig(
        processors=[*shared, render],
        logger_factory=factory,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        standard_lib_logging_config=stdlib,
        log_exceptions="never",
    )


_json_encoder = msgspec.json.Encoder()


def _json_line(_: Any, __: str, event: EventDict) -> bytes:
    return _json_encoder.encode(event)


def request_logger(settings: Settings) -> Callable[[str, str, int, float], None] | None:
    """What writes the access log (log_request), or None at a log level that leaves it out (an info line)."""
    return log_request if logging.getLevelNamesMapping()[settings.log_level.upper()] <= logging.INFO else None


def log_request(method: str, route: str, status: int, seconds: float) -> None:
    access_log.info(
        "request",
        logger="blogsvc.access",
        method=method,
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 3),
    )


def log_connection_closed(reason: str, status: int) -> None:
    """A connection the server closed, or a request it turned away, before a route saw it (server_protocol.py)."""
    access_log.info("connection closed", logger="blogsvc.access", reason=reason, status=status or None)
