"""How create_app puts the security features in: middleware, lifespan, the outer ASGI wrapper, OpenAPI."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from blogsvc.security import housekeeping, openapi
from blogsvc.security.auth import ServiceAuthMiddleware
from blogsvc.security.headers import SecurityHeadersMiddleware
from blogsvc.security.idempotency import IdempotencyMiddleware
from blogsvc.security.methods import OptionsMiddleware
from blogsvc.security.password_policy import PasswordPolicyMiddleware
from blogsvc.security.tokens import TokenTable

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager

    from litestar import Litestar
    from litestar.middleware import ASGIMiddleware
    from litestar.types import ASGIApp

    from blogsvc.config import Settings


def middleware(settings: Settings, max_body_bytes: int) -> list[ASGIMiddleware]:
    """Route middleware, outermost first: authentication (only with tokens configured), OPTIONS, the
    password policy, then Idempotency-Key, which needs both (the caller, and bodies decoded as the route will)."""
    # Fingerprints are keyed by the service secret (BLOGSVC_CURSOR_SECRET): the same on every replica.
    secret = settings.cursor_secret.encode() or secrets.token_bytes(32)
    layers: list[ASGIMiddleware] = []
    if settings.api_tokens:
        layers.append(ServiceAuthMiddleware(TokenTable(settings.api_tokens)))
    layers.append(OptionsMiddleware())
    layers.append(PasswordPolicyMiddleware(settings.password_min_length))
    layers.append(IdempotencyMiddleware(secret, max_body_bytes))
    return layers


def lifespan(settings: Settings) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    return housekeeping.lifespan(settings)


def headers(app: ASGIApp) -> ASGIApp:
    """Around the whole app, so that 404s and 405s get the headers too."""
    return SecurityHeadersMiddleware(app)


def complete_openapi(app: Litestar, settings: Settings) -> None:
    openapi.complete(app, tokens=bool(settings.api_tokens), password_min_length=settings.password_min_length)
