"""OPTIONS answered with the methods the path really has. Litestar's own OPTIONS handler lists the
methods of the first handlers registered on a path only (GET /users is missing from OPTIONS /users),
so http/edge.py puts the full list, from the routes of the app, in its Allow header."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.routes import HTTPRoute

if TYPE_CHECKING:
    from litestar.types import Scope

ALLOW = b"allow"


class AllowedMethods:
    def __init__(self) -> None:
        self._allow: dict[str, bytes] = {}

    def of(self, scope: Scope) -> bytes | None:
        """The Allow header for the route the request matched; None if it matched none."""
        if not self._allow:  # the routes are complete once the app serves
            self._allow = {
                route.path_format: ", ".join(sorted(route.methods)).encode()
                for route in Litestar.from_scope(scope).routes
                if isinstance(route, HTTPRoute)
            }
        template = scope.get("path_template")
        return None if template is None else self._allow.get(template)
