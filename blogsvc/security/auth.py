"""Service authentication: with tokens configured, every route but the service's own needs
`Authorization: Bearer <token>`; a `read` token may only read."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, cast

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.openapi.spec import SecurityScheme

from blogsvc.errors import Forbidden, Unauthorized
from blogsvc.http.openapi import STRING, add_problem, operations, responses_of

if TYPE_CHECKING:
    from litestar.openapi.spec import OpenAPI
    from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

    from blogsvc.security.tokens import TokenTable

# Open to anyone (API.md): what the service is, its probes, its metrics and its documentation.
OPEN_PATHS = frozenset({"/", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json"})
OPEN_PREFIXES = ("/docs/assets/",)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SCHEME = "bearerAuth"  # the security scheme's name in the OpenAPI document

# The SHA-256 digest of the caller's token for the rest of the request (b"" while the service runs open):
# idempotency keys are kept per caller.
caller: ContextVar[bytes] = ContextVar("blogsvc_caller", default=b"")

_AUTHORIZATION = b"authorization"
_BEARER = b"bearer "


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def _presented_token(scope: Scope) -> bytes | None:
    values = [value for name, value in scope["headers"] if name == _AUTHORIZATION]
    if len(values) != 1 or values[0][:7].lower() != _BEARER:
        return None
    return values[0][7:].strip() or None


class ServiceAuthMiddleware(ASGIMiddleware):
    """Installed only when tokens are configured. Runs after routing (an unknown path is a 404, a
    wrong method a 405, either way) and before the body is read."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, tokens: TokenTable) -> None:
        self.tokens = tokens

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if is_open(scope["path"]):
            await next_app(scope, receive, send)
            return
        presented = _presented_token(scope)
        if presented is None:
            raise Unauthorized(
                "This route needs a service token: Authorization: Bearer <token>.",
                headers={"WWW-Authenticate": 'Bearer realm="blogsvc"'},
            )
        token = self.tokens.find(presented)
        if token is None:
            raise Unauthorized(
                "The service token is not one this service knows.",
                headers={"WWW-Authenticate": 'Bearer realm="blogsvc", error="invalid_token"'},
            )
        method = cast("HTTPScope", scope)["method"]
        if token.scope != "write" and method in WRITE_METHODS:
            raise Forbidden(
                f"A {token.scope} token cannot {method}; this route needs a write token.",
                headers={"WWW-Authenticate": 'Bearer realm="blogsvc", error="insufficient_scope", scope="write"'},
            )
        reset = caller.set(token.sha256)
        try:
            await next_app(scope, receive, send)
        finally:
            caller.reset(reset)


def declare(openapi: OpenAPI) -> None:
    """The bearer scheme, `security` with 401 (and 403 on writes) on every protected operation, and an empty
    `security` on the open ones. Declared whether or not this service runs with tokens, so that a client
    generated from any deployment's document works with all of them."""
    openapi.components.security_schemes = {
        SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="A service token, one of those configured in BLOGSVC_API_TOKENS or its file. A read token may "
            "GET, HEAD and OPTIONS; POST, PUT, PATCH and DELETE need a write token. A service running "
            "without tokens (development) accepts requests without one.",
        )
    }
    for path, method, operation in operations(openapi):
        if is_open(path):
            operation.security = []
            continue
        operation.security = [{SCHEME: []}]
        responses = responses_of(operation)
        add_problem(responses, 401, "a missing or unknown service token.", {"WWW-Authenticate": STRING})
        if method.upper() in WRITE_METHODS:
            add_problem(responses, 403, "a read token on a route that writes.", {"WWW-Authenticate": STRING})
