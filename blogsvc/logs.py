"""Structured logs through Litestar's structlog plugin: JSON lines (or a console format for development),
one access line per request carrying its request id (edge.Edge writes it), and no secret in any line."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import sys
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from litestar.logging.config import LoggingConfig, StructLoggingConfig
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor

    from blogsvc.config import Settings

REQUEST_ID_HEADER = b"x-request-id"
# A caller's id is kept only if it is a plain token: nothing to inject into a log line.
_GOOD_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# Defence in depth: these keys never reach a log line, whoever logs them.
_SECRET_KEYS = frozenset({"password", "password_hash", "new_hash", "old_hash", "authorization", "token", "secret"})

access_log = structlog.get_logger()
# The request being served, for every log line written while it is (a plain ContextVar: structlog's
# bound_contextvars costs several times more per request).
request_id: ContextVar[str | None] = ContextVar("blogsvc_request_id", default=None)


def _add_request_id(_: Any, __: str, event: EventDict) -> EventDict:
    if (current := request_id.get()) is not None:
        event.setdefault("request_id", current)
    return event


def _redact_secrets(_: Any, __: str, event: EventDict) -> EventDict:
    for key in event.keys() & _SECRET_KEYS:
        event[key] = "[redacted]"
    event.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
    return event


def structlog_plugin(settings: Settings) -> StructlogPlugin:
    """structlog and the standard library (uvicorn, litestar, our own loggers) render alike. structlog's
    lines (the access log: one a request) skip the standard library and are written straight to stderr,
    which costs a third of the standard library's path."""
    as_json = settings.log_format == "json"
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
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
                    structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(),
                ],
            }
        },
        loggers={
            **{
                name: {"level": level, "handlers": ["queue_listener"], "propagate": False}
                for name in ("blogsvc", "litestar", "uvicorn", "yoyo")
            },
            # edge.Edge writes the access log, with more in it.
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
        render, factory = structlog.dev.ConsoleRenderer(), structlog.PrintLoggerFactory(sys.stderr)
    config = StructLoggingConfig(
        processors=[*shared, render],
        logger_factory=factory,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        standard_lib_logging_config=stdlib,
        log_exceptions="never",
    )
    return StructlogPlugin(StructlogConfig(structlog_logging_config=config, enable_middleware_logging=False))


_json_encoder = msgspec.json.Encoder()


def _json_line(_: Any, __: str, event: EventDict) -> bytes:
    return _json_encoder.encode(event)


# Unique without a system call per request: a random prefix per process, then a counter.
_REQUEST_ID_PREFIX = secrets.token_hex(8)
_request_ids = itertools.count(1)


def _new_request_id() -> bytes:
    return f"{_REQUEST_ID_PREFIX}{next(_request_ids):08x}".encode()


def request_id_for(given: bytes | None) -> bytes:
    """The caller's X-Request-ID if it is a plain token, else a new id."""
    return given if given is not None and _GOOD_REQUEST_ID.fullmatch(given) else _new_request_id()


def logs_requests(level: str) -> bool:
    """Whether the access log is written at this log level (it is an info line)."""
    return logging.getLevelNamesMapping()[level.upper()] <= logging.INFO


def log_request(method: str, route: str, status: int, seconds: float) -> None:
    access_log.info(
        "request",
        logger="blogsvc.access",
        method=method,
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 3),
    )
