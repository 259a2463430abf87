"""Deleting a user takes its live articles with it; restoring the user brings back exactly those."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tests.helpers import assert_problem

if TYPE_CHECKING:
    import pymysql
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tests.articles.conftest import ArticleRow, MakeArticle, MakeUser


def user_deleted_at(db_conn: pymysql.connections.Connection, user_id: int) -> Any:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT deleted_at FROM users WHERE id = %s", (user_id,))
        (deleted_at,) = cursor.fetchone()
    return deleted_at


def live_articles_of_deleted_authors(db_conn: pymysql.connections.Connection, author_id: int) -> int:
    with db_conn.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM articles a JOIN users u ON u.id = a.author_id"
            " WHERE u.id = %s AND a.deleted_at IS NULL AND u.deleted_at IS NOT NULL",
            (author_id,),
        )
        (count,) = cursor.fetchone()
    return int(count)


async def status_of(client: AsyncTestClient[Litestar], article_id: int) -> int:
    return (await client.get(f"/articles/{article_id}")).status_code


async def test_delete_user_soft_deletes_its_live_articles(
    client: AsyncTestClient[Litestar],
    db_conn: pymysql.connections.Connection,
    make_user: MakeUser,
    make_article: MakeArticle,
    article_row: ArticleRow,
) -> None:
    author, bystander = await make_user(), await make_user()
    first, second, own = [await make_article(author["id"]) for _ in range(3)]
    theirs = await make_article(bystander["id"])
    assert (await client.delete(f"/articles/{own['id']}")).status_code == 204
    own_row = article_row(own["id"])
    assert own_row is not None and own_row["deleted_at"] is not None
    own_deleted_at = own_row["deleted_at"]

    assert (await client.delete(f"/users/{author['id']}")).status_code == 204

    for article in (first, second, own):
        assert_problem(await client.get(f"/articles/{article['id']}"), 404)
        assert_problem(await client.patch(f"/articles/{article['id']}", json={"title": "x"}), 404)
        assert_problem(await client.delete(f"/articles/{article['id']}"), 404)
    assert_problem(await client.get(f"/users/{author['id']}/articles"), 404)
    assert (await client.get("/articles", params={"author_id": author["id"]})).json()["data"] == []
    # Someone else's article is untouched.
    assert (await client.get(f"/articles/{theirs['id']}")).json() == theirs

    # Soft: the rows stay, marked deleted when the user was; the article deleted on its own earlier
    # keeps its own deletion time.
    deleted_at = user_deleted_at(db_conn, author["id"])
    assert deleted_at is not None
    for article in (first, second):
        row = article_row(article["id"])
        assert row is not None
        assert (row["title"], row["body"]) == (article["title"], article["body"])
        assert row["deleted_at"] is not None
        assert abs((row["deleted_at"] - deleted_at).total_seconds()) < 5
    own_after = article_row(own["id"])
    assert own_after is not None and own_after["deleted_at"] == own_deleted_at
    assert own_deleted_at < deleted_at
    assert live_articles_of_deleted_authors(db_conn, author["id"]) == 0


async def test_restore_user_brings_back_exactly_the_articles_deleted_with_it(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    first, second, own = [await make_article(author["id"]) for _ in range(3)]
    assert (await client.delete(f"/articles/{own['id']}")).status_code == 204
    assert (await client.delete(f"/users/{author['id']}")).status_code == 204

    restored = await client.post(f"/users/{author['id']}/restore")
    assert restored.status_code == 200, restored.text

    assert (await client.get(f"/articles/{first['id']}")).json() == first
    assert (await client.get(f"/articles/{second['id']}")).json() == second
    assert_problem(await client.get(f"/articles/{own['id']}"), 404)
    listed = (await client.get(f"/users/{author['id']}/articles")).json()
    assert listed["data"] == [first, second]
    # The one deleted on its own can still be restored on its own, now that its author is live.
    back = await client.post(f"/articles/{own['id']}/restore")
    assert back.status_code == 200, back.text
    assert back.json() == own


async def test_restore_article_of_deleted_author_is_409_until_author_is_restored(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle, article_row: ArticleRow
) -> None:
    with_author, own = await make_article(author["id"]), await make_article(author["id"])
    assert (await client.delete(f"/articles/{own['id']}")).status_code == 204
    assert (await client.delete(f"/users/{author['id']}")).status_code == 204

    for article in (with_author, own):
        assert_problem(await client.post(f"/articles/{article['id']}/restore"), 409)
        row = article_row(article["id"])
        assert row is not None and row["deleted_at"] is not None
        assert_problem(await client.get(f"/articles/{article['id']}"), 404)

    assert (await client.post(f"/users/{author['id']}/restore")).status_code == 200
    assert_problem(await client.post(f"/articles/{with_author['id']}/restore"), 404)  # already back with its author
    restored = await client.post(f"/articles/{own['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json() == own
    assert (await client.get(f"/articles/{own['id']}")).status_code == 200


async def test_cascade_over_repeated_delete_and_restore(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    first, second, third = [await make_article(author["id"]) for _ in range(3)]
    user_url = f"/users/{author['id']}"

    # Round 1: all three go and come back with the user.
    assert (await client.delete(user_url)).status_code == 204
    assert (await client.post(f"{user_url}/restore")).status_code == 200
    assert [await status_of(client, a["id"]) for a in (first, second, third)] == [200, 200, 200]

    # Round 2: `first` came back with the user, then was deleted on its own: it must not come back again.
    assert (await client.delete(f"/articles/{first['id']}")).status_code == 204
    assert (await client.delete(user_url)).status_code == 204
    assert (await client.post(f"{user_url}/restore")).status_code == 200
    assert [await status_of(client, a["id"]) for a in (first, second, third)] == [404, 200, 200]

    # Round 3: restored on its own, `first` is live again, so it goes and comes back with the user.
    assert (await client.post(f"/articles/{first['id']}/restore")).status_code == 200
    assert (await client.delete(user_url)).status_code == 204
    assert [await status_of(client, a["id"]) for a in (first, second, third)] == [404, 404, 404]
    assert (await client.post(f"{user_url}/restore")).status_code == 200
    listed = (await client.get(f"{user_url}/articles")).json()["data"]
    assert [a["id"] for a in listed] == [first["id"], second["id"], third["id"]]


async def test_user_delete_with_stale_if_match_leaves_its_articles_live(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle, article_row: ArticleRow
) -> None:
    article = await make_article(author["id"])
    stale = (await client.get(f"/users/{author['id']}")).headers["etag"]
    assert (await client.patch(f"/users/{author['id']}", json={"city": "Elsewhere"})).status_code == 200

    assert_problem(await client.delete(f"/users/{author['id']}", headers={"If-Match": stale}), 412)
    assert (await client.get(f"/articles/{article['id']}")).json() == article
    row = article_row(article["id"])
    assert row is not None and row["deleted_at"] is None


async def test_failed_user_restore_leaves_its_articles_deleted(
    client: AsyncTestClient[Litestar], make_user: MakeUser, author: dict[str, Any], make_article: MakeArticle
) -> None:
    article = await make_article(author["id"])
    assert (await client.delete(f"/users/{author['id']}")).status_code == 204
    await make_user(email=author["email"])  # the address is free again, and taken

    assert_problem(await client.post(f"/users/{author['id']}/restore"), 409)
    assert_problem(await client.get(f"/articles/{article['id']}"), 404)
    assert_problem(await client.post(f"/articles/{article['id']}/restore"), 409)


async def test_articles_written_while_the_author_is_deleted_are_never_left_live(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection, make_user: MakeUser
) -> None:
    """Creates racing a user delete: each either fails (404) or is deleted with the user, and comes back with it."""
    for _ in range(5):
        author = await make_user()
        url = f"/users/{author['id']}/articles"
        before = [(await client.post(url, json={"title": f"before {n}"})).json()["id"] for n in range(2)]
        results = await asyncio.gather(
            *(client.post(url, json={"title": f"racing {n}"}) for n in range(4)),
            client.delete(f"/users/{author['id']}"),
            *(client.post(url, json={"title": f"racing late {n}"}) for n in range(4)),
        )
        deleted = results[4]
        creates = results[:4] + results[5:]
        assert deleted.status_code == 204, deleted.text
        assert {r.status_code for r in creates} <= {201, 404}, [r.text for r in creates]
        assert live_articles_of_deleted_authors(db_conn, author["id"]) == 0
        created = [r.json()["id"] for r in creates if r.status_code == 201]

        assert (await client.post(f"/users/{author['id']}/restore")).status_code == 200
        listed = (await client.get(url, params={"limit": 100})).json()["data"]
        assert sorted(a["id"] for a in listed) == sorted(before + created)
