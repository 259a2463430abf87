"""OPTIONS answered with the methods the path really has. Litestar's own OPTIONS handler lists the
methods of the first handlers registered on a path only (GET /users is missing from OPTIONS /users),
so this answers OPTIONS itself, from the routes of the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.routes import HTTPRoute

if TYPE_CHECKING:
    from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send


class OptionsMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self) -> None:
        self._allow: dict[str, bytes] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if cast("HTTPScope", scope)["method"] != "OPTIONS":
            await next_app(scope, receive, send)
            return
        if not self._allow:
            routes = Litestar.from_scope(scope).routes
            self._allow = {
                route.path_format: ", ".join(sorted(route.methods)).encode()
                for route in routes
                if isinstance(route, HTTPRoute)
            }
        allow = self._allow.get(scope["path_template"])
        if allow is None:
            await next_app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
