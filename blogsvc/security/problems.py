"""The domain errors of the security features (errors.py maps every DomainError to a problem document)."""

from __future__ import annotations

from blogsvc.errors import DomainError


class Forbidden(DomainError):
    status, slug = 403, "forbidden"


class UnprocessableContent(DomainError):
    status, slug = 422, "unprocessable-content"


class TooManyRequests(DomainError):
    status, slug = 429, "too-many-requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
