"""Bad input to the Users routes: every one is a 400 (or, for a path, a 404) problem document naming
what was wrong, and none leaks a traceback, SQL or a password hash."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import assert_problem, new_user_body, unique_email

if TYPE_CHECKING:
    import httpx
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    Client = AsyncTestClient[Litestar]

LEAKS = ("Traceback", "SELECT", "INSERT", "UPDATE", "$argon2")
UNKNOWN_FIELDS = ["id", "password_hash", "deleted_at", "created_at", "updated_at", "version"]
NAMES = ["first_name", "last_name", "city"]
# 256 characters that are no run and no repetition of one group (the password policy refuses those).
VARIED = "".join(chr(0x61 + (i * i + 3 * i) % 26) for i in range(256))


def long_email(length: int) -> str:
    """A well-formed address of exactly `length` characters (labels within DNS limits)."""
    local, tld = "l" * 64, ".com"
    room = length - len(local) - 1 - len(tld)  # for the labels before ".com" and the dots between them
    labels = []
    while room > 0:
        take = min(63, room - 2 if room == 64 else room)  # never leave room for a dot alone
        labels.append("d" * take)
        room -= take + 1
    address = f"{local}@{'.'.join(labels)}{tld}"
    assert len(address) == length
    return address


def assert_clean(response: httpx.Response) -> None:
    for leak in LEAKS:
        assert leak not in response.text, response.text


def assert_400(response: httpx.Response, field: str | None = None) -> dict[str, Any]:
    """A 400 problem document; for a validation error, `errors` names `field`."""
    body = assert_problem(response, 400)
    assert_clean(response)
    if field is not None:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, body
        assert all(isinstance(e.get("field"), str) for e in errors), body
        assert field in {e["field"] for e in errors}, body
    return body


def replacement(**overrides: Any) -> dict[str, Any]:
    return {"email": unique_email("put"), "first_name": "", "last_name": "", "city": "", "is_active": True, **overrides}


@pytest.fixture
async def user(client: Client) -> dict[str, Any]:
    """A user for PUT and PATCH to fail on."""
    response = await client.post("/users", json=new_user_body())
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


async def send(client: Client, method: str, user: dict[str, Any], body: Any) -> httpx.Response:
    """POST /users, PUT or PATCH /users/{id} with `body` as JSON."""
    url = "/users" if method == "POST" else f"/users/{user['id']}"
    return await client.request(method, url, json=body)


async def assert_rejected(client: Client, method: str, user: dict[str, Any], body: Any, field: str | None) -> None:
    """The write is a 400 naming `field`, and it changed nothing."""
    assert_400(await send(client, method, user, body), field)
    assert (await client.get(f"/users/{user['id']}")).json() == user
    if method == "POST" and isinstance(body.get("email"), str) and len(body["email"]) <= 254:
        found = await client.get("/users", params={"email": body["email"]})  # a 400 if it is no address
        assert found.status_code == 400 or found.json()["data"] == [], found.text


# ---- bodies ----


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "long enough"}, "email"),
        ({"email": "missing.pw@example.com"}, "password"),
        ({}, None),
        ({"first_name": "A", "city": "B"}, None),
    ],
)
async def test_create_without_a_required_field(client: Client, body: dict[str, Any], field: str | None) -> None:
    problem = assert_400(await client.post("/users", json=body), field)
    assert {e["field"] for e in problem["errors"]} & {"email", "password"}


@pytest.mark.parametrize(
    ("method", "field", "value"),
    [
        ("POST", "email", long_email(255)),
        ("POST", "password", "p" * 257),
        *[("POST", name, "n" * 101) for name in NAMES],
        ("PUT", "email", long_email(255)),
        *[("PUT", name, "n" * 101) for name in NAMES],
        ("PATCH", "email", long_email(255)),
        ("PATCH", "password", "p" * 257),
        *[("PATCH", name, "n" * 101) for name in NAMES],
    ],
)
async def test_oversized_fields(client: Client, user: dict[str, Any], method: str, field: str, value: str) -> None:
    body = {"POST": new_user_body(), "PUT": replacement(), "PATCH": {}}[method] | {field: value}
    await assert_rejected(client, method, user, body, field)


@pytest.mark.parametrize(
    "fields",
    [
        {"password": VARIED[:8]},  # not "p" * 8: one character repeated is refused (NIST SP 800-63B)
        {"password": VARIED},
        {name: "n" * 100 for name in NAMES},
        {"email": long_email(254)},
        {"first_name": "Zoë", "city": "Zürich — 北京"},
    ],
    ids=["password-8", "password-256", "names-100", "email-254", "unicode"],
)
async def test_values_at_the_limits_are_accepted(client: Client, fields: dict[str, Any]) -> None:
    response = await client.post("/users", json=new_user_body(**fields))
    assert response.status_code == 201, response.text
    created = response.json()
    assert {k: created[k] for k in fields if k != "password"} == {k: v for k, v in fields.items() if k != "password"}


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("password", ["", "1234567", "seven77"])
async def test_too_short_password(client: Client, user: dict[str, Any], method: str, password: str) -> None:
    body = new_user_body() if method == "POST" else {}
    await assert_rejected(client, method, user, body | {"password": password}, "password")


@pytest.mark.parametrize(
    ("method", "field", "value"),
    [
        ("POST", "email", 5),
        ("POST", "email", None),
        ("POST", "email", ["a@example.com"]),
        ("POST", "password", 12345678),
        ("POST", "password", None),
        ("POST", "first_name", 1),
        ("POST", "last_name", {"x": 1}),
        ("POST", "city", None),
        ("POST", "is_active", "true"),
        ("POST", "is_active", 1),
        ("POST", "is_active", None),
        ("PUT", "email", 5),
        ("PUT", "first_name", None),
        ("PUT", "city", ["x"]),
        ("PUT", "is_active", "false"),
        ("PATCH", "email", True),
        ("PATCH", "last_name", 3.5),
        ("PATCH", "is_active", 0),
        ("PATCH", "password", ["a long password"]),
    ],
)
async def test_mistyped_fields(client: Client, user: dict[str, Any], method: str, field: str, value: Any) -> None:
    body = {"POST": new_user_body(), "PUT": replacement(), "PATCH": {}}[method] | {field: value}
    await assert_rejected(client, method, user, body, field)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("field", UNKNOWN_FIELDS)
async def test_unknown_fields(client: Client, user: dict[str, Any], method: str, field: str) -> None:
    value: Any = {"id": 1, "version": 1, "password_hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"}.get(
        field, "2026-01-01T00:00:00.000000Z"
    )
    body = {"POST": new_user_body(), "PUT": replacement(), "PATCH": {"city": "X"}}[method] | {field: value}
    await assert_rejected(client, method, user, body, field)


async def test_put_does_not_take_a_password(client: Client, user: dict[str, Any]) -> None:
    await assert_rejected(client, "PUT", user, replacement(password="a new password"), "password")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize(
    "email",
    [
        "plainaddress",
        "missing-at.example.com",
        "trailing@",
        "@example.com",
        "two@@example.com",
        "a b@example.com",
        "dots@example..com",
        "no-tld@localhost",
        "a@-example.com",
    ],
)
async def test_invalid_email_addresses(client: Client, user: dict[str, Any], method: str, email: str) -> None:
    body = {"POST": new_user_body(), "PUT": replacement(), "PATCH": {}}[method] | {"email": email}
    await assert_rejected(client, method, user, body, "email")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/users"), ("PUT", "/users/{id}"), ("PATCH", "/users/{id}"), ("POST", "/auth/verify")],
)
@pytest.mark.parametrize(
    "content",
    [b"not json", b"{", b'{"email": "a@example.com",}', b"", b"[]", b'[{"city": "x"}]', b'"text"', b"null", b"42"],
    ids=["text", "truncated", "trailing-comma", "empty", "array", "array-of-object", "string", "null", "number"],
)
async def test_bodies_that_are_not_a_json_object(
    client: Client, user: dict[str, Any], method: str, path: str, content: bytes
) -> None:
    url = path.format(id=user["id"])
    response = await client.request(method, url, content=content, headers={"Content-Type": "application/json"})
    assert_400(response)


# ---- /auth/verify bodies ----


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com"}, "password"),
        ({"password": "whatever it is"}, "email"),
        ({"email": "a@example.com", "password": ""}, "password"),
        ({"email": "", "password": "whatever it is"}, "email"),
        ({"email": 1, "password": "whatever it is"}, "email"),
        ({"email": "a@example.com", "password": None}, "password"),
        ({"email": "a@example.com", "password": "p" * 257}, "password"),
        ({"email": "a@example.com", "password": "whatever it is", "remember": True}, "remember"),
    ],
)
async def test_verify_bad_bodies(client: Client, body: dict[str, Any], field: str) -> None:
    assert_400(await client.post("/auth/verify", json=body), field)


# ---- path ids ----

BAD_IDS = ["0", "-1", "99999999999999999999", str(2**63), str(2**64), "1.5", "0x10", "%20"]
ROUTES = [("GET", ""), ("PUT", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/restore")]


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
async def test_a_non_integer_id_is_400_naming_it(client: Client, method: str, suffix: str) -> None:
    response = await client.request(method, f"/users/abc{suffix}", json=replacement())
    body = assert_problem(response, 400)
    assert [e["field"] for e in body["errors"]] == ["user_id"]
    assert_clean(response)


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
@pytest.mark.parametrize("bad_id", BAD_IDS)
async def test_an_out_of_range_id_is_400_or_404(client: Client, method: str, suffix: str, bad_id: str) -> None:
    response = await client.request(method, f"/users/{bad_id}{suffix}", json=replacement())
    assert response.status_code in (400, 404), response.text
    assert_problem(response, response.status_code)
    assert_clean(response)


ALIASES = {  # other spellings of an id that a lax int() or float conversion would accept
    "underscore": lambda digits: f"{digits[0]}_{digits[1:]}",
    "fullwidth": lambda digits: digits.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"}),
    "exponent": lambda digits: f"{digits}e0",
    "decimal": lambda digits: f"{digits}.0",
}


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
@pytest.mark.parametrize("alias", ALIASES)
async def test_an_id_spelled_unlike_an_integer_is_no_alias(
    client: Client, user: dict[str, Any], method: str, suffix: str, alias: str
) -> None:
    """A path id that is not an integer is a 400 or 404, even if it reads as the id of a real user."""
    if suffix == "/restore":
        assert (await client.delete(f"/users/{user['id']}")).status_code == 204
    spelled = ALIASES[alias](str(user["id"]))
    response = await client.request(method, f"/users/{spelled}{suffix}", json=replacement(city="Alias"))
    assert response.status_code in (400, 404), response.text
    after = await client.get(f"/users/{user['id']}")
    if suffix == "/restore":
        assert after.status_code == 404  # still deleted
    else:
        assert after.json() == user


# ---- paging parameters ----


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": "99999999999999999999999"}, "limit"),
        ({"limit": "10.0"}, "limit"),
        ({"limit": "1e1"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "2.0"}, "offset"),
        ({"offset": "2e0"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"order": "sideways"}, "order"),
        ({"order": ""}, "order"),
        ({"cursor": "garbage"}, None),
        ({"cursor": "!!!!"}, None),
        ({"cursor": "A" * 34}, None),
        ({"cursor": "A" * 500}, None),
    ],
    ids=lambda value: "&".join(f"{k}={v[:8]}" for k, v in value.items()) if isinstance(value, dict) else None,
)
async def test_bad_paging_params(client: Client, params: dict[str, str], field: str | None) -> None:
    assert_400(await client.get("/users", params=params), field)


async def test_the_largest_page_is_accepted(client: Client) -> None:
    response = await client.get("/users", params={"limit": 100})
    assert response.status_code == 200
    assert response.json()["limit"] == 100


def tampered(cursor: str, position: int) -> str:
    old = cursor[position]
    new = "B" if old == "A" else "A"
    return cursor[:position] + new + cursor[position + 1 :] if position != -1 else cursor[:-1] + new


async def real_cursor(client: Client) -> str:
    for _ in range(2):
        assert (await client.post("/users", json=new_user_body())).status_code == 201
    cursor = (await client.get("/users", params={"limit": 1})).json()["next_cursor"]
    assert isinstance(cursor, str) and len(cursor) > 4
    assert (await client.get("/users", params={"limit": 1, "cursor": cursor})).status_code == 200
    return cursor


@pytest.mark.parametrize(
    "change",
    [
        lambda c: tampered(c, 0),
        lambda c: tampered(c, 3),
        lambda c: tampered(c, len(c) // 2),
        lambda c: tampered(c, len(c) - 2),
        lambda c: c[:-1],
        lambda c: c + "A",
        lambda c: c[::-1],
        lambda c: c.swapcase(),
    ],
    ids=["first", "fourth", "middle", "second-last", "truncated", "extended", "reversed", "swapcase"],
)
async def test_tampered_cursor_is_400(client: Client, change: Any) -> None:
    cursor = await real_cursor(client)
    bad = change(cursor)
    assert bad != cursor
    assert_400(await client.get("/users", params={"limit": 1, "cursor": bad}))


async def test_cursor_with_an_offset_is_400(client: Client) -> None:
    cursor = await real_cursor(client)
    assert_400(await client.get("/users", params={"limit": 1, "cursor": cursor, "offset": 5}))
    assert (await client.get("/users", params={"limit": 1, "cursor": cursor, "offset": 0})).status_code == 200
