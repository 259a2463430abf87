"""Domain errors: what went wrong, in terms a caller can act on. Each names the HTTP status the http layer
answers it with (http/problems.py); nothing here imports a framework or a driver."""

from __future__ import annotations

from typing import ClassVar


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


class Gone(DomainError):
    status, slug = 410, "gone"


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
