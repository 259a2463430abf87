"""Child spans for the service's own work inside a request: a SQL statement (named by its query, never
its parameters) and an argon2 call. ops/tracing.py turns them on in a worker whose traces are on; off,
each call hands back one shared no-op context, so the hot path makes no OpenTelemetry call at all. On,
only a request whose span is sampled gets them: not the work of one that is not, nor background work
(the sequencer's statements every second would each start a trace of their own).

An exception marks its span by its type alone (`error.type`), never its message: the database's can
quote a value ("Duplicate entry 'ann@example.com'"), and the SDK would record it whole."""

from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, StatusCode, get_current_span

if TYPE_CHECKING:
    from collections.abc import Iterator

    from opentelemetry.trace import Span, Tracer

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
    return span_of(_tracer, query_name, SpanKind.CLIENT)


def hashing(name: str) -> AbstractContextManager[Any]:
    """Around an argon2 call: an internal span (the wait for the hashing thread included)."""
    if _tracer is None or not get_current_span().is_recording():
        return _OFF
    return span_of(_tracer, name, SpanKind.INTERNAL)


@contextmanager
def span_of(tracer: Tracer, name: str, kind: SpanKind, **options: Any) -> Iterator[Span]:
    """The current span `name` while the block runs; an exception sets its status and `error.type`, its
    type's name, and nothing of its message."""
    with tracer.start_as_current_span(
        name, kind=kind, record_exception=False, set_status_on_exception=False, **options
    ) as span:
        try:
            yield span
        except BaseException as exc:
            span.set_status(StatusCode.ERROR)
            span.set_attribute(ERROR_TYPE, type(exc).__qualname__)
            raise
