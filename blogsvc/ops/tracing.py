"""Traces, when the OTEL_* variables ask for them (config.traces_service_name): a server span per request,
continuing the caller's W3C traceparent and named by the route template; spans.py adds a child span per
SQL statement and argon2 call; ops/logs.py puts the trace id on every log line written meanwhile. Spans
go out in batches over OTLP/HTTP from a thread of each worker. Off, none of this is installed, and the SDK
and the exporter are not even imported (6.5 MB a worker): start() imports them.

The server span is made here with the SDK, not by OpenTelemetry's ASGI middleware (which Litestar's plugin
wraps too): measured on one worker's reads (docs/benchmarks.md, "Traces"), the middleware cost 145 us of
CPU a request, sampled or not (its attribute collection and metric instruments run for every request),
this one 50-80 us sampled and 30 us not. The caller's context is read by the SDK's propagators (W3C
traceparent and baggage, or OTEL_PROPAGATORS) through the middleware package's own ASGI header getter."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any, cast

from litestar.enums import ScopeType
from opentelemetry import propagate, trace
from opentelemetry.semconv.attributes.http_attributes import (
    HTTP_REQUEST_METHOD,
    HTTP_RESPONSE_STATUS_CODE,
    HTTP_ROUTE,
)
from opentelemetry.semconv.attributes.network_attributes import NETWORK_PROTOCOL_VERSION
from opentelemetry.semconv.attributes.url_attributes import URL_PATH, URL_SCHEME
from opentelemetry.trace import SpanKind, StatusCode

from blogsvc import __version__, spans

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send
    from opentelemetry.sdk.trace import TracerProvider

_SERVER_ERROR = 500
FLUSH_SECONDS = 5.0


def start(service_name: str) -> TracerProvider:
    """This worker's tracer provider, exporting to the OTLP endpoint of the OTEL_* variables (sampled as
    OTEL_TRACES_SAMPLER says); the child spans of spans.py are on until stop()."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name, SERVICE_VERSION: __version__}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    spans.turn_on(provider.get_tracer("blogsvc"))
    return provider


async def stop(provider: TracerProvider) -> None:
    """Child spans off, and what is still batched sent, for at most FLUSH_SECONDS: the SDK would wait up to
    30 s for an endpoint that does not answer, past the grace period Kubernetes gives a pod to stop (the
    spans are then lost; the thread is a daemon, so the worker exits without it)."""
    spans.turn_on(None)
    flushing = threading.Thread(target=provider.shutdown, name="otel-flush", daemon=True)
    flushing.start()
    deadline = time.monotonic() + FLUSH_SECONDS
    while flushing.is_alive() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def server_spans(app: ASGIApp, provider: TracerProvider) -> ASGIApp:
    """A server span around every request `app` serves, in the caller's trace when it sent one, with the
    HTTP semantic conventions' method, path, scheme, protocol version and status (an error from 500 up, or
    an exception, by its type: spans.span_of). Never the query string: a filter's email or a search's words
    are the caller's data."""
    from opentelemetry.instrumentation.asgi import asgi_getter

    tracer = provider.get_tracer("blogsvc")

    async def traced(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        method = scope["method"]
        caller = propagate.extract(cast("dict[str, Any]", scope), getter=asgi_getter)
        with spans.span_of(tracer, method, SpanKind.SERVER, context=caller) as span:
            if not span.is_recording():  # not sampled: nothing to write on it
                await app(scope, receive, send)
                return
            span.set_attributes(
                {
                    HTTP_REQUEST_METHOD: method,
                    URL_PATH: scope["path"],
                    URL_SCHEME: scope["scheme"],
                    NETWORK_PROTOCOL_VERSION: scope["http_version"],
                }
            )

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute(HTTP_RESPONSE_STATUS_CODE, message["status"])
                    if message["status"] >= _SERVER_ERROR:
                        span.set_status(StatusCode.ERROR)
                await send(message)

            await app(scope, receive, send_status)

    return traced


def named_by_route(app: ASGIApp) -> ASGIApp:
    """`app`, with the current server span renamed `<method> <route template>` as its response starts,
    once the router has matched the route (a HEAD, served by its GET route, is named by it); a request no
    route matched keeps the method alone (OpenTelemetry's name for a path of unbounded values). It goes
    inside http/edge.py, whose copy of the scope for a HEAD is where the router writes the template."""

    async def named(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        async def send_named(message: Message) -> None:
            if message["type"] == "http.response.start" and (route := scope.get("path_template")) is not None:
                span = trace.get_current_span()
                span.update_name(f"{scope['method']} {route}")
                span.set_attribute(HTTP_ROUTE, route)
            await send(message)

        await app(scope, receive, send_named)

    return named
