"""Traces (ops/tracing.py): a real `blogsvc serve` sending OTLP/HTTP to a receiver in this test, which
decodes the protobuf with the protocol's own messages (opentelemetry-proto). A request carrying a W3C
traceparent yields a server span in that trace, child of the caller's span and named by the route
template, with a child span per SQL statement (named by its query, no values) and per argon2 call; the
access log line carries the trace id. Off unless an OTLP endpoint is set."""

from __future__ import annotations

import gzip
import json
import re
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from blogsvc import spans
from blogsvc.app import create_app
from blogsvc.config import ConfigError, traces_service_name
from blogsvc.db.queries import resource_dir
from blogsvc.http.edge import Edge
from blogsvc.ops.tracing import FLUSH_SECONDS
from tests.e2e_server import Server
from tests.helpers import new_user_body

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from blogsvc.config import Settings

SERVICE_NAME = "blogsvc-under-test"
QUERY_NAMES = {
    match[1]
    for path in resource_dir("sql").glob("*.sql")
    for match in re.finditer(r"^--\s*(?:name|template):\s*([a-z_][a-z0-9_]*)", path.read_text(), re.MULTILINE)
}


class Receiver:
    """An OTLP/HTTP traces endpoint: every span it is sent, with its resource's attributes."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict[str, Any], Span]] = []
        self.content_types: set[str] = set()
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                received.content_types.add(self.headers.get("Content-Type", ""))
                for resource_spans in request.resource_spans:
                    resource = attributes(resource_spans.resource.attributes)
                    for scope_spans in resource_spans.scope_spans:
                        received.spans += [(resource, span) for span in scope_spans.spans]
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def trace(self, trace_id: bytes, *, at_least: int, timeout: float = 10) -> list[Span]:
        """The spans of one trace, once `at_least` of them have come, the server span among them (it ends
        last, so it may come in a later batch than its children: waiting for children alone flaked)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [span for _, span in self.spans if span.trace_id == trace_id]
            whole = len(found) >= at_least and any(span.kind == Span.SPAN_KIND_SERVER for span in found)
            if whole or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: getattr(pair.value, pair.value.WhichOneof("value")) for pair in pairs}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(scope="module")
def server(settings: Settings, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    served = Server(
        settings,
        tmp_path_factory.mktemp("traces") / "serve.log",
        workers=2,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_SERVICE_NAME=SERVICE_NAME,
        OTEL_BSP_SCHEDULE_DELAY="50",  # milliseconds between batches: the default 5 s would slow the tests
        BLOGSVC_LOG_LEVEL="info",  # the access log
    )
    try:
        served.wait_until_healthy()
        yield served
    finally:
        served.stop()


def traceparent() -> tuple[str, bytes, bytes]:
    """A W3C traceparent header of a sampled caller span: the header, its trace id and its span id."""
    trace_id, span_id = secrets.token_bytes(16), secrets.token_bytes(8)
    return f"00-{trace_id.hex()}-{span_id.hex()}-01", trace_id, span_id


def the_server_span(spans: list[Span]) -> Span:
    server_spans = [span for span in spans if span.kind == Span.SPAN_KIND_SERVER]
    assert len(server_spans) == 1, [(span.name, span.kind) for span in spans]
    return server_spans[0]


def access_lines(server: Server, trace_id: bytes) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request" and line.get("trace_id") == trace_id.hex()]


def test_a_create_is_a_server_span_in_the_callers_trace_with_its_statements_and_hash(
    server: Server, receiver: Receiver
) -> None:
    header, trace_id, caller_span = traceparent()
    body = new_user_body()
    response = httpx.post(f"{server.base_url}/users", json=body, headers={"traceparent": header}, timeout=10)
    assert response.status_code == 201, response.text

    spans_of_trace = receiver.trace(trace_id, at_least=3)
    request = the_server_span(spans_of_trace)
    assert request.name == "POST /users"
    assert request.parent_span_id == caller_span
    written = attributes(request.attributes)
    assert (written["http.route"], written["http.request.method"], written["http.response.status_code"]) == (
        "/users",
        "POST",
        201,
    )
    children = [span for span in spans_of_trace if span is not request]
    assert {span.parent_span_id for span in children} == {request.span_id}
    statements = [span for span in children if span.kind == Span.SPAN_KIND_CLIENT]
    assert statements, [span.name for span in children]
    assert {span.name for span in statements} <= QUERY_NAMES, [span.name for span in statements]
    assert "insert_user" in {span.name for span in statements}
    assert [span.name for span in children if span.kind == Span.SPAN_KIND_INTERNAL] == ["argon2 hash"]
    # Never a value: neither the email nor the password is anywhere in what was exported.
    exported = b"".join(span.SerializeToString() for span in spans_of_trace)
    assert body["email"].encode() not in exported
    assert body["password"].encode() not in exported
    resource = next(resource for resource, span in receiver.spans if span.trace_id == trace_id)
    assert resource["service.name"] == SERVICE_NAME
    assert receiver.content_types == {"application/x-protobuf"}


def test_a_failed_statement_is_an_error_span_that_quotes_nothing(server: Server, receiver: Receiver) -> None:
    """A duplicate email fails the insert (the database's message quotes the email): the statement's span
    says it failed and with what type of error, never the message."""
    body = new_user_body()
    assert httpx.post(f"{server.base_url}/users", json=body, timeout=10).status_code == 201
    header, trace_id, _ = traceparent()
    response = httpx.post(f"{server.base_url}/users", json=body, headers={"traceparent": header}, timeout=10)
    assert response.status_code == 409, response.text

    spans_of_trace = receiver.trace(trace_id, at_least=3)
    failed = [span for span in spans_of_trace if span.status.code == Status.STATUS_CODE_ERROR]
    assert [(span.name, attributes(span.attributes).get("error.type")) for span in failed] == [
        ("insert_user", "IntegrityError")
    ]
    assert not any(span.events for span in spans_of_trace)  # no exception event, with its message
    exported = b"".join(span.SerializeToString() for span in spans_of_trace)
    assert body["email"].encode() not in exported
    assert body["email"].split("@")[0].encode() not in exported


def test_spans_are_named_by_the_route_template_and_unmatched_paths_by_the_method(
    server: Server, receiver: Receiver
) -> None:
    created = httpx.post(f"{server.base_url}/users", json=new_user_body(), timeout=10).json()
    header, trace_id, caller_span = traceparent()
    response = httpx.get(f"{server.base_url}/users/{created['id']}", headers={"traceparent": header}, timeout=10)
    assert response.status_code == 200
    read = the_server_span(receiver.trace(trace_id, at_least=2))
    assert read.name == "GET /users/{user_id}"
    assert read.parent_span_id == caller_span

    header, trace_id, _ = traceparent()
    response = httpx.get(f"{server.base_url}/no/such/{secrets.token_hex(4)}", headers={"traceparent": header})
    assert response.status_code == 404
    unmatched = the_server_span(receiver.trace(trace_id, at_least=1))
    assert unmatched.name == "GET"
    assert "http.route" not in attributes(unmatched.attributes)


def test_no_query_string_reaches_the_trace(server: Server, receiver: Receiver) -> None:
    """A filter's email or a search's words are the caller's data: the URL attributes go without the query."""
    header, trace_id, _ = traceparent()
    email = f"secret-{secrets.token_hex(4)}@example.com"
    response = httpx.get(f"{server.base_url}/users", params={"email": email}, headers={"traceparent": header})
    assert response.status_code == 200, response.text
    spans_of_trace = receiver.trace(trace_id, at_least=2)
    listing = the_server_span(spans_of_trace)
    assert attributes(listing.attributes)["url.path"] == "/users"
    exported = b"".join(span.SerializeToString() for span in spans_of_trace)
    assert b"secret-" not in exported
    assert email.split("@")[0].encode() not in exported


def test_a_request_without_traceparent_starts_a_trace_of_its_own(server: Server, receiver: Receiver) -> None:
    before = len(receiver.spans)
    request_id = secrets.token_hex(8)
    assert httpx.get(f"{server.base_url}/healthz", headers={"X-Request-ID": request_id}).status_code == 200
    deadline = time.monotonic() + 10
    while not (new := [span for _, span in receiver.spans[before:] if span.name == "GET /healthz"]):
        assert time.monotonic() < deadline, "no span for /healthz"
        time.sleep(0.05)
    assert new[0].parent_span_id == b""
    assert len(new[0].trace_id) == 16
    assert new[0].trace_id != bytes(16)
    [line] = [json.loads(line) for line in server.output().splitlines() if line.startswith("{") and request_id in line]
    assert line["trace_id"] == new[0].trace_id.hex()


def test_the_access_log_line_carries_the_trace_id(server: Server, receiver: Receiver) -> None:
    header, trace_id, _ = traceparent()
    assert httpx.get(f"{server.base_url}/articles", headers={"traceparent": header}).status_code == 200
    receiver.trace(trace_id, at_least=2)
    deadline = time.monotonic() + 5
    while not (lines := access_lines(server, trace_id)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [("GET", "/articles", 200)]


def test_background_work_starts_no_trace_of_its_own(server: Server, receiver: Receiver) -> None:
    """The sequencer's statements every second (events/sequencer.py) are in no request: no span."""
    time.sleep(2)
    assert receiver.spans
    roots = [(span.name, span.kind) for _, span in receiver.spans if not span.parent_span_id]
    assert all(kind == Span.SPAN_KIND_SERVER for _, kind in roots), roots


def test_a_collector_that_never_answers_neither_fails_requests_nor_holds_the_exit(
    settings: Settings, tmp_path: Path
) -> None:
    """The exporter's sends time out on a thread (10 s each, with retries); requests do not wait for them,
    and a worker's exit waits at most tracing.FLUSH_SECONDS for the last batch (the SDK's own bound is 30 s)."""
    with socket.create_server(("127.0.0.1", 0)) as black_hole:  # takes connections, never answers
        served = Server(
            settings,
            tmp_path / "serve.log",
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{black_hole.getsockname()[1]}",
            OTEL_BSP_SCHEDULE_DELAY="50",
            BLOGSVC_DRAIN_DELAY="0",
        )
        try:
            served.wait_until_healthy()
            took = []
            for _ in range(20):
                started = time.monotonic()
                assert httpx.get(f"{served.base_url}/articles", timeout=5).status_code == 200
                took.append(time.monotonic() - started)
            assert max(took) < 1.0, took
            time.sleep(0.5)  # a batch is out, waiting on the collector
            stopping = time.monotonic()
            assert served.stop() == 0, served.output()
            assert time.monotonic() - stopping < FLUSH_SECONDS + 3, served.output()
        finally:
            served.stop()


# ---- off by default ----


def test_without_an_endpoint_nothing_is_installed(settings: Settings) -> None:
    app = create_app(settings)
    assert isinstance(app.asgi_handler, Edge)
    assert spans.statement("get_users") is spans.statement("insert_user")  # the one shared no-op


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"OTEL_SERVICE_NAME": "x"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "blogsvc"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces", "OTEL_SERVICE_NAME": " posts "}, "posts"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "TRUE"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "blogsvc"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, None),
    ],
)
def test_traces_are_on_with_an_otlp_endpoint(env: dict[str, str], expected: str | None) -> None:
    assert traces_service_name(env) == expected


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "console"},
    ],
)
def test_what_blogsvc_cannot_send_is_a_config_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="OTEL_"):
        traces_service_name(env)
