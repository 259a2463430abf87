"""Integers in paths and query strings are plain decimal digits. Litestar converts parameters leniently
("5e0" and "5.0" would read as 5), so a before_request hook checks the raw text before they are converted.
Which parameters are integers comes from the handlers' own signatures (and their dependencies')."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from litestar.exceptions import ValidationException

if TYPE_CHECKING:
    from litestar import Request
    from litestar.handlers import BaseRouteHandler
    from litestar.typing import FieldDefinition

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,17}")


def _bad(name: str, source: str) -> ValidationException:
    message = "Expected an integer in decimal digits (no sign, exponent, fraction or leading zero)"
    return ValidationException(detail="Invalid parameter", extra=[{"message": message, "key": name, "source": source}])


class StrictIntegers:
    """`check` is the app's before_request hook: 400 for an integer parameter that is not written as one."""

    def __init__(self) -> None:
        self._names: dict[BaseRouteHandler, tuple[str, ...]] = {}

    async def check(self, request: Request[Any, Any, Any]) -> None:
        """(async although it never awaits: Litestar would run a plain function in a worker thread.)"""
        handler = request.route_handler
        names = self._names.get(handler)
        if names is None:
            names = self._names[handler] = integer_parameters(handler)
        path = request.path_params
        has_query = bool(request.scope["query_string"])  # most reads have none: skip parsing it
        for name in names:
            if name in path:
                if not _DECIMAL.fullmatch(path[name]):
                    raise _bad(name, "path")
            elif has_query:
                for value in request.query_params.getall(name, ()):
                    if not _DECIMAL.fullmatch(value):
                        raise _bad(name, "query")


def integer_parameters(handler: BaseRouteHandler) -> tuple[str, ...]:
    """The path and query parameters the handler, or a dependency it uses, declares as integers."""
    providers = handler.resolve_dependencies()
    fields: dict[str, FieldDefinition] = {}
    pending = list(handler.parsed_fn_signature.parameters.items())
    while pending:
        name, field = pending.pop()
        if name in providers:  # a dependency: its own parameters come from the request too
            pending.extend(providers[name].parsed_fn_signature.parameters.items())
        elif _is_integer(field) and not _is_header_or_cookie(field):
            fields[name] = field
    return tuple(fields)


def _is_integer(field: FieldDefinition) -> bool:
    candidates = field.inner_types if field.is_optional else (field,)
    return any(candidate.annotation is int for candidate in candidates)


def _is_header_or_cookie(field: FieldDefinition) -> bool:
    kwarg = field.kwarg_definition
    return bool(getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None))
