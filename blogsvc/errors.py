"""Domain errors, MySQL error codes, and their mapping to RFC 9457 problem documents."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any, ClassVar

from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException

log = logging.getLogger("blogsvc.errors")


class DomainError(Exception):
    """An error a caller can act on; subclasses fix the HTTP status."""

    status: ClassVar[int]
    slug: ClassVar[str]

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class BadRequest(DomainError):
    status, slug = 400, "bad-request"


class Unauthorized(DomainError):
    status, slug = 401, "unauthorized"


class NotFound(DomainError):
    status, slug = 404, "not-found"


class Conflict(DomainError):
    status, slug = 409, "conflict"


class PreconditionFailed(DomainError):
    status, slug = 412, "precondition-failed"


class Forbidden(DomainError):
    status, slug = 403, "forbidden"


class UnprocessableContent(DomainError):
    status, slug = 422, "unprocessable-content"


class TooManyRequests(DomainError):
    status, slug = 429, "too-many-requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(DomainError):
    status, slug = 503, "service-unavailable"

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ConnectionLost(ServiceUnavailable):
    """The connection broke under a statement, so whether it took effect is unknown; a read may run again."""


class ServerNotReady(ConnectionLost):
    """The server answers but cannot run or commit statements (a cluster node outside the primary
    component); what it refused did not take effect."""


class TransientConflict(ServiceUnavailable):
    """The database rolled the transaction back (deadlock, lock wait timeout, a cluster's certification
    failure); nothing of it took effect, so running it again is safe."""


class StatementTimeout(ServiceUnavailable):
    """The server stopped a statement at its time limit."""


class DuplicateKey(Conflict):
    """A unique index refused a row; `key` names the index. Repositories say which field."""

    def __init__(self, key: str) -> None:
        super().__init__("The request conflicts with an existing resource.")
        self.key = key


# MySQL and MariaDB error codes, by what a caller can do about them. Client-side codes are 2xxx.
# No connection to be had (these come when connecting): the server is down or full.
_UNAVAILABLE = frozenset({1040, 2003})
# The connection died under a statement: server gone away, lost during the query, lost (with errno),
# server shutting down, connection killed, disconnected for inactivity (MySQL 8).
_CONNECTION_LOST = frozenset({2006, 2013, 2055, 1053, 1927, 4031})
# The node is joining, or cut off from the cluster's primary component, so another should be used:
# Galera's "WSREP has not yet prepared node for application use" before a statement, and "Got error
# during COMMIT" (e.g. "Not connected to Primary Component") when it cannot replicate a commit,
# which then did not happen.
_NOT_READY = frozenset({1047, 1180})
# Rolled back, nothing took effect: deadlock (also how Galera reports a commit-time certification
# failure or a brute-force abort), lock wait timeout, MySQL Group Replication's certification failure.
_TRANSIENT_CONFLICT = frozenset({1213, 1205, 3101})
# The statement time limit: MariaDB's max_statement_time, MySQL's max_execution_time.
_STATEMENT_TIMEOUT = frozenset({1969, 3024})
# KILL QUERY from an operator.
_QUERY_INTERRUPTED = 1317
_DUPLICATE_ENTRY = 1062
_DUPLICATE_KEY_NAME = re.compile(r"for key '(?:[^'.]*\.)?([^']+)'")


def from_mysql_error(code: int, message: str) -> Exception | None:
    """The domain error a MySQL error code stands for, or None to let it propagate."""
    if code == _DUPLICATE_ENTRY:
        match = _DUPLICATE_KEY_NAME.search(message)
        return DuplicateKey(match.group(1) if match else "")
    if code in _TRANSIENT_CONFLICT:
        return TransientConflict("The database rolled the change back after a conflict; retry shortly.")
    if code in _CONNECTION_LOST:
        return ConnectionLost("The database connection was lost; retry shortly.")
    if code in _NOT_READY:
        return ServerNotReady("The database server is not ready; retry shortly.")
    if code in _STATEMENT_TIMEOUT:
        return StatementTimeout("The database query took too long; retry shortly.")
    if code in _UNAVAILABLE or code == _QUERY_INTERRUPTED:
        return ServiceUnavailable("The database is unavailable; retry shortly.")
    return None


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
            Exception: _from_unexpected,
        }
    )
