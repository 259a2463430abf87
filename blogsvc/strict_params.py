"""Integers in paths and query strings are plain decimal digits. Litestar converts parameters leniently
("5e0" and "5.0" would read as 5), so a hook checks the raw text before they are converted."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from litestar.exceptions import ValidationException

if TYPE_CHECKING:
    from litestar import Request

# Path parameters named *_id are ids (the docs assets' file_path is not); these are the integer query parameters.
INTEGER_QUERY_PARAMS = ("limit", "offset", "author_id")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,17}")


def _bad(name: str, source: str) -> ValidationException:
    message = "Expected an integer in decimal digits (no sign, exponent, fraction or leading zero)"
    return ValidationException(detail="Invalid parameter", extra=[{"message": message, "key": name, "source": source}])


async def reject_lax_integers(request: Request[Any, Any, Any]) -> None:
    """A before_request hook: 400 for an integer parameter that is not written as one.
    (async although it never awaits: Litestar would run a plain function in a worker thread.)"""
    for name, value in request.path_params.items():
        if name.endswith("_id") and not _DECIMAL.fullmatch(value):
            raise _bad(name, "path")
    if not request.scope["query_string"]:  # most reads have none: skip parsing it
        return
    query = request.query_params
    for name in INTEGER_QUERY_PARAMS:
        for value in query.getall(name, ()):
            if not _DECIMAL.fullmatch(value):
                raise _bad(name, "query")
