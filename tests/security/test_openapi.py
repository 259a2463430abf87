"""The OpenAPI document says what the service does, closely enough for a fuzzer to hold it to it: every
status and body, every bound, closed request bodies, and the security features' headers and statuses."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from blogsvc.users.schemas import normalized_email

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    Client = AsyncTestClient[Litestar]

REQUEST_BODIES = ("UserCreate", "UserReplace", "UserPatch", "Credentials", "ArticleCreate", "ArticlePatch")


@pytest.fixture(scope="module")
async def document(secure_client: Client) -> dict[str, Any]:
    response = await secure_client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_request_bodies_are_closed_and_bounded(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in REQUEST_BODIES:
        schema = schemas[name]
        assert schema["additionalProperties"] is False, name
        for field, spec in schema["properties"].items():
            strings = [s for s in [spec, *spec.get("anyOf", [])] if s.get("type") == "string"]
            for string in strings:
                assert "maxLength" in string, (name, field)


def test_every_success_has_a_schema(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            if status.startswith("2") and status != "204":
                (media,) = response["content"].values()
                assert media["schema"], (method, path, status)


def test_pages_and_timestamps_are_described(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["UserPage"]["properties"]["data"]["items"] == {"$ref": "#/components/schemas/User"}
    assert schemas["ArticlePage"]["properties"]["data"]["items"] == {"$ref": "#/components/schemas/Article"}
    assert schemas["User"]["properties"]["created_at"]["format"] == "date-time"
    ok = document["paths"]["/users/{user_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/User"}


def test_every_header_has_a_schema(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            for name, header in response.get("headers", {}).items():
                assert header["schema"]["type"] == "string", (method, path, status, name)
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"], (method, path, status)


def test_gets_that_answer_304_take_if_none_match(document: dict[str, Any]) -> None:
    conditional = []
    for method, path, op in operations(document):
        taken = [p for p in op.get("parameters", []) if p["name"] == "If-None-Match"]
        assert len(taken) == ("304" in op["responses"]), (method, path)
        if taken:
            assert taken[0]["in"] == "header" and not taken[0]["required"]
            conditional.append((method, path))
    assert sorted(conditional) == [
        ("get", "/articles/by-slug/{slug}"),
        ("get", "/articles/{article_id}"),
        ("get", "/users/{user_id}"),
    ]


def test_post_routes_take_an_idempotency_key(document: dict[str, Any]) -> None:
    posts = [(path, op) for method, path, op in operations(document) if method == "post"]
    assert len(posts) == 5
    for path, op in posts:
        keys = [p for p in op.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if path == "/auth/verify":
            assert keys == []
            assert "429" in op["responses"]
            continue
        (key,) = keys
        assert key["in"] == "header" and not key["required"]
        assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255)
        assert {"409", "422"} <= set(op["responses"]), path


# email-validator's verdict, against the document's: what the `email` format allows but `not` excludes.
ADDRESSES = [
    "ada@example.com",
    "Ada.Lovelace+tag@Example.co.uk",
    "o'brien@example.ie",
    "0@0.com",
    "a@b.test",
    "a@b.TEST",
    "a@b.local.",
    "a@localhost",
    "a@b",
    "x@[127.0.0.1]",
    '"quoted"@example.com',
    "a@b.123",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_email_schema_excludes_what_the_service_refuses(document: dict[str, Any], address: str) -> None:
    email = document["components"]["schemas"]["UserCreate"]["properties"]["email"]
    assert email["format"] == "email"
    excluded = re.search(email["not"]["pattern"], address) is not None
    try:
        normalized_email(address)
        refused = False
    except ValueError:
        refused = True
    assert excluded == refused, address


def test_the_email_filter_excludes_what_the_body_does(document: dict[str, Any]) -> None:
    """GET /users?email= is checked as a new user's email is: the same addresses of the format are refused
    (schemathesis sent `...@x.test` to the filter when only the body said so)."""
    (email,) = [p for p in document["paths"]["/users"]["get"]["parameters"] if p["name"] == "email"]
    body = document["components"]["schemas"]["UserCreate"]["properties"]["email"]
    assert email["schema"]["format"] == "email"
    assert email["schema"]["not"] == body["not"]
