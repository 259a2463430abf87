"""RFC 9457 problem documents: every error a request can meet, as one (domain errors, Litestar's own
HTTP errors, validation errors with the bad fields listed, and anything unexpected, logged), and their
declaration in the OpenAPI document."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException

from blogsvc.errors import DomainError
from blogsvc.validation import FieldErrors

log = logging.getLogger("blogsvc.errors")


class FieldError(msgspec.Struct):
    """One bad field of a request: its name, where it was (body, query, path, header) and what is wrong."""

    field: Annotated[str, msgspec.Meta(examples=["email"])]
    message: Annotated[str, msgspec.Meta(examples=["The email address is not valid."])]
    in_: Annotated[str, msgspec.Meta(examples=["body"])] = msgspec.field(name="in")


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem document."""

    type: Annotated[str, msgspec.Meta(examples=["urn:blogsvc:problem:not-found"])]
    title: Annotated[str, msgspec.Meta(examples=["Not Found"])]
    status: Annotated[int, msgspec.Meta(examples=[404])]
    detail: Annotated[str, msgspec.Meta(examples=["No user with id 42."])]
    errors: Annotated[
        list[FieldError] | None, msgspec.Meta(description="Validation errors only: every bad field of the request.")
    ] = None


def problem_response(status: int, description: str | None = None) -> ResponseSpec:
    """The OpenAPI entry for an error status answered with a problem document."""
    return ResponseSpec(
        data_container=Problem,
        media_type="application/problem+json",
        description=description or HTTPStatus(status).phrase,
        generate_examples=False,
    )


# Every route can answer this one (http/edge.py): RFC 9112 asks it of a request that is not HTTP/1.1 enough.
BAD_HOST = problem_response(400, "Bad Request: an HTTP/1.1 request without exactly one Host header naming a host")


def problem_document(status: int, detail: str) -> bytes:
    """A problem document's JSON, for answers made outside Litestar (the edge, the server protocol)."""
    phrase = HTTPStatus(status).phrase
    return msgspec.json.encode(
        Problem(f"urn:blogsvc:problem:{phrase.lower().replace(' ', '-')}", phrase, status, detail)
    )


def problem_responses(*statuses: int, body: bool = False) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error statuses a route can answer, each a problem document.
    Every caller is a database route, so 503 (database unavailable or busy) is always among them;
    a route that takes a body also answers 413 (over 1 MiB) and 415 (not JSON)."""
    if body:
        statuses = (*statuses, 413, 415)
    return {status: problem_response(status) for status in (*statuses, 503)}


def _problem(
    status: int,
    detail: str,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> ProblemDetailsException:
    return ProblemDetailsException(
        type_=f"urn:blogsvc:problem:{slug}" if slug else "about:blank",
        title=HTTPStatus(status).phrase,
        status_code=status,
        detail=detail,
        headers=headers,
        extra=extra,
    )


# msgspec reports unknown and missing fields against the whole body; the field is in backticks.
_FIELD_IN_MESSAGE = re.compile(r"field `([^`]+)`")


def _field_errors(exc: ValidationException) -> list[dict[str, str]]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", ""))
        field = str(item.get("key", ""))
        if field == "data" and message == "'data'":  # Litestar's way of saying the body is missing
            field, message = "", "A JSON body is required."
        if field in ("", "data") and (match := _FIELD_IN_MESSAGE.search(message)):
            field = match.group(1)
        source = item.get("source", "body")  # a ParamType enum for parameters, "body" for the body
        errors.append({"field": field, "in": str(getattr(source, "value", source)), "message": message})
    return errors


def _from_http_exception(exc: HTTPException) -> ProblemDetailsException:
    if isinstance(exc, ValidationException) and (errors := _field_errors(exc)):
        detail = "; ".join(f"{e['field'] or e['in']}: {e['message']}" for e in errors)
        return _problem(400, detail, "validation-error", exc.headers, {"errors": errors})
    status = exc.status_code
    detail = exc.detail if exc.detail != HTTPStatus(status).phrase else ""
    return _problem(status, detail or HTTPStatus(status).description, None, exc.headers)


def _from_field_errors(exc: FieldErrors) -> ProblemDetailsException:
    """Bad fields found past the decoding of the request (a rule against what is stored)."""
    errors = [{"field": field, "in": "body", "message": message} for field, message in exc.errors]
    detail = "; ".join(f"{e['field'] or e['in']}: {e['message']}" for e in errors)
    return _problem(400, detail, "validation-error", None, {"errors": errors})


def _from_domain_error(exc: DomainError) -> ProblemDetailsException:
    return _problem(exc.status, exc.detail, exc.slug, exc.headers)


def _from_unexpected(exc: Exception) -> ProblemDetailsException:
    # The traceback goes to the log, never to the client.
    log.error("unhandled exception", exc_info=exc)
    return _problem(500, "The server failed to handle this request; it has been logged.", "internal-error")


def problem_details_config() -> ProblemDetailsConfig:
    return ProblemDetailsConfig(
        exception_to_problem_detail_map={
            HTTPException: _from_http_exception,
            DomainError: _from_domain_error,
            FieldErrors: _from_field_errors,
            Exception: _from_unexpected,
        }
    )
