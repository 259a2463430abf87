"""GET /events: every committed change of users and articles, written in the change's own transaction,
as CloudEvents whose data is the resource as GET answers it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tests.events.conftest import feed_head, follow, kinds
from tests.helpers import assert_problem, new_user_body

if TYPE_CHECKING:
    import pymysql
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

CLOUDEVENT_KEYS = {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"}


async def _user(client: AsyncTestClient[Litestar], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/users", json=new_user_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _article(client: AsyncTestClient[Litestar], author_id: int, title: str) -> dict[str, Any]:
    response = await client.post(f"/users/{author_id}/articles", json={"title": title, "tags": ["feed"]})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_every_change_of_a_user_is_one_event_with_the_user_as_get_answers(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection
) -> None:
    after = feed_head(db_conn)
    user = await _user(client, first_name="Åda 🚀")
    path = f"/users/{user['id']}"
    whole = {"email": user["email"], "first_name": "Ada", "last_name": "Lovelace", "city": "", "is_active": True}
    changes = [
        ("created", None),
        ("updated", lambda: client.patch(path, json={"city": "London"})),
        ("updated", lambda: client.put(path, json=whole)),
        ("updated", lambda: client.patch(path, json={"password": "a new and longer passphrase"})),
        ("deleted", lambda: client.delete(path)),
        ("restored", lambda: client.post(f"{path}/restore")),
    ]
    shown = user
    for action, change in changes:
        if change is not None:
            response = await change()
            assert response.status_code in (200, 204), response.text
            if response.status_code == 200:
                shown = response.json()
        (event,), after = await follow(client, after, 1, path)
        assert event.keys() == CLOUDEVENT_KEYS
        assert event["type"] == f"blogsvc.user.{action}"
        assert (event["specversion"], event["source"], event["datacontenttype"]) == (
            "1.0",
            "/blogsvc",
            "application/json",
        )
        assert int(event["id"]) == after
        # The user as the change's answer showed it (a delete: as it was, which GET showed before).
        assert event["data"] == shown
        assert not {"password", "password_hash"} & event["data"].keys()
    assert (await client.get(path)).json() == shown


async def test_every_change_of_an_article_is_one_event_with_the_article_as_get_answers(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection
) -> None:
    author = await _user(client)
    after = feed_head(db_conn)
    article = await _article(client, author["id"], "Crème brûlée 🍮")
    path = f"/articles/{article['id']}"
    (event,), after = await follow(client, after, 1, path)
    assert (event["type"], event["data"]) == ("blogsvc.article.created", article)
    for action, change in [
        ("updated", lambda: client.patch(path, json={"title": "Fed", "tags": ["b", "a"], "status": "draft"})),
        ("deleted", lambda: client.delete(path)),
        ("restored", lambda: client.post(f"{path}/restore")),
    ]:
        before = (await client.get(path)).json() if action == "deleted" else None
        response = await change()
        assert response.status_code in (200, 204), response.text
        (event,), after = await follow(client, after, 1, path)
        assert event["type"] == f"blogsvc.article.{action}"
        assert event["data"] == (before if action == "deleted" else (await client.get(path)).json())
    assert event["data"]["tags"] == ["a", "b"]


async def test_a_users_delete_and_restore_are_an_event_for_it_and_one_for_each_article_taken_along(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection
) -> None:
    author = await _user(client)
    articles = [await _article(client, author["id"], f"Cascade {n}") for n in range(3)]
    assert (await client.delete(f"/articles/{articles[0]['id']}")).status_code == 204  # deleted on its own
    user_path, taken = f"/users/{author['id']}", [f"/articles/{a['id']}" for a in articles[1:]]
    after = feed_head(db_conn)

    assert (await client.delete(user_path)).status_code == 204
    events, after = await follow(client, after, 3, user_path, *taken, f"/articles/{articles[0]['id']}")
    assert sorted(kinds(events)) == sorted(
        [("blogsvc.user.deleted", user_path)] + [("blogsvc.article.deleted", path) for path in taken]
    )
    assert (await client.post(f"{user_path}/restore")).status_code == 200
    events, _ = await follow(client, after, 3, user_path, *taken, f"/articles/{articles[0]['id']}")
    assert sorted(kinds(events)) == sorted(
        [("blogsvc.user.restored", user_path)] + [("blogsvc.article.restored", path) for path in taken]
    )
    # One transaction: the three events are numbered one after the other.
    ids = sorted(int(event["id"]) for event in events)
    assert ids == list(range(ids[0], ids[0] + 3))


async def test_a_change_that_is_rolled_back_or_refused_leaves_no_event(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection
) -> None:
    author = await _user(client)
    article = await _article(client, author["id"], "Rolled back")
    path = f"/articles/{article['id']}"
    after = feed_head(db_conn)
    # The trigger writes its event inside the transaction: a rollback takes it away with the change.
    with db_conn.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("UPDATE articles SET title = 'never', version = version + 1 WHERE id = %s", (article["id"],))
        cursor.execute("SELECT COUNT(*) FROM events WHERE subject = %s AND data LIKE '%%never%%'", (path,))
        assert cursor.fetchone() == (1,)
        cursor.execute("ROLLBACK")
    # Refused changes: a taken email, a stale If-Match; the password re-hash on verify is not a change.
    assert_problem(await client.post("/users", json=new_user_body(email=author["email"])), 409)
    assert_problem(await client.patch(path, json={"title": "stale"}, headers={"If-Match": '"0"'}), 412)
    with db_conn.cursor() as cursor:
        cursor.execute("UPDATE users SET password_hash = 'rehashed' WHERE id = %s", (author["id"],))
    assert (await client.patch(path, json={"title": "Kept"})).status_code == 200
    events, _ = await follow(client, after, 1, path, f"/users/{author['id']}")
    assert kinds(events) == [("blogsvc.article.updated", path)]
    assert events[0]["data"]["title"] == "Kept"
    response = await client.get("/events", params={"after": after})
    assert [event["data"].get("title") for event in response.json()["data"]] == ["Kept"]


async def test_a_long_poll_with_nothing_new_answers_empty_when_its_time_is_up(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection
) -> None:
    after = feed_head(db_conn)
    started = time.monotonic()
    response = await client.get("/events", params={"after": after, "wait": 0.5})
    assert time.monotonic() - started >= 0.5
    assert response.json() == {"data": [], "next_after": after}
    # (A long poll woken by a commit runs against a real server: tests/events/test_concurrency.py.)


async def test_type_filters_limit_and_next_after(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection
) -> None:
    after = feed_head(db_conn)
    author = await _user(client)
    paths = [f"/articles/{(await _article(client, author['id'], f'Typed {n}'))['id']}" for n in range(3)]
    await follow(client, after, 4, f"/users/{author['id']}", *paths)
    page = (await client.get("/events", params={"after": after, "limit": 2})).json()
    assert len(page["data"]) == 2 and page["next_after"] == int(page["data"][-1]["id"])
    typed = (await client.get("/events", params={"after": after, "type": "blogsvc.article.created"})).json()
    assert [event["type"] for event in typed["data"]] == ["blogsvc.article.created"] * 3
    types = [("type", "blogsvc.user.created"), ("type", "blogsvc.article.created")]
    both = (await client.get("/events", params=[("after", after), *types])).json()
    assert len(both["data"]) == 4
    assert [int(e["id"]) for e in both["data"]] == sorted(int(e["id"]) for e in both["data"])
    none = (await client.get("/events", params={"after": after, "type": "blogsvc.user.restored"})).json()
    assert none == {"data": [], "next_after": after}


async def test_bad_parameters_are_one_400_naming_each(client: AsyncTestClient[Litestar]) -> None:
    bad = {"after": "-1", "limit": "1001", "wait": "31", "type": "blogsvc.user.eaten"}
    response = await client.get("/events", params=bad)
    body = assert_problem(response, 400)
    assert sorted(error["field"] for error in body["errors"]) == ["after", "limit", "type", "wait"]
    assert_problem(await client.get("/events", params={"limit": "0"}), 400)


async def test_an_after_older_than_what_is_kept_is_410(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection
) -> None:
    await _user(client)
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT pruned_through FROM event_sequencer")
        (pruned,) = cursor.fetchone()
        cursor.execute("UPDATE event_sequencer SET pruned_through = 1")
    try:
        head = feed_head(db_conn)
        body = assert_problem(await client.get("/events", params={"after": 0}), 410)
        assert f"after={head}," in body["detail"]
        assert (await client.get("/events", params={"after": 1})).status_code == 200
    finally:
        with db_conn.cursor() as cursor:
            cursor.execute("UPDATE event_sequencer SET pruned_through = %s", (pruned,))
