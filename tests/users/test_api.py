"""The Users routes of API.md: statuses, bodies and headers, conditional requests, soft delete and
restore, uniqueness under concurrency, and paging."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from litestar.testing import transport as test_transport

from tests.helpers import assert_problem as assert_problem_document
from tests.helpers import new_user_body, unique_email

if TYPE_CHECKING:
    import pymysql
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    Client = AsyncTestClient[Litestar]

USER_FIELDS = {"id", "email", "first_name", "last_name", "city", "is_active", "created_at", "updated_at"}
PAGE_FIELDS = {"data", "limit", "offset", "next_cursor"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
PASSWORD = "correct horse battery"
ABSENT_ID = 2**31 - 1  # a well-formed id no test run will reach
LEAKS = ("Traceback", "SELECT", "INSERT", "UPDATE", "$argon2")


# ---- helpers ----


def assert_user(body: dict[str, Any]) -> None:
    """`body` is exactly a User: its fields, well-formed timestamps, nothing about the password."""
    assert set(body) == USER_FIELDS, body
    assert isinstance(body["id"], int) and body["id"] >= 1
    assert TIMESTAMP.match(body["created_at"]), body
    assert body["updated_at"] is None or TIMESTAMP.match(body["updated_at"]), body


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """A problem document with this status that leaks no traceback, SQL or hash."""
    for leak in LEAKS:
        assert leak not in response.text, response.text
    return assert_problem_document(response, status)


def assert_no_secrets(response: httpx.Response) -> None:
    for secret in ("password", "$argon2", PASSWORD):
        assert secret not in response.text, response.text


async def create_user(client: Client, **fields: Any) -> dict[str, Any]:
    response = await client.post("/users", json=new_user_body(password=PASSWORD, **fields))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_user(client: Client, user_id: int) -> httpx.Response:
    return await client.get(f"/users/{user_id}")


async def etag_of(client: Client, user_id: int) -> str:
    response = await get_user(client, user_id)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def verify(client: Client, email: str, password: str) -> int:
    response = await client.post("/auth/verify", json={"email": email, "password": password})
    return response.status_code


def replacement(**overrides: Any) -> dict[str, Any]:
    """A whole UserReplace body."""
    body = {
        "email": unique_email("put"),
        "first_name": "Ada",
        "last_name": "Byron",
        "city": "London",
        "is_active": True,
    }
    return body | overrides


async def concurrently(client: Client, requests: list[tuple[str, str, Any]]) -> list[httpx.Response]:
    """Send (method, url, json) requests at once. The AsyncTestClient runs each request to completion
    before its coroutine yields, so gather() on it alone would send them one after another; here each
    goes through the app's portal from its own thread, and they really overlap in the app."""
    transport = test_transport.TestClientTransport(client=client)
    sync = httpx.Client(transport=transport, base_url=str(client.base_url))  # holds no connections to close
    return await asyncio.gather(
        *(asyncio.to_thread(sync.request, method, url, json=body) for method, url, body in requests)
    )


async def walk(client: Client, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every page of GET /users from the first, following next_cursor; checks each envelope."""
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/users", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == PAGE_FIELDS and page["limit"] == limit and page["offset"] == 0, page
        pages.append(page)
        assert page["data"] or len(pages) == 1, "a next_cursor led to an empty page"
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(page["data"]) == limit, page  # only a full page can have a next one
        assert len(pages) < 5000, "the walk does not end"


def ids_of(pages: list[dict[str, Any]]) -> list[int]:
    return [user["id"] for page in pages for user in page["data"]]


# ---- POST /users ----


async def test_create_returns_the_user_with_location(client: Client) -> None:
    email = unique_email("create")
    response = await client.post("/users", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    user = response.json()
    assert_user(user)
    assert_no_secrets(response)
    assert response.headers["location"] == f"/users/{user['id']}"
    assert user["email"] == email
    assert (user["first_name"], user["last_name"], user["city"], user["is_active"]) == ("", "", "", True)
    assert user["updated_at"] is None
    created = datetime.strptime(user["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    fetched = await client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == user


async def test_create_keeps_the_optional_fields(client: Client) -> None:
    fields = {"first_name": "Grace", "last_name": "Hopper", "city": "New York", "is_active": False}
    user = await create_user(client, **fields)
    assert {name: user[name] for name in fields} == fields
    assert (await get_user(client, user["id"])).json() == user


@pytest.mark.parametrize("spelling", [str.upper, str.lower, str.title], ids=["upper", "lower", "title"])
async def test_create_with_a_taken_email_in_any_case_is_409(client: Client, spelling: Any) -> None:
    email = unique_email("Taken")
    await create_user(client, email=email)
    response = await client.post("/users", json=new_user_body(email=spelling(email)))
    assert_problem(response, 409)
    listed = await client.get("/users", params={"email": email})
    assert len(listed.json()["data"]) == 1


@pytest.mark.parametrize("spelling", ["same", "mixed case"])
async def test_concurrent_creates_of_one_email_give_one_201(client: Client, spelling: str) -> None:
    email = unique_email("race")
    emails = [email if spelling == "same" or i % 2 else email.upper() for i in range(10)]
    responses = await concurrently(client, [("POST", "/users", new_user_body(email=e)) for e in emails])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409)
    listed = await client.get("/users", params={"email": email})
    assert [u["id"] for u in listed.json()["data"]] == [r.json()["id"] for r in responses if r.status_code == 201]


# ---- GET /users/{id} and conditional GET ----


async def test_get_unknown_user_is_404(client: Client) -> None:
    assert_problem(await get_user(client, ABSENT_ID), 404)


async def test_get_has_an_etag_and_if_none_match_gives_304(client: Client) -> None:
    user = await create_user(client)
    url = f"/users/{user['id']}"
    tag = await etag_of(client, user["id"])
    assert tag
    not_modified = await client.get(url, headers={"If-None-Match": tag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == tag
    for same in (f"W/{tag}", f'"0", {tag}', "*"):
        assert (await client.get(url, headers={"If-None-Match": same})).status_code == 304, same


async def test_stale_if_none_match_gives_200_and_the_etag_changes_on_write(client: Client) -> None:
    user = await create_user(client)
    url = f"/users/{user['id']}"
    old = await etag_of(client, user["id"])
    patched = await client.patch(url, json={"city": "Bergen"})
    assert patched.status_code == 200
    new = await etag_of(client, user["id"])
    assert new != old
    assert patched.headers["etag"] == new
    fresh = await client.get(url, headers={"If-None-Match": old})
    assert fresh.status_code == 200
    assert fresh.json()["city"] == "Bergen"
    assert fresh.headers["etag"] == new


# ---- GET /users ----


async def test_list_envelope_and_defaults(client: Client) -> None:
    await create_user(client)
    response = await client.get("/users")
    assert response.status_code == 200
    page = response.json()
    assert set(page) == PAGE_FIELDS
    assert (page["limit"], page["offset"]) == (20, 0)
    assert 1 <= len(page["data"]) <= 20
    for user in page["data"]:
        assert_user(user)
    assert_no_secrets(response)


async def test_email_filter_is_exact_and_case_insensitive(client: Client) -> None:
    email = unique_email("Filter.Me")
    user = await create_user(client, email=email)
    await create_user(client, email="x" + email)  # a longer address containing it
    for spelling in (email, email.lower(), email.upper()):
        page = (await client.get("/users", params={"email": spelling})).json()
        assert page["data"] == [user], spelling
        assert page["next_cursor"] is None
    local, domain = email.split("@")
    for near_miss in (email[:-1], f"%@{domain}", f"{local[:-1]}_@{domain}"):
        response = await client.get("/users", params={"email": near_miss})
        assert response.status_code == 200, near_miss
        assert response.json()["data"] == [], near_miss
    # Not an address at all (as a new user's email would be refused): a 400, not an empty page.
    for not_an_address in (local, f"{email} ", f"{email}."):
        assert (await client.get("/users", params={"email": not_an_address})).status_code == 400, not_an_address


# ---- paging ----


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_cursor_walk_visits_every_user_once_in_order(client: Client, order: str) -> None:
    mine = {(await create_user(client))["id"] for _ in range(7)}
    pages = await walk(client, 3, **({} if order == "asc" else {"order": order}))
    ids = ids_of(pages)
    expected = sorted(ids, reverse=order == "desc")
    assert ids == expected and len(set(ids)) == len(ids)
    assert mine <= set(ids)
    assert len(pages) >= 3


async def test_cursor_walk_survives_inserts_and_deletes_between_pages(client: Client) -> None:
    mine = [(await create_user(client))["id"] for _ in range(6)]
    first = (await client.get("/users", params={"limit": 5})).json()
    assert first["next_cursor"]
    gone = mine[-1]
    assert (await client.delete(f"/users/{gone}")).status_code == 204
    added = (await create_user(client))["id"]
    seen = [u["id"] for u in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await client.get("/users", params={"limit": 5, "cursor": cursor})).json()
        seen += [u["id"] for u in page["data"]]
        cursor = page["next_cursor"]
    assert seen == sorted(set(seen))
    assert gone not in seen
    assert {*mine[:-1], added} <= set(seen)


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_offset_pages_are_slices_of_the_first_page(client: Client, order: str) -> None:
    for _ in range(7):
        await create_user(client)
    first = (await client.get("/users", params={"limit": 7, "order": order})).json()
    ids = [u["id"] for u in first["data"]]
    assert len(ids) == 7
    page = (await client.get("/users", params={"limit": 3, "offset": 2, "order": order})).json()
    assert (page["limit"], page["offset"]) == (3, 2)
    assert [u["id"] for u in page["data"]] == ids[2:5]
    # A cursor from an offset page carries on after that page's last row.
    assert page["next_cursor"]
    after = (await client.get("/users", params={"limit": 2, "order": order, "cursor": page["next_cursor"]})).json()
    assert [u["id"] for u in after["data"]] == ids[5:7]


async def test_offset_past_the_end_is_an_empty_last_page(client: Client) -> None:
    page = (await client.get("/users", params={"offset": 1_000_000})).json()
    assert page["data"] == [] and page["next_cursor"] is None


async def test_a_page_that_ends_the_table_has_no_cursor(client: Client) -> None:
    newest = await create_user(client)
    page = (await client.get("/users", params={"limit": 1, "order": "desc"})).json()
    assert [u["id"] for u in page["data"]] == [newest["id"]] and page["next_cursor"]
    # The last row exactly fills the page: the cursor must already be null.
    last = (await client.get("/users", params={"email": newest["email"], "limit": 1})).json()
    assert last["data"] == [newest] and last["next_cursor"] is None


async def test_cursor_is_bound_to_its_order(client: Client) -> None:
    for _ in range(2):
        await create_user(client)
    cursor = (await client.get("/users", params={"limit": 1})).json()["next_cursor"]
    assert cursor
    assert (await client.get("/users", params={"limit": 1, "cursor": cursor})).status_code == 200
    assert_problem(await client.get("/users", params={"limit": 1, "cursor": cursor, "order": "desc"}), 400)


async def test_cursor_is_bound_to_its_filter(client: Client) -> None:
    user = await create_user(client)
    await create_user(client)
    cursor = (await client.get("/users", params={"limit": 1})).json()["next_cursor"]
    assert cursor
    assert_problem(await client.get("/users", params={"email": user["email"], "cursor": cursor}), 400)


# ---- PUT ----


async def test_put_replaces_every_field(client: Client) -> None:
    user = await create_user(client, first_name="Old", city="Oslo")
    old_tag = await etag_of(client, user["id"])
    body = replacement(is_active=False)
    response = await client.put(f"/users/{user['id']}", json=body)
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert_user(replaced)
    assert {name: replaced[name] for name in body} == body
    assert (replaced["id"], replaced["created_at"]) == (user["id"], user["created_at"])
    assert replaced["updated_at"] is not None and replaced["updated_at"] >= replaced["created_at"]
    assert response.headers["etag"] != old_tag
    assert (await get_user(client, user["id"])).json() == replaced
    assert await verify(client, body["email"], PASSWORD) == 401  # now inactive
    assert await verify(client, user["email"], PASSWORD) == 401  # the old address is gone


async def test_put_keeps_the_password(client: Client) -> None:
    user = await create_user(client)
    body = replacement()
    assert (await client.put(f"/users/{user['id']}", json=body)).status_code == 200
    assert await verify(client, body["email"], PASSWORD) == 200


@pytest.mark.parametrize("missing", ["email", "first_name", "last_name", "city", "is_active"])
async def test_put_without_a_field_is_400_naming_it(client: Client, missing: str) -> None:
    user = await create_user(client)
    body = replacement()
    del body[missing]
    problem = assert_problem(await client.put(f"/users/{user['id']}", json=body), 400)
    assert missing in {error["field"] for error in problem["errors"]}
    assert (await get_user(client, user["id"])).json() == user


async def test_put_with_a_taken_email_is_409(client: Client) -> None:
    taken = await create_user(client)
    user = await create_user(client)
    response = await client.put(f"/users/{user['id']}", json=replacement(email=taken["email"].upper()))
    assert_problem(response, 409)
    assert (await get_user(client, user["id"])).json() == user


async def test_put_own_email_in_another_case_is_not_a_conflict(client: Client) -> None:
    user = await create_user(client, email=unique_email("self"))
    response = await client.put(f"/users/{user['id']}", json=replacement(email=user["email"].upper()))
    assert response.status_code == 200, response.text


async def test_put_with_stale_if_match_is_412_and_changes_nothing(client: Client) -> None:
    user = await create_user(client)
    stale = await etag_of(client, user["id"])
    assert (await client.patch(f"/users/{user['id']}", json={"city": "Rome"})).status_code == 200
    current = (await get_user(client, user["id"])).json()
    response = await client.put(f"/users/{user['id']}", json=replacement(), headers={"If-Match": stale})
    assert_problem(response, 412)
    assert (await get_user(client, user["id"])).json() == current


async def test_put_with_current_if_match_succeeds_with_a_new_etag(client: Client) -> None:
    user = await create_user(client)
    tag = await etag_of(client, user["id"])
    response = await client.put(f"/users/{user['id']}", json=replacement(city="Paris"), headers={"If-Match": tag})
    assert response.status_code == 200, response.text
    assert response.json()["city"] == "Paris"
    new_tag = response.headers["etag"]
    assert new_tag != tag
    assert await etag_of(client, user["id"]) == new_tag


async def test_put_unknown_user_is_404(client: Client) -> None:
    assert_problem(await client.put(f"/users/{ABSENT_ID}", json=replacement()), 404)


# ---- PATCH ----


async def test_patch_leaves_other_fields_untouched(client: Client) -> None:
    user = await create_user(client, first_name="Ada", last_name="Lovelace", city="London", is_active=True)
    response = await client.patch(f"/users/{user['id']}", json={"city": "Paris"})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert_user(patched)
    assert patched["updated_at"] is not None
    assert {**patched, "city": "London", "updated_at": None} == user
    assert patched["city"] == "Paris"
    assert (await get_user(client, user["id"])).json() == patched
    assert await verify(client, user["email"], PASSWORD) == 200


async def test_patch_every_field(client: Client) -> None:
    user = await create_user(client)
    changes = {"email": unique_email("patched"), "first_name": "F", "last_name": "L", "city": "C", "is_active": False}
    patched = (await client.patch(f"/users/{user['id']}", json=changes)).json()
    assert {name: patched[name] for name in changes} == changes


@pytest.mark.parametrize("field", ["email", "first_name", "last_name", "city", "is_active", "password"])
async def test_patch_null_is_400_naming_the_field(client: Client, field: str) -> None:
    user = await create_user(client)
    problem = assert_problem(await client.patch(f"/users/{user['id']}", json={field: None}), 400)
    assert field in {error["field"] for error in problem["errors"]}
    assert (await get_user(client, user["id"])).json() == user


async def test_patch_password_rehashes(client: Client, db_conn: pymysql.connections.Connection) -> None:
    user = await create_user(client)
    before = stored_hash(db_conn, user["id"])
    response = await client.patch(f"/users/{user['id']}", json={"password": "a brand new secret"})
    assert response.status_code == 200, response.text
    assert_no_secrets(response)
    after = stored_hash(db_conn, user["id"])
    assert after != before and after.startswith("$argon2id$")
    assert await verify(client, user["email"], "a brand new secret") == 200
    assert await verify(client, user["email"], PASSWORD) == 401


async def test_patch_with_a_taken_email_is_409(client: Client) -> None:
    taken = await create_user(client)
    user = await create_user(client)
    assert_problem(await client.patch(f"/users/{user['id']}", json={"email": taken["email"].title()}), 409)
    assert (await get_user(client, user["id"])).json() == user


@pytest.mark.parametrize("body", [{"city": "Lima"}, {}], ids=["change", "empty"])
async def test_patch_with_stale_if_match_is_412(client: Client, body: dict[str, Any]) -> None:
    user = await create_user(client)
    stale = await etag_of(client, user["id"])
    assert (await client.patch(f"/users/{user['id']}", json={"city": "Quito"})).status_code == 200
    response = await client.patch(f"/users/{user['id']}", json=body, headers={"If-Match": stale})
    assert_problem(response, 412)
    assert (await get_user(client, user["id"])).json()["city"] == "Quito"


async def test_patch_with_current_if_match_succeeds(client: Client) -> None:
    user = await create_user(client)
    tag = await etag_of(client, user["id"])
    response = await client.patch(f"/users/{user['id']}", json={"city": "Lima"}, headers={"If-Match": tag})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] not in ("", tag)


async def test_patch_unknown_user_is_404(client: Client) -> None:
    assert_problem(await client.patch(f"/users/{ABSENT_ID}", json={"city": "Nowhere"}), 404)


# ---- DELETE, soft delete ----


def stored_hash(db_conn: pymysql.connections.Connection, user_id: int) -> str:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT password_hash FROM users WHERE id = %s", (user_id,))
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


def deleted_at(db_conn: pymysql.connections.Connection, user_id: int) -> Any:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT deleted_at FROM users WHERE id = %s", (user_id,))
        row = cursor.fetchone()
    assert row is not None, f"user {user_id} is no longer in the table"
    return row[0]


async def test_delete_is_204_then_everything_is_404(client: Client) -> None:
    user = await create_user(client)
    url = f"/users/{user['id']}"
    response = await client.delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(url), 404)
    assert_problem(await client.put(url, json=replacement()), 404)
    assert_problem(await client.patch(url, json={"city": "Gone"}), 404)
    assert_problem(await client.patch(url, json={}), 404)
    assert_problem(await client.delete(url), 404)


async def test_delete_unknown_user_is_404(client: Client) -> None:
    assert_problem(await client.delete(f"/users/{ABSENT_ID}"), 404)


async def test_delete_with_stale_if_match_is_412_and_keeps_the_user(client: Client) -> None:
    user = await create_user(client)
    stale = await etag_of(client, user["id"])
    assert (await client.patch(f"/users/{user['id']}", json={"city": "Kyiv"})).status_code == 200
    assert_problem(await client.delete(f"/users/{user['id']}", headers={"If-Match": stale}), 412)
    assert (await get_user(client, user["id"])).status_code == 200


async def test_delete_with_current_if_match_is_204(client: Client) -> None:
    user = await create_user(client)
    tag = await etag_of(client, user["id"])
    assert (await client.delete(f"/users/{user['id']}", headers={"If-Match": tag})).status_code == 204
    assert (await get_user(client, user["id"])).status_code == 404


async def test_a_deleted_user_is_invisible_but_kept(client: Client, db_conn: pymysql.connections.Connection) -> None:
    user = await create_user(client)
    assert (await client.delete(f"/users/{user['id']}")).status_code == 204
    assert_problem(await get_user(client, user["id"]), 404)
    for order in ("asc", "desc"):
        assert user["id"] not in ids_of(await walk(client, 100, order=order))
    for spelling in (user["email"], user["email"].upper()):
        assert (await client.get("/users", params={"email": spelling})).json()["data"] == []
    assert await verify(client, user["email"], PASSWORD) == 401
    assert deleted_at(db_conn, user["id"]) is not None


async def test_a_deleted_users_email_can_be_registered_again(
    client: Client, db_conn: pymysql.connections.Connection
) -> None:
    old = await create_user(client)
    assert (await client.delete(f"/users/{old['id']}")).status_code == 204
    new = await create_user(client, email=old["email"].upper())
    assert new["id"] != old["id"]
    assert (await client.get("/users", params={"email": old["email"]})).json()["data"] == [new]
    assert deleted_at(db_conn, old["id"]) is not None
    assert deleted_at(db_conn, new["id"]) is None


# ---- restore ----


async def test_restore_brings_the_user_back(client: Client, db_conn: pymysql.connections.Connection) -> None:
    user = await create_user(client)
    assert (await client.delete(f"/users/{user['id']}")).status_code == 204
    response = await client.post(f"/users/{user['id']}/restore")
    assert response.status_code == 200, response.text
    restored = response.json()
    assert_user(restored)
    assert {**restored, "updated_at": None} == {**user, "updated_at": None}
    assert (await get_user(client, user["id"])).json() == restored
    assert (await client.get("/users", params={"email": user["email"]})).json()["data"] == [restored]
    assert await verify(client, user["email"], PASSWORD) == 200
    assert deleted_at(db_conn, user["id"]) is None


async def test_restore_a_live_user_is_404(client: Client) -> None:
    user = await create_user(client)
    assert_problem(await client.post(f"/users/{user['id']}/restore"), 404)
    assert (await get_user(client, user["id"])).json() == user


async def test_restore_an_unknown_user_is_404(client: Client) -> None:
    assert_problem(await client.post(f"/users/{ABSENT_ID}/restore"), 404)


async def test_restore_after_the_email_was_registered_again_is_409(client: Client) -> None:
    old = await create_user(client)
    assert (await client.delete(f"/users/{old['id']}")).status_code == 204
    new = await create_user(client, email=old["email"])
    assert_problem(await client.post(f"/users/{old['id']}/restore"), 409)
    assert_problem(await get_user(client, old["id"]), 404)
    assert (await client.get("/users", params={"email": old["email"]})).json()["data"] == [new]


# ---- trailing slashes ----


async def test_users_with_and_without_a_trailing_slash_are_one_route(client: Client) -> None:
    created = await client.post("/users/", json=new_user_body())
    assert created.status_code == 201, created.text
    email = created.json()["email"]
    with_slash = await client.get("/users/", params={"email": email})
    without = await client.get("/users", params={"email": email})
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.json() == without.json() == {**without.json(), "data": [created.json()]}


async def test_user_routes_take_a_trailing_slash(client: Client) -> None:
    user = await create_user(client)
    url = f"/users/{user['id']}/"
    fetched = await client.get(url)
    assert fetched.status_code == 200 and fetched.json() == user
    assert (await client.put(url, json=replacement(city="A"))).json()["city"] == "A"
    assert (await client.patch(url, json={"city": "B"})).json()["city"] == "B"
    assert (await client.delete(url)).status_code == 204
    assert (await client.post(f"/users/{user['id']}/restore/")).status_code == 200
