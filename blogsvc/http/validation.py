"""Every bad field of a request in one 400: path, query and header parameters and the body, checked by a
before_request hook before Litestar converts anything (it would stop at the first, and read integers
leniently: "5e0" and "5.0" as 5). Which parameters there are, and their bounds, come from the handlers'
own signatures and their dependencies'; the body is made into the handler's Struct by blogsvc.validation,
and kept for JSONOnlyRequest.json() (http/body.py), so it is decoded once."""

from __future__ import annotations

import contextlib
import re
import types
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import parse_qs, quote, unquote_plus

import msgspec
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import HeaderParameter, ParameterKwarg, QueryParameter
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

from blogsvc import config
from blogsvc.validation import Check, FieldErrors, from_json, humane

if TYPE_CHECKING:
    from litestar import Request
    from litestar.datastructures import State
    from litestar.handlers import BaseRouteHandler
    from litestar.types import Scope
    from litestar.typing import FieldDefinition

VALIDATED = "blogsvc.validated_body"  # in the request's state: the body made into the handler's Struct
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_PATH_NAME = re.compile(r"\{(\w+)[:}]")
# Keyword arguments Litestar fills from the connection itself, never from a parameter.
_RESERVED = frozenset({"data", "request", "state", "scope", "headers", "cookies", "query", "body", "socket"})
_BOUNDS = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")
# A time in a query: RFC 3339 with its offset (msgspec reads it; tz=True refuses one without).
_TIME = Annotated[datetime, msgspec.Meta(tz=True)]
_TIME_RULE = "Must be an RFC 3339 time with an offset, e.g. 2026-12-03T06:31:36Z (in a URL, write + as %2B)."
# RFC 3339's date-time: msgspec alone also reads offsets without a colon (+0100), which RFC 3339 has not.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.(\d+))?(?:[Zz]|[+-]\d\d:\d\d)")
_MICROSECOND = timedelta(microseconds=1)


class StrictlyAfter:
    """An Annotated marker of a time query parameter that rows must be strictly after (created_after)."""


class OnlyWith(msgspec.Struct, frozen=True):
    """An Annotated marker of a query parameter whose `value` is allowed only when the query also has `other`
    (sort=relevance needs q): a field error of its own, listed with the request's others."""

    value: str
    other: str
    message: str


class Parameter(msgspec.Struct, frozen=True):
    name: str  # as the client sends it (If-Match), and as an error names it
    source: Literal["path", "query", "header"]
    key: str  # where it is found: the path parameter, the query name, the header's lower-case name
    kind: Any  # the msgspec type, bounds included
    integer: bool
    low: int | None = None  # an integer's bounds, checked without msgspec: path ids are on every read's path
    high: int | None = None
    most: int | None = None  # how many values a query parameter may have: 1, or a repeatable one's (`?id=1&id=2`)
    checks: tuple[Check, ...] = ()  # rules beyond the type (an email address), as in a body's Struct
    strictly_after: bool = False  # a time compared with >: finer than a microsecond, it rounds down (else up)
    only_with: OnlyWith | None = None


class Spec(msgspec.Struct, frozen=True):
    """What one route handler takes from a request."""

    parameters: tuple[Parameter, ...]
    body: Any  # the Struct of `data`, or None
    times: dict[str, bool]  # time query parameters: name -> strictly_after


class RequestValidator:
    """`check` is the app's before_request hook; `errors` serves the Idempotency-Key middleware too."""

    def __init__(self) -> None:
        self._specs: dict[BaseRouteHandler, Spec] = {}

    async def check(self, request: Request[Any, Any, Any]) -> None:
        """(async although it only awaits the body: Litestar would run a plain function in a worker thread.)"""
        spec = self.spec(request.route_handler)
        body = await request.body() if spec.body is not None else b""  # beyond the limit: 413
        errors = self.errors(spec, request.scope, body, request.app.state)
        if errors:
            raise ValidationException(detail="Invalid request", extra=errors)
        query = request.scope["query_string"]
        if spec.times and (b"." in query or b"%2e" in query.lower()):  # a fraction's dot, maybe percent-encoded
            _to_microseconds(spec.times, request.scope)

    def spec(self, handler: BaseRouteHandler) -> Spec:
        spec = self._specs.get(handler)
        if spec is None:
            spec = self._specs[handler] = _spec_of(handler)
        return spec

    def errors(self, spec: Spec, scope: Scope, body: bytes, state: State) -> list[dict[str, str]]:
        """Every bad field, as ValidationException's `extra` lists them; a body that is right is kept in the
        scope. 415 at once for a body that is not JSON (not a field's fault)."""
        errors = _parameter_errors(spec.parameters, scope) if spec.parameters else []
        if spec.body is not None:
            content_type = _content_type(scope)
            if not is_json(content_type):
                raise _unsupported(f"The body must be application/json, not {content_type.decode() or 'unlabelled'}.")
            for charset in _charsets(content_type):  # JSON is UTF-8 (RFC 8259): read as one, so declared as one
                if charset not in (b"utf-8", b"utf8"):
                    raise _unsupported(f"The body must be UTF-8, not {charset.decode('latin-1')}.")
            try:
                scope.setdefault("state", {})[VALIDATED] = _body(body, spec.body, state)
            except FieldErrors as exc:
                errors += [{"key": field, "source": "body", "message": message} for field, message in exc.errors]
        return errors


def is_json(media_type: bytes) -> bool:
    media_type = media_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


def _charsets(media_type: bytes) -> list[bytes]:
    """The charset parameters of a Content-Type, lower-case and unquoted (every one: `charset=utf-8;
    charset=latin-1` declares latin-1 too)."""
    charsets = []
    for parameter in media_type.split(b";")[1:]:
        name, _, value = parameter.partition(b"=")
        if name.strip().lower() == b"charset":
            charsets.append(value.strip().strip(b'"').lower())
    return charsets


def _unsupported(detail: str) -> HTTPException:
    return HTTPException(status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=detail)


def _content_type(scope: Scope) -> bytes:
    """The one Content-Type of a request with a body; a 400 for two (which would be read: the first?)."""
    given = [value for name, value in scope["headers"] if name == b"content-type"]
    if len(given) > 1:
        raise HTTPException(status_code=400, detail="A body needs exactly one Content-Type header.")
    return given[0] if given else b""


def _body(body: bytes, target: Any, state: State) -> Any:
    """The body made into `target`; FieldErrors naming what is wrong."""
    if not body:
        raise FieldErrors([("", "A JSON body is required.")])
    config.in_effect.set(state.settings)  # for the Structs' rules (the password's minimum)
    return from_json(body, target)


def _parameter_errors(parameters: tuple[Parameter, ...], scope: Scope) -> list[dict[str, str]]:
    errors = []
    query: dict[str, list[str]] | None = None
    for parameter in parameters:
        if parameter.source == "path":
            values = [scope["path_params"][parameter.key]]
        elif parameter.source == "header":
            values = [value.decode("latin-1") for name, value in scope["headers"] if name == parameter.key.encode()]
        else:
            if query is None:
                query = _query(scope)
            values = query.get(parameter.key, [])
        if parameter.most is not None and len(values) > parameter.most:
            # A repeated single value would be read as its last (Litestar): a caller meaning AND or OR never knew.
            once = f"Given {len(values)} times: give it once."
            errors.append(
                {
                    "key": parameter.name,
                    "source": parameter.source,
                    "message": once if parameter.most == 1 else f"At most {parameter.most} values.",
                }
            )
            continue
        for value in values:
            if (message := _wrong(parameter, value)) is not None:
                errors.append({"key": parameter.name, "source": parameter.source, "message": message})
                break
        else:
            needs = parameter.only_with
            if needs is not None and needs.value in values and query is not None and needs.other not in query:
                errors.append({"key": parameter.name, "source": parameter.source, "message": needs.message})
    return errors


def _query(scope: Scope) -> dict[str, list[str]]:
    return parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True) if scope["query_string"] else {}


def _wrong(parameter: Parameter, value: str) -> str | None:
    """What is wrong with one value of a parameter, or None."""
    if parameter.kind is _TIME:
        if not _RFC3339.fullmatch(value):
            return _TIME_RULE
        try:
            msgspec.convert(value, _TIME)
        except msgspec.ValidationError:
            return _TIME_RULE
        return None
    if parameter.integer:
        if not _DECIMAL.fullmatch(value):
            if value.isdigit() and value.isascii():
                return f"Write {value} without leading zeros."
            return "Must be an integer written in decimal digits (no sign, exponent, fraction or spaces)."
        number = int(value)
        if parameter.low is not None and number < parameter.low:
            return f"Out of range: must be at least {parameter.low}."
        if parameter.high is not None and number > parameter.high:
            return f"Out of range: must be at most {parameter.high}."
        return None
    try:
        msgspec.convert(value, parameter.kind, strict=False)
        for check in parameter.checks:
            check.rule(value)
    except msgspec.ValidationError as exc:
        return humane(str(exc), parameter.kind)
    except ValueError as exc:
        return humane(str(exc))
    return None


def _spec_of(handler: BaseRouteHandler) -> Spec:
    """The parameters the handler, or a dependency it uses, takes from the request, and its body's Struct."""
    providers = handler.resolve_dependencies()
    paths = [*handler.paths, *(getattr(layer, "path", "") or "" for layer in handler.ownership_layers)]
    path_names = {name for path in paths for name in _PATH_NAME.findall(path)}  # a controller's path has some
    parameters: dict[str, Parameter] = {}
    body = None
    pending = list(handler.parsed_fn_signature.parameters.items())
    while pending:
        name, field = pending.pop(0)
        if name in providers:  # a dependency: its own parameters come from the request too, in its place
            pending[:0] = providers[name].parsed_fn_signature.parameters.items()
        elif name == "data":
            body = field.annotation
        elif name not in _RESERVED and (parameter := _parameter(name, field, path_names)) is not None:
            parameters[name] = parameter
    ordered = tuple(sorted(parameters.values(), key=lambda p: ("path", "query", "header").index(p.source)))
    times = {p.key: p.strictly_after for p in ordered if p.kind is _TIME and p.source == "query"}
    return Spec(ordered, body, times)


def _parameter(name: str, field: FieldDefinition, path_names: set[str]) -> Parameter | None:
    annotation = _optional(field.annotation)
    repeatable = get_origin(annotation) is list
    item = get_args(annotation)[0] if repeatable else annotation
    kwarg = field.kwarg_definition if isinstance(field.kwarg_definition, ParameterKwarg) else None
    bounds = {
        bound: getattr(kwarg, bound) for bound in _BOUNDS if kwarg is not None and getattr(kwarg, bound) is not None
    }
    if get_origin(item) is Annotated:  # a repeated value's own bounds: Annotated[int, msgspec.Meta(ge=1)]
        item, *metadata = get_args(item)
        for meta in metadata:
            if isinstance(meta, msgspec.Meta):
                bounds.update({bound: getattr(meta, bound) for bound in _BOUNDS if getattr(meta, bound) is not None})
    base = _scalar(item)
    if base is None:
        return None
    kind = _TIME if base is datetime else Annotated[base, msgspec.Meta(**bounds)] if bounds else base
    integer = base is int
    low = bounds["ge"] if "ge" in bounds else bounds["gt"] + 1 if "gt" in bounds else None
    high = bounds["le"] if "le" in bounds else bounds["lt"] - 1 if "lt" in bounds else None
    most = (kwarg.max_items if kwarg is not None else None) if repeatable else 1
    checks = tuple(meta for meta in field.metadata if isinstance(meta, Check))
    strictly_after = any(isinstance(meta, StrictlyAfter) for meta in field.metadata)
    only_with = next((meta for meta in field.metadata if isinstance(meta, OnlyWith)), None)
    header = kwarg.header or (kwarg.name if isinstance(kwarg, HeaderParameter) else None) if kwarg else None
    if header:
        return Parameter(header, "header", header.lower(), kind, integer, low, high)
    if name in path_names:
        return Parameter(name, "path", name, kind, integer, low, high)
    query = (kwarg.query or (kwarg.name if isinstance(kwarg, QueryParameter) else None) if kwarg else None) or name
    return Parameter(query, "query", query, kind, integer, low, high, most, checks, strictly_after, only_with)


def _to_microseconds(times: dict[str, bool], scope: Scope) -> None:
    """Times finer than a microsecond (Go sends nanoseconds) made microseconds, in the query Litestar reads
    next, the way that keeps each comparison with the microsecond columns exact: down for "strictly after",
    up for "before" and "at or after". msgspec rounds to the nearest, which missed the row on the boundary."""
    segments = scope["query_string"].split(b"&")
    for index, segment in enumerate(segments):
        name, _, value = segment.partition(b"=")
        key = unquote_plus(name.decode("latin-1"))
        if key in times and (match := _RFC3339.fullmatch(text := unquote_plus(value.decode("latin-1")))):
            digits = match.group(1) or ""
            if len(digits) > 6:
                exact = text.replace(f".{digits}", f".{digits[:6]}", 1)
                if not times[key] and digits[6:].strip("0"):
                    # Past 9999-12-31T23:59:59.999999 in its own offset: left as it is, after every row anyway.
                    with contextlib.suppress(OverflowError):
                        exact = (msgspec.convert(exact, _TIME) + _MICROSECOND).isoformat()
                segments[index] = name + b"=" + quote(exact).encode()
    scope["query_string"] = b"&".join(segments)


def _optional(annotation: Any) -> Any:
    """`X | None` as X; anything else as it is."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation


def _scalar(annotation: Any) -> Any:
    """int, float, str, bool, datetime or a Literal, optional or not; None for anything else (a Struct, ...)."""
    annotation = _optional(annotation)
    if annotation in (int, float, str, bool, datetime) or get_origin(annotation) is Literal:
        return annotation
    return None
