"""Traces, when the OTEL_* variables ask for them (config.traces_service_name): OpenTelemetry's ASGI
middleware makes a server span per request, continuing the caller's W3C traceparent, and is renamed here
by the route template once the router has matched one; spans.py adds a child span per SQL statement and
argon2 call; ops/logs.py puts the trace id on every log line written meanwhile. Spans go out in batches
over OTLP/HTTP from a thread of each worker. Off, none of this is installed, and the SDK, the exporter and
the middleware are not even imported (6.5 MB a worker): start() and server_spans() import them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.enums import ScopeType
from opentelemetry import trace
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE

from blogsvc import __version__, spans

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

# The attributes that hold a query string, in the old and the stable HTTP conventions.
HTTP_TARGET, HTTP_URL, URL_QUERY = "http.target", "http.url", "url.query"


def start(service_name: str) -> TracerProvider:
    """This worker's tracer provider, exporting to the OTLP endpoint of the OTEL_* variables; the child
    spans of spans.py are on until stop()."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name, SERVICE_VERSION: __version__}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    spans.turn_on(provider.get_tracer("blogsvc"))
    return provider


def stop(provider: TracerProvider) -> None:
    """Child spans off, and what is still batched sent (the SDK waits up to 30 s for the endpoint)."""
    spans.turn_on(None)
    provider.shutdown()


def server_spans(app: ASGIApp, provider: TracerProvider) -> ASGIApp:
    """A server span around every request `app` serves. Metrics stay Prometheus's (ops/metrics.py), and the
    middleware's own spans for each receive() and send() are left out: a request is one span and its
    statements."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.metrics import NoOpMeterProvider

    middleware: ASGIApp = OpenTelemetryMiddleware(  # type: ignore[assignment]  # its own, looser scope types
        app,
        tracer_provider=provider,
        meter_provider=NoOpMeterProvider(),
        exclude_spans=["receive", "send"],
        server_request_hook=_without_query,
    )
    return middleware


def _without_query(span: Span, scope: dict[str, Any]) -> None:
    """The URL attributes without the query string: a filter's email or a search's words are the caller's
    data, and a trace backend is no place for them (the route and the path say what was asked)."""
    if not (scope.get("query_string") and span.is_recording()):
        return
    written = span.attributes  # type: ignore[attr-defined]  # the SDK's span, the one a recording span is
    for key in (HTTP_TARGET, HTTP_URL):  # the middleware's default conventions
        if key in written:
            span.set_attribute(key, written[key].partition("?")[0])
    if URL_QUERY in written:  # the stable ones (OTEL_SEMCONV_STABILITY_OPT_IN=http)
        span.set_attribute(URL_QUERY, "")


def named_by_route(app: ASGIApp) -> ASGIApp:
    """`app`, with the current server span renamed `<method> <route template>` as its response starts (the
    middleware names it by the raw path, one name per article; it ends the span with the response's last
    message, so the name is set before), or just `<method>` when no route matched (OpenTelemetry's name
    for a path of unbounded values)."""

    async def named(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return

        async def send_named(message: Message) -> None:
            if message["type"] == "http.response.start":
                span = trace.get_current_span()
                method, route = scope["method"], scope.get("path_template")
                if route is None:
                    span.update_name(method)
                else:
                    span.update_name(f"{method} {route}")
                    span.set_attribute(HTTP_ROUTE, route)
            await send(message)

        await app(scope, receive, send_named)

    return named
