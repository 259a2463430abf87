"""Security headers on every response, errors from routing included."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.enums import ScopeType

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

# On every response. A JSON API is never a page to frame or run scripts in; the documentation pages
# send a Content-Security-Policy of their own (service.DOCS_CSP), which is kept.
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"))
DEFAULT_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Responses are per caller and change with every write; only the versioned documentation assets say
# otherwise (immutable, a year), and whatever sets a Cache-Control of its own is left to it.
DEFAULT_CACHE_CONTROL = b"no-store"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in ALWAYS if header[0] not in present)
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", DEFAULT_CSP))
                if b"cache-control" not in present:
                    headers.append((b"cache-control", DEFAULT_CACHE_CONTROL))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
