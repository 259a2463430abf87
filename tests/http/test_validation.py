"""Every bad field of a request in one 400, body, query, path and header together, each with a message a
person understands; and a request with several problems changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import assert_problem, new_user_body, unique_email

if TYPE_CHECKING:
    import httpx
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    Client = AsyncTestClient[Litestar]


def errors(response: httpx.Response) -> dict[tuple[str, str], str]:
    """(field, where) -> message, from a 400 validation problem."""
    body = assert_problem(response, 400)
    assert body["type"] == "urn:blogsvc:problem:validation-error", body
    found = {(error["field"], error["in"]): error["message"] for error in body["errors"]}
    assert len(found) == len(body["errors"]), body  # no field twice
    for message in found.values():
        assert message[:1].isupper() and message.endswith("."), found  # a sentence, not msgspec's jargon
        assert "`" not in message and "$." not in message, found
    return found


async def test_every_bad_body_field_is_listed(client: Client) -> None:
    response = await client.post("/users", json={"email": "x", "password": "y", "city": 5})
    assert set(errors(response)) == {("email", "body"), ("password", "body"), ("city", "body")}
    assert errors(response)[("city", "body")] == "Must be a string, not an integer."
    assert errors(response)[("password", "body")] == "Must have at least 8 characters."


async def test_unknown_missing_and_wrong_fields_together(client: Client) -> None:
    response = await client.post("/users", json={"id": 3, "first_name": True, "city": "x" * 101})
    assert errors(response) == {
        ("id", "body"): "Not a field of this body.",
        ("email", "body"): "Required.",
        ("password", "body"): "Required.",
        ("first_name", "body"): "Must be a string, not true or false.",
        ("city", "body"): "Must have at most 100 characters.",
    }


async def test_a_field_rule_is_reported_with_the_type_errors(client: Client) -> None:
    """The email's validity (email-validator) and a wrong type elsewhere, in one answer."""
    response = await client.post(
        "/users", json={"email": "not-an-address", "password": "correct horse battery", "city": 5}
    )
    found = errors(response)
    assert set(found) == {("email", "body"), ("city", "body")}
    assert "@" in found[("email", "body")]


async def test_path_and_body_together(client: Client) -> None:
    response = await client.post("/users/abc/articles", json={"title": "", "body": 7})
    assert set(errors(response)) == {("user_id", "path"), ("title", "body"), ("body", "body")}


async def test_query_parameters_together(client: Client) -> None:
    response = await client.get(
        "/articles", params={"limit": 0, "offset": "-1", "order": "sideways", "author_id": "1e3"}
    )
    found = errors(response)
    assert set(found) == {("limit", "query"), ("offset", "query"), ("order", "query"), ("author_id", "query")}
    assert found[("limit", "query")] == "Out of range: must be at least 1."
    assert "decimal digits" in found[("offset", "query")]
    assert found[("order", "query")] == "Must be one of asc, desc."


async def test_path_query_and_header_together(client: Client) -> None:
    response = await client.patch("/users/0", json={"city": 1}, headers={"If-Match": "x" * 1025})
    assert errors(response) == {
        ("user_id", "path"): "Out of range: must be at least 1.",
        ("If-Match", "header"): "Must have at most 1024 characters.",
        ("city", "body"): "Must be a string, not an integer.",
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/users/9223372036854775808", "Out of range: must be at most 9007199254740991."),
        ("/users/9007199254740992", "Out of range: must be at most 9007199254740991."),
        ("/articles/0", "Out of range: must be at least 1."),
        ("/users/007", "Write 007 without leading zeros."),
        ("/users/5e0", "Must be an integer written in decimal digits (no sign, exponent, fraction or spaces)."),
    ],
)
async def test_an_id_says_what_is_wrong_with_it(client: Client, path: str, message: str) -> None:
    (only,) = errors(await client.get(path)).values()
    assert only == message


async def test_a_body_that_is_not_an_object_or_not_json(client: Client) -> None:
    assert errors(await client.post("/users", json=[1, 2])) == {
        ("", "body"): "The body must be a JSON object, not an array."
    }
    broken = await client.post("/users", content=b'{"email": ', headers={"content-type": "application/json"})
    ((where, message),) = errors(broken).items()
    assert where == ("", "body") and message.startswith("The body is not valid JSON")


async def test_nothing_changes_when_a_request_has_several_problems(client: Client) -> None:
    email = unique_email()
    assert_problem(await client.post("/users", json=new_user_body(email=email, city=5, first_name=None)), 400)
    assert (await client.get("/users", params={"email": email})).json()["data"] == []


async def test_a_good_request_still_passes(client: Client) -> None:
    response = await client.post("/users", json=new_user_body(first_name="Ada"))
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    assert user["first_name"] == "Ada"
