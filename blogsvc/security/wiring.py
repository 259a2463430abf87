"""How create_app puts the security features in: route middleware, app state, lifespan, OpenAPI.
(The security headers and OPTIONS are edge.Edge's; Idempotency-Key is on the POST routes themselves.)"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from blogsvc.security import housekeeping, idempotency, openapi
from blogsvc.security.auth import ServiceAuthMiddleware
from blogsvc.security.tokens import TokenTable

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager

    from litestar import Litestar
    from litestar.middleware import ASGIMiddleware

    from blogsvc.config import Settings


def middleware(settings: Settings) -> list[ASGIMiddleware]:
    """Route middleware for every route: authentication, only with tokens configured (without, routes run none)."""
    return [ServiceAuthMiddleware(TokenTable(settings.api_tokens))] if settings.api_tokens else []


def state(settings: Settings) -> dict[str, Any]:
    """What the request-time security code reads from the app's state."""
    # Fingerprints are keyed by the service secret (BLOGSVC_CURSOR_SECRET): the same on every replica.
    secret = settings.cursor_secret.encode() or secrets.token_bytes(32)
    return {
        "idempotency_fingerprint_key": idempotency.fingerprint_key(secret),
        "password_min_length": settings.password_min_length,
    }


def lifespan(settings: Settings) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    return housekeeping.lifespan(settings)


def complete_openapi(app: Litestar, settings: Settings) -> None:
    openapi.complete(app, tokens=bool(settings.api_tokens), password_min_length=settings.password_min_length)
