"""Small helpers shared by the tests."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from httpx import Response


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}.{secrets.token_hex(6)}@example.com"


def new_user_body(**overrides: Any) -> dict[str, Any]:
    return {"email": unique_email(), "password": "correct horse battery", **overrides}


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with this status; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str) and body[member], body
    return body
