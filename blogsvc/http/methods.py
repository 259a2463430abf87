"""The Allow header of OPTIONS and of a 405: the methods the path really has, HEAD wherever GET is (the
edge answers it). Litestar's own lists the methods of the first handlers registered on a path only
(GET /users is missing from OPTIONS /users), so http/edge.py puts this list in instead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.routes import HTTPRoute

if TYPE_CHECKING:
    from collections.abc import Collection

    from litestar.types import Scope

ALLOW = b"allow"


class AllowedMethods:
    def __init__(self) -> None:
        self._allow: dict[str, bytes] = {}

    def of(self, scope: Scope) -> bytes | None:
        """The Allow header for the route the request matched; None if it matched none."""
        if not self._allow:  # the routes are complete once the app serves
            self._allow = {
                route.path_format: ", ".join(sorted(_with_head(route.methods))).encode()
                for route in Litestar.from_scope(scope).routes
                if isinstance(route, HTTPRoute)
            }
        template = scope.get("path_template")
        return None if template is None else self._allow.get(template)


def with_head(allow: bytes) -> bytes:
    """An Allow header's value with HEAD added where GET is."""
    return ", ".join(sorted(_with_head([m.strip() for m in allow.decode("latin-1").split(",")]))).encode()


def _with_head(methods: Collection[str]) -> set[str]:
    return {*methods, "HEAD"} if "GET" in methods else set(methods)
