"""The OpenAPI document as it must be for a caller (and a fuzzer) to rely on it. Litestar generates it from
the routes; this completes it in place, once, when the app is made:

- every msgspec Struct's schema as msgspec itself gives it: `additionalProperties: false` for request
  bodies (forbid_unknown_fields), formats (email, date-time), the items of page envelopes, bounds;
- for email fields, what the `email` format allows but the service refuses (email-validator's rules);
- what the modules that act at request time declare for themselves (`declarations`: service tokens,
  Idempotency-Key, the password policy), with the helpers below;
- If-None-Match on the GETs that answer 304 (http/edge.py answers it), and the 304's ETag;
- optional parameters as plain types: a missing parameter is left out, never sent as null, so a
  generated client must not offer null (Litestar declares `str | None` as a oneOf with null);
- a one-line summary for every operation: the first sentence of its handler's docstring;
- a schema for every response header, and Retry-After where the service sends it (429, 503);
- links from each DELETE to the restore of what it deleted (for stateful testing, and for readers).
"""

from __future__ import annotations

import inspect
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import email_validator
import msgspec
from litestar.openapi.spec import (
    Components,
    Link,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Parameter,
    Reference,
    Schema,
)

from blogsvc.http.conditional import IF_NONE_MATCH_DOC
from blogsvc.http.problems import Problem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from litestar import Litestar
    from litestar.openapi.spec import OpenAPI, Operation

REF = "#/components/schemas/{name}"
METHODS = ("get", "put", "post", "delete", "patch")
STRING = Schema(type=OpenAPIType.STRING)
RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]+$"), description="Seconds to wait before trying again."
)
ETAG = OpenAPIHeader(schema=STRING, description="The resource's current version.")
_WITH_RETRY_AFTER = ("429", "503")
# JSON Schema keywords whose value is a schema, a list of schemas, or a map of them.
_ONE = {"items", "not", "additionalProperties", "contains", "if", "then", "else"}
_MANY = {"anyOf", "oneOf", "allOf", "prefixItems"}
_MAP = {"properties", "patternProperties", "$defs"}
_RENAMED = {"not": "schema_not", "if": "schema_if", "else": "schema_else"}


def complete(app: Litestar, declarations: tuple[Callable[[OpenAPI], None], ...] = ()) -> None:
    """Complete app.openapi_schema in place (see the module's docstring)."""
    openapi = app.openapi_schema
    _struct_schemas(openapi.components)
    _email_exclusions(openapi.components)
    for declare in declarations:
        declare(openapi)
    for _, method, operation in operations(openapi):
        responses = responses_of(operation)
        if method == "get" and "304" in responses:  # http/edge.py answers If-None-Match for every GET
            optional_header(operation, "If-None-Match", IF_NONE_MATCH_DOC, STRING)
            responses["304"].headers = {"ETag": ETAG}
        for parameter in operation.parameters or ():
            if isinstance(parameter, Parameter) and isinstance(parameter.schema, Schema):
                _not_null(parameter.schema)
                _exclude_refused_emails(parameter.schema)
        operation.summary = _first_sentence(operation.description or "")
        _header_schemas(responses)
    _restore_links(openapi.paths or {})


def _not_null(schema: Schema) -> None:
    """`oneOf: [X, {type: null}]` as X itself, the outer schema's own bounds kept; `type: [null, string]`
    with an enum (an optional Literal) as a string of the enum's other values."""
    if isinstance(schema.type, list) and OpenAPIType.NULL in schema.type:
        (schema.type,) = [kind for kind in schema.type if kind != OpenAPIType.NULL]
        schema.enum = [value for value in schema.enum or () if value is not None] or None
    kept = [s for s in schema.one_of or () if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
    if schema.one_of and len(kept) == 1 and isinstance(kept[0], Schema):
        schema.one_of = None
        for name, value in vars(kept[0]).items():
            if value is not None and getattr(schema, name) is None:
                setattr(schema, name, value)


def _first_sentence(text: str) -> str:
    return " ".join(text.split(". ", 1)[0].split()).rstrip(".")


def responses_of(operation: Operation) -> dict[str, Any]:
    """The operation's responses, to add to."""
    if operation.responses is None:
        operation.responses = {}
    return operation.responses


def operations(openapi: OpenAPI) -> Iterator[tuple[str, str, Operation]]:
    """(path, method, operation) of every operation in the document."""
    for path, item in (openapi.paths or {}).items():
        for method in METHODS:
            if (operation := getattr(item, method)) is not None:
                yield path, method, operation


def _struct_schemas(components: Components) -> None:
    """Replace the component of every blogsvc Struct with the schema msgspec generates for it."""
    structs: dict[str, type[msgspec.Struct]] = {}
    for struct in _subclasses(msgspec.Struct):
        if struct.__module__.startswith("blogsvc.") and struct.__name__ in components.schemas:
            if struct.__name__ in structs:
                raise RuntimeError(f"two Structs are named {struct.__name__}; the OpenAPI components would clash")
            structs[struct.__name__] = struct
    _, definitions = msgspec.json.schema_components(list(structs.values()), ref_template=REF)
    for name, definition in definitions.items():
        if name in structs and structs[name].__struct_config__.forbid_unknown_fields:  # a request body
            _defaults_in_words(definition)
        converted = _schema(definition)
        if isinstance(converted, Schema):
            components.schemas[name] = converted


def _defaults_in_words(definition: dict[str, Any]) -> None:
    """A request field's default said in its description instead: generators (openapi-typescript) take a
    field with a `default` for one that is always there, and a request body may leave it out."""
    for field in definition.get("properties", {}).values():
        if "default" in field:
            default = msgspec.json.encode(field.pop("default")).decode()
            field["description"] = " ".join(filter(None, (field.get("description"), f"Left out: {default}.")))


def _subclasses(cls: type[msgspec.Struct]) -> list[type[msgspec.Struct]]:
    found = []
    for sub in cls.__subclasses__():
        if not inspect.isabstract(sub) and not getattr(sub, "__parameters__", ()):  # not Page[T] itself
            found.append(sub)
        found.extend(_subclasses(sub))
    return found


def _schema(definition: dict[str, Any]) -> Schema | Reference:
    """A JSON Schema (as msgspec gives it) as Litestar's spec objects."""
    if "$ref" in definition:
        return Reference(ref=definition["$ref"])
    fields: dict[str, Any] = {}
    for key, value in definition.items():
        name = _RENAMED.get(key) or "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
        if key in _ONE and isinstance(value, dict):
            fields[name] = _schema(value)
        elif key in _MANY:
            fields[name] = [_schema(v) for v in value]
        elif key in _MAP:
            fields[name] = {k: _schema(v) for k, v in value.items()}
        elif key == "type":
            fields[name] = [OpenAPIType(t) for t in value] if isinstance(value, list) else OpenAPIType(value)
        elif key == "format":
            fields[name] = OpenAPIFormat(value)
        else:
            fields[name] = value
    return Schema(**fields)


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


# Addresses of the `email` format that users/schemas.py (email-validator, no deliverability check) refuses:
# a quoted local part, an IP address for a domain, a domain without a dot, a top-level domain that is
# numeric or special-use (RFC 6761: test, localhost, ...).
_REFUSED_EMAIL = "|".join(
    [
        '^"',
        r"@\[",
        r"@[^.]*$",
        r"\.[0-9]+\.?$",
        r"\.(" + "|".join(_any_case(name) for name in email_validator.SPECIAL_USE_DOMAIN_NAMES) + r")\.?$",
    ]
)


def _email_exclusions(components: Components) -> None:
    for schema in components.schemas.values():
        for field in (schema.properties or {}).values():
            if isinstance(field, Schema):
                _exclude_refused_emails(field)


def _exclude_refused_emails(schema: Schema) -> None:
    """An `email` field or parameter says which addresses of that format are refused all the same."""
    if schema.format == OpenAPIFormat.EMAIL:
        schema.schema_not = Schema(pattern=_REFUSED_EMAIL)


def _problem(description: str, headers: dict[str, Schema | OpenAPIHeader] | None = None) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={"application/problem+json": OpenAPIMediaType(schema=Reference(ref=REF.format(name=Problem.__name__)))},
        headers={
            name: header if isinstance(header, OpenAPIHeader) else OpenAPIHeader(schema=header)
            for name, header in (headers or {}).items()
        }
        or None,
    )


def add_problem(responses: dict[str, Any], status: int, why: str, headers: dict[str, Schema | OpenAPIHeader]) -> None:
    """Declare a problem response, or add to the description and headers of the one already there."""
    existing = responses.get(str(status))
    if isinstance(existing, OpenAPIResponse):
        existing.description = f"{existing.description}, or {why}"
        existing.headers = {**(existing.headers or {}), **(_problem(why, headers).headers or {})}
    else:
        responses[str(status)] = _problem(f"{HTTPStatus(status).phrase}: {why}", headers)


def optional_header(operation: Operation, name: str, description: str, schema: Schema) -> None:
    operation.parameters = [
        *(operation.parameters or []),
        Parameter(name=name, param_in="header", required=False, description=description, schema=schema),
    ]


def _header_schemas(responses: dict[str, Any]) -> None:
    """A schema for every header, Retry-After where it is sent, and the headers in order of name: Litestar
    gathers them in a set, so their order moved with the process's hash seed (and the document with it)."""
    for status, response in responses.items():
        if not isinstance(response, OpenAPIResponse):
            continue
        for header in (response.headers or {}).values():
            if isinstance(header, OpenAPIHeader) and header.schema is None:
                header.schema = STRING
        if status in _WITH_RETRY_AFTER:
            response.headers = {**(response.headers or {}), "Retry-After": RETRY_AFTER}
        if response.headers:
            response.headers = dict(sorted(response.headers.items()))


def _restore_links(paths: dict[str, Any]) -> None:
    """DELETE /x/{id} answers 204; POST /x/{id}/restore brings back what it deleted."""
    for path, item in paths.items():
        restore = paths.get(f"{path}/restore")
        if item.delete is None or restore is None or restore.post is None or restore.post.operation_id is None:
            continue
        deleted = (item.delete.responses or {}).get("204")
        if not isinstance(deleted, OpenAPIResponse):
            continue
        names = [p.name for p in restore.post.parameters or [] if isinstance(p, Parameter) and p.param_in == "path"]
        deleted.links = {
            "Restore": Link(
                operation_id=restore.post.operation_id,
                parameters={name: f"$request.path.{name}" for name in names},
                description="Bring back what this deleted.",
            )
        }
