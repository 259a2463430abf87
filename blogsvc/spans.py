"""Child spans for the service's own work inside a request: a SQL statement (named by its query, never
its parameters) and an argon2 call. ops/tracing.py turns them on in a worker whose traces are on; off,
each call hands back one shared no-op context, so the hot path makes no OpenTelemetry call at all. On,
only a request whose span is sampled gets them: not the work of one that is not, nor background work
(the sequencer's statements every second would each start a trace of their own)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind, get_current_span

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

_OFF: AbstractContextManager[Any] = nullcontext()
_tracer: Tracer | None = None


def turn_on(tracer: Tracer | None) -> None:
    """Spans from `tracer` from now on; None turns them off again."""
    global _tracer  # one switch per process, flipped at a worker's start and end
    _tracer = tracer


def statement(query_name: str) -> AbstractContextManager[Any]:
    """Around one SQL statement: a client span named by its query (sql/*.sql)."""
    if _tracer is None or not get_current_span().is_recording():
        return _OFF
    return _tracer.start_as_current_span(query_name, kind=SpanKind.CLIENT)


def hashing(name: str) -> AbstractContextManager[Any]:
    """Around an argon2 call: an internal span (the wait for the hashing thread included)."""
    if _tracer is None or not get_current_span().is_recording():
        return _OFF
    return _tracer.start_as_current_span(name)
