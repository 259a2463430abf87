"""The Litestar and uvicorn internals blogsvc/http leans on (its docstring lists them), each checked where it
is used, so that an upgrade that changes one fails here, by name, rather than somewhere on the hot path."""

from __future__ import annotations

import asyncio
import inspect
import signal
from typing import TYPE_CHECKING, Annotated, Any

import httptools
import msgspec
import pytest
import uvicorn
from litestar import Controller, Litestar, get
from litestar._kwargs import extractors
from litestar.params import Parameter
from litestar.response.base import ASGIResponse
from litestar.testing import AsyncTestClient
from uvicorn.protocols.http import httptools_impl
from uvicorn.server import ServerState
from uvicorn.supervisors import multiprocess

from blogsvc.http.controllers import AppController
from blogsvc.http.server_protocol import ServerProtocol, _JoinedWrites
from blogsvc.http.validation import RequestValidator
from blogsvc.users.schemas import UserCreate
from tests.http.test_server_protocol import RecordingTransport

if TYPE_CHECKING:
    from litestar.handlers import BaseRouteHandler
    from litestar.types import Receive, Scope, Send


def handler_of(app: Litestar, path: str, method: str) -> BaseRouteHandler:
    (route,) = [route for route in app.routes if route.path == path]
    return next(h for h in route.route_handlers if method in getattr(h, "http_methods", ()))


def test_asgi_response_has_the_attributes_responses_py_sets() -> None:
    """http/responses.py builds an ASGIResponse by setting these attributes instead of calling __init__."""
    assert set(ASGIResponse.__slots__) == {
        "_encoded_cookies",
        "background",
        "body",
        "content_length",
        "encoding",
        "headers",
        "is_head_response",
        "status_code",
    }, "litestar.response.base.ASGIResponse changed its attributes: update http/responses.py's _Encoded"


def test_litestar_sends_every_request_to_asgi_handler() -> None:
    """http/edge.py replaces app.asgi_handler, which Litestar.__call__ must still be the way in to."""
    assert "self.asgi_handler(" in inspect.getsource(Litestar.__call__), (
        "Litestar.__call__ no longer calls self.asgi_handler: the Edge layer in app.py would be bypassed"
    )


async def test_the_router_puts_the_route_template_in_the_scope() -> None:
    seen: list[Any] = []

    @get("/things/{thing_id:str}", sync_to_thread=False)
    def thing(thing_id: Annotated[str, Parameter()]) -> None:
        return None

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        await router(scope, receive, send)
        seen.append(scope.get("path_template"))

    app = Litestar([thing])
    router = app.asgi_handler
    app.asgi_handler = recording
    async with AsyncTestClient(app) as client:
        assert (await client.get("/things/7")).status_code == 200
    assert seen == ["/things/{thing_id}"], "the router no longer sets scope['path_template'] (http/edge.py)"


def test_a_route_handler_knows_the_type_of_its_body(app: Litestar) -> None:
    """http/validation.py makes bodies into the annotation of the handler's `data` argument."""
    assert RequestValidator().spec(handler_of(app, "/users", "POST")).body is UserCreate


def test_litestar_reads_a_json_body_through_request_json() -> None:
    """JSONOnlyRequest.json (http/body.py) is where every JSON body is decoded."""
    assert "await connection.json()" in inspect.getsource(extractors.json_extractor), (
        "Litestar no longer decodes bodies through Request.json(): http/body.py's strict decoding would be skipped"
    )


def test_parameters_come_from_signatures_and_dependencies(app: Litestar) -> None:
    """http/validation.py reads parsed_fn_signature of handlers and of the providers resolve_dependencies() gives,
    and the bounds and names of their Parameter(...)s."""

    def parameters(path: str, method: str) -> set[tuple[str, str, bool]]:
        spec = RequestValidator().spec(handler_of(app, path, method))
        return {(p.name, p.source, p.integer) for p in spec.parameters}

    paging = {
        ("limit", "query", True),
        ("offset", "query", True),
        ("cursor", "query", False),
        ("order", "query", False),
    }
    # Through two dependencies: article_listing, which takes listing's, which takes page's.
    article_filters = {
        ("id", "query", True),
        ("status", "query", False),
        ("tag", "query", False),
        ("q", "query", False),
        ("created_after", "query", False),
        ("created_before", "query", False),
        ("updated_since", "query", False),
        ("sort", "query", False),
        ("count", "query", False),
    }
    assert parameters("/articles", "GET") == {*paging, *article_filters, ("author_id", "query", True)}
    assert parameters("/users/{user_id:str}", "GET") == {("user_id", "path", True)}
    assert parameters("/users/{user_id:str}", "PATCH") == {("user_id", "path", True), ("If-Match", "header", False)}
    assert parameters("/users/{user_id:str}/articles", "GET") == {*paging, *article_filters, ("user_id", "path", True)}
    assert parameters("/", "GET") == set()
    (limit,) = [p for p in RequestValidator().spec(handler_of(app, "/articles", "GET")).parameters if p.name == "limit"]
    assert msgspec.convert(100, limit.kind) == 100
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(101, limit.kind)  # the bound of Parameter(le=100)


def test_a_controller_is_made_with_its_owner(app: Litestar) -> None:
    """http/controllers.py's AppController takes the app's state from the owner Litestar passes in."""
    assert list(inspect.signature(Controller.__init__).parameters) == ["self", "owner"]
    controller = handler_of(app, "/users/{user_id:str}", "GET").fn.__self__  # handlers run bound to it
    assert isinstance(controller, AppController) and controller.state is app.state


def test_uvicorns_protocol_writes_only_through_the_transport_it_was_given() -> None:
    """http/server_protocol.py joins transport.write() calls; writelines() or a write that bypasses
    self.transport would go around it."""
    source = inspect.getsource(httptools_impl.HttpToolsProtocol)
    assert "writelines" not in source, "uvicorn's protocol now uses writelines: join those too"
    assert "self.transport = transport" in inspect.getsource(httptools_impl.HttpToolsProtocol.connection_made)


async def test_a_response_through_uvicorns_protocol_leaves_in_one_write() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})

    config = uvicorn.Config(app, http=ServerProtocol, lifespan="off", log_config=None)
    config.load()
    protocol = ServerProtocol(config=config, server_state=ServerState(), app_state={})
    transport = RecordingTransport()
    protocol.connection_made(transport)
    assert isinstance(protocol.transport, _JoinedWrites)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    for _ in range(20):  # the app runs in a task of its own; the write leaves a turn later
        await asyncio.sleep(0)
    (written,) = transport.writes
    assert written.startswith(b"HTTP/1.1 200 OK\r\n") and written.endswith(b"\r\n\r\n{}")


def test_uvicorns_protocol_has_what_the_connection_limits_lean_on() -> None:
    """http/server_protocol.py: on_headers_complete runs `self.app` for the request (swapped for the 503 of an
    overloaded worker) and makes the cycle with the scope on_message_begin made (how a head in progress is
    told apart), requests in progress are `self.tasks`, and a cycle marked disconnected drops what the app
    sends and tells its receive() the client is gone."""
    protocol = httptools_impl.HttpToolsProtocol
    headers_complete = inspect.getsource(protocol.on_headers_complete)
    assert "app = self.app" in headers_complete and "scope=self.scope" in headers_complete
    assert "self.scope = {" in inspect.getsource(protocol.on_message_begin)
    assert "self.tasks = server_state.tasks" in inspect.getsource(protocol.__init__)
    cycle = httptools_impl.RequestResponseCycle
    assert "if self.disconnected:\n            return" in inspect.getsource(cycle.send)
    assert "if self.disconnected or self.response_complete:" in inspect.getsource(cycle.receive)


def test_httptools_keeps_a_callbacks_exception_as_the_context_of_its_own() -> None:
    """http/server_protocol.py stops a parse from a callback (too many headers) and finds out why this way."""

    class Stop(Exception):
        pass

    class Callbacks:
        def on_header(self, name: bytes, value: bytes) -> None:
            raise Stop

    parser = httptools.HttpRequestParser(Callbacks())
    with pytest.raises(httptools.HttpParserCallbackError) as caught:
        parser.feed_data(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert isinstance(caught.value.__context__, Stop)


def test_uvicorns_supervisor_hands_sighup_to_handle_hup() -> None:
    """http/supervisor.py overrides Multiprocess.handle_hup: the supervisor calls handle_<name> for each signal
    it caught, SIGHUP among them, keeps its workers in `self.processes`, each with `pid` and `is_ready()`
    (true once its server, lifespan included, has started), and uvicorn.run() serves a multi-worker
    config with Multiprocess(config, sockets=[config.bind_socket()]). tests/security/test_token_rotation.py
    checks the whole: a SIGHUP that restarted the workers would fail it."""
    assert multiprocess.SIGNALS[signal.SIGHUP] == "HUP"
    assert 'getattr(self, f"handle_{sig_name.lower()}"' in inspect.getsource(multiprocess.Multiprocess.handle_signals)
    assert "self.processes.append(process)" in inspect.getsource(multiprocess.Multiprocess.init_processes)
    assert "self.server.started" in inspect.getsource(multiprocess.Process.pong)
    assert {"pid", "is_ready"} <= set(dir(multiprocess.Process))
    assert "Multiprocess(config, sockets=[sock]).run()" in inspect.getsource(uvicorn.run)
