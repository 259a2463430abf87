"""Safe retries: a POST with an `Idempotency-Key` header runs once per caller and key. A repeat with the same
request within TTL gets the first response again (status, body, Location, ETag) and runs nothing; the key
with a different request is a 422; a repeat while the first is still running is a 409.

The first request claims the key with an INSERT the primary key lets only one request make, runs, and
stores its response before sending it. A 5xx, or an exception, releases the key instead, so a retry runs
again; a 4xx the route answered (404, 409 ...) is stored and replayed like a success. A request that fails
validation (a bad body, path id or media type, or over the size limit) claims nothing: it changes nothing,
and is answered without the database.

POST /auth/verify takes the header but is never replayed: it creates nothing, and an old 200 replayed
after the password changed would be a wrong answer to a security question."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import TYPE_CHECKING, Any, cast

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware import ASGIMiddleware
from litestar.openapi.spec import OpenAPIHeader, OpenAPIResponse, OpenAPIType, Schema

from blogsvc.http.body import MAX_BODY_BYTES
from blogsvc.http.openapi import RETRY_AFTER, add_problem, operations, optional_header, responses_of
from blogsvc.security.auth import caller
from blogsvc.security.idempotency_records import HEADER, Record, Stored

if TYPE_CHECKING:
    from litestar.datastructures import State
    from litestar.openapi.spec import OpenAPI
    from litestar.types import (
        ASGIApp,
        HTTPResponseStartEvent,
        HTTPScope,
        Message,
        Receive,
        ReceiveMessage,
        Scope,
        Send,
    )

    from blogsvc.db.cluster import Database

log = logging.getLogger("blogsvc.idempotency")

REPLAYED_HEADER = "Idempotent-Replayed"
NOT_REPLAYED = frozenset({"/auth/verify"})
MAX_KEY_LENGTH = 255
# Visible ASCII: what a header can carry unaltered (servers strip surrounding spaces).
KEY_PATTERN = r"^[!-~]{1,255}$"
_KEY = re.compile(KEY_PATTERN.encode())
_KEY_HEADER = HEADER.lower().encode()
_REPLAYED_HEADER = REPLAYED_HEADER.lower().encode()


def _bad_key(message: str) -> ValidationException:
    return ValidationException(detail="Invalid header", extra=[{"message": message, "key": HEADER, "source": "header"}])


def _passes_validation(scope: Scope, body: bytes, state: State) -> bool:
    """Whether the route will accept this request's parameters and body (the app's own check, the one its
    before_request hook makes), so that a request bound to fail claims nothing and needs no database."""
    validator = state.request_validator
    try:
        return not validator.errors(validator.spec(scope["route_handler"]), scope, body, state)
    except HTTPException:  # a body that is not JSON
        return False


class IdempotencyMiddleware(ASGIMiddleware):
    """On every POST route (`middleware=[IDEMPOTENT]` in the controllers; a test checks that none is
    missing), so that other routes run without a layer. Its key comes from the app's state."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        keys = [value for name, value in scope["headers"] if name == _KEY_HEADER]
        if cast("HTTPScope", scope)["method"] != "POST" or not keys:
            await next_app(scope, receive, send)
            return
        if len(keys) > 1:
            raise _bad_key(f"Send one {HEADER} header, not {len(keys)}.")
        if not _KEY.fullmatch(keys[0]):
            raise _bad_key(f"Expected 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces).")
        if scope["path"] in NOT_REPLAYED:
            await next_app(scope, receive, send)
            return

        received, body, complete = await _read_body(receive, MAX_BODY_BYTES)
        replay_receive = _replaying(received, receive)
        state = Litestar.from_scope(scope).state
        if not complete or not _passes_validation(scope, body, state):
            await next_app(scope, replay_receive, send)
            return

        db: Database = state.db
        fingerprint = _fingerprint(state.idempotency_fingerprint_key, scope, body)
        record = Record(db, _key_hash(keys[0]), fingerprint)
        stored = await record.claim_or_find()
        if stored is not None:
            await _send_stored(send, stored, replayed=True)
            return

        response = _Capture()
        try:
            await next_app(scope, replay_receive, response.send)
        except BaseException:
            await _quietly(record.release(), "release")
            raise
        result = response.result()
        if result is None or result.status >= 500:
            await _quietly(record.release(), "release")
        else:
            await _quietly(record.finish(result), "store the response of")
        if result is not None:
            await _send_stored(send, result, replayed=False)


IDEMPOTENT = IdempotencyMiddleware()


def fingerprint_key(secret: bytes) -> bytes:
    """The key of the request fingerprints (app state), derived from the service secret: the same on every replica."""
    return hmac.new(secret, b"blogsvc idempotency fingerprint v1", hashlib.sha256).digest()


def _key_hash(key: bytes) -> bytes:
    return hashlib.sha256(caller.get() + b"\0" + key).digest()


def _fingerprint(key: bytes, scope: Scope, body: bytes) -> bytes:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    http = cast("HTTPScope", scope)
    for part in (http["method"].encode(), http["path"].encode(), http["query_string"], body):
        mac.update(len(part).to_bytes(8, "big") + part)
    return mac.digest()


class _Capture:
    """Collects the response the route sends, so that it is stored before the client sees it."""

    def __init__(self) -> None:
        self.start: HTTPResponseStartEvent | None = None
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    def result(self) -> Stored | None:
        if self.start is None:
            return None
        headers = [(name.lower(), value) for name, value in self.start.get("headers", ())]
        return Stored(self.start["status"], headers, b"".join(self.chunks))


async def _send_stored(send: Send, stored: Stored, *, replayed: bool) -> None:
    headers = stored.headers
    if replayed:
        headers = [*headers, (b"content-length", str(len(stored.body)).encode()), (_REPLAYED_HEADER, b"true")]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


async def _read_body(receive: Receive, limit: int) -> tuple[list[ReceiveMessage], bytes, bool]:
    """The request's messages as received, its body, and whether the body was complete within `limit`
    bytes (if not, reading stops there: the route answers 413)."""
    received: list[ReceiveMessage] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return received, b"", False
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:
            return received, b"", False
        if not message.get("more_body", False):
            return received, b"".join(chunks), True


def _replaying(received: list[ReceiveMessage], receive: Receive) -> Receive:
    """A receive() that gives the messages already read, then reads on."""
    pending = list(received)

    async def replay() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _quietly(action: Any, what: str) -> None:
    try:
        await action
    except Exception:
        log.exception("could not %s an idempotency record", what)


def declare(openapi: OpenAPI) -> None:
    """The header, its 409 and 422, and Idempotent-Replayed, on every POST operation that replays."""
    for path, method, operation in operations(openapi):
        if method != "post" or path in NOT_REPLAYED:
            continue
        optional_header(
            operation,
            HEADER,
            "Makes retries safe: a repeat with the same key and request within 24 hours gets the first "
            "response again and changes nothing. Keys are per caller.",
            Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_KEY_LENGTH, pattern=KEY_PATTERN),
        )
        responses = responses_of(operation)
        add_problem(responses, 409, f"a request with this {HEADER} is still in flight.", {"Retry-After": RETRY_AFTER})
        add_problem(responses, 422, f"this {HEADER} was used for a different request.", {})
        for status, response in responses.items():
            if status.startswith("2") and isinstance(response, OpenAPIResponse):
                response.headers = {
                    **(response.headers or {}),
                    REPLAYED_HEADER: OpenAPIHeader(
                        schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
                        description=f"Present when this is the stored response to an earlier request with the "
                        f"same {HEADER}.",
                    ),
                }
