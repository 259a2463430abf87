"""Every Articles route of API.md, and the users' article routes: what succeeds, and every way it fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from blogsvc.pagination import MAX_ID
from tests.articles.conftest import ARTICLE_FIELDS, PAGE_FIELDS, TIMESTAMP
from tests.helpers import assert_problem, unique_email

if TYPE_CHECKING:
    import pymysql
    from httpx import Response
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

    from tests.articles.conftest import ArticleRow, MakeArticle, MakeUser


def parse_timestamp(text: str) -> datetime:
    assert TIMESTAMP.fullmatch(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def assert_clean_problem(response: Response, status: int, field: str | None = None) -> dict[str, Any]:
    """A problem document with this status that leaks nothing; when `field` is given, it names that field."""
    problem = assert_problem(response, status)
    for leak in ("Traceback", "SELECT", "UPDATE ", "INSERT", "pymysql", "password_hash"):
        assert leak not in response.text, response.text
    if field is not None:
        assert field in problem["detail"], problem
        assert field in [error["field"] for error in problem["errors"]], problem
    for error in problem.get("errors", []):  # sentences for a person, not the regular expressions behind them
        assert "Must match" not in error["message"], error
    return problem


def count_articles_of(db_conn: pymysql.connections.Connection, author_id: int) -> int:
    with db_conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM articles WHERE author_id = %s", (author_id,))
        (count,) = cursor.fetchone()
    return int(count)


# ---- POST /users/{id}/articles ----


async def test_create_article(client: AsyncTestClient[Litestar], author: dict[str, Any]) -> None:
    before = datetime.now(UTC)
    response = await client.post(f"/users/{author['id']}/articles", json={"title": "Hello", "body": "World"})
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    article = response.json()
    assert set(article) == ARTICLE_FIELDS
    assert isinstance(article["id"], int) and article["id"] >= 1
    assert article["title"] == "Hello"
    assert article["body"] == "World"
    assert article["author_id"] == author["id"]
    assert article["author"] == author["email"]
    assert article["updated_at"] is None
    # UTC (a zone mix-up would be hours off), microsecond precision, Z suffix.
    created = parse_timestamp(article["created_at"])
    assert before - timedelta(minutes=2) < created < datetime.now(UTC) + timedelta(minutes=2)
    assert response.headers["location"] == f"/articles/{article['id']}"
    fetched = await client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == article
    assert response.headers["etag"] == fetched.headers["etag"]


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        ({"title": "no body"}, None),
        ({"title": "null body", "body": None}, None),
        ({"title": "empty body", "body": ""}, ""),
        ({"title": "t" * 200, "body": "b" * 100_000}, "b" * 100_000),
        ({"title": "\U0001f600" * 200, "body": "\u00e9\U0001f600" * 1000}, "\u00e9\U0001f600" * 1000),
        ({"title": "Gr\u00fc\u00dfe %(title)s %s", "body": "'; DROP TABLE articles; --\n\t\"\\ %%"}, None),
        ({"title": "\u0000\u0001\u001f\u007f\u2028\u2029\ufeff", "body": "\b\f\r\u0000 \ud7ff\ue000"}, None),
    ],
    ids=["omitted", "null", "empty-string", "longest", "astral-utf8mb4", "quotes-and-percents", "control-characters"],
)
async def test_create_round_trips_title_and_body(
    client: AsyncTestClient[Litestar], author: dict[str, Any], body: dict[str, Any], stored: str | None
) -> None:
    response = await client.post(f"/users/{author['id']}/articles", json=body)
    assert response.status_code == 201, response.text
    expected_body = body.get("body") if stored is None else stored
    assert (response.json()["title"], response.json()["body"]) == (body["title"], expected_body)
    fetched = (await client.get(response.headers["location"])).json()
    assert (fetched["title"], fetched["body"]) == (body["title"], expected_body)
    # Pages come from other queries (the database writes each article as JSON): the same text.
    listed = (await client.get(f"/users/{author['id']}/articles", params={"order": "desc", "limit": 1})).json()
    assert [(item["title"], item["body"]) for item in listed["data"]] == [(body["title"], expected_body)]


BAD_CREATE_BODIES = [
    pytest.param({}, "title", id="title-missing"),
    pytest.param({"body": "only a body"}, "title", id="only-body"),
    pytest.param({"title": ""}, "title", id="title-empty"),
    pytest.param({"title": "t" * 201}, "title", id="title-201-chars"),
    pytest.param({"title": None}, "title", id="title-null"),
    pytest.param({"title": 5}, "title", id="title-number"),
    pytest.param({"title": ["t"]}, "title", id="title-list"),
    pytest.param({"title": "t", "body": "b" * 100_001}, "body", id="body-100001-chars"),
    pytest.param({"title": "t", "body": 5}, "body", id="body-number"),
    pytest.param({"title": "t", "body": True}, "body", id="body-bool"),
    pytest.param({"title": "t", "body": {"text": "x"}}, "body", id="body-object"),
    pytest.param({"title": "t", "author_id": 1}, "author_id", id="unknown-author_id"),
    pytest.param({"title": "t", "id": 1}, "id", id="unknown-id"),
    pytest.param({"title": "t", "deleted_at": None}, "deleted_at", id="unknown-deleted_at"),
    pytest.param({"title": "t", "author": "x@example.com"}, "author", id="unknown-author"),
    pytest.param({"title": "t", "created_at": "2026-01-01T00:00:00.000000Z"}, "created_at", id="unknown-created_at"),
    pytest.param({"title": "t", "updated_at": None}, "updated_at", id="unknown-updated_at"),
    pytest.param({"title": "t", "version": 7}, "version", id="unknown-version"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CREATE_BODIES)
async def test_create_rejects_bad_bodies(
    client: AsyncTestClient[Litestar],
    db_conn: pymysql.connections.Connection,
    author: dict[str, Any],
    body: dict[str, Any],
    field: str,
) -> None:
    response = await client.post(f"/users/{author['id']}/articles", json=body)
    assert_clean_problem(response, 400, field)
    assert count_articles_of(db_conn, author["id"]) == 0


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b'"title"', b"null", b"42", b'{"title": "t",}', b"\xff\xfe"],
    ids=["empty", "truncated", "array", "string", "null", "number", "trailing-comma", "not-utf8"],
)
async def test_create_rejects_non_object_bodies(
    client: AsyncTestClient[Litestar],
    db_conn: pymysql.connections.Connection,
    author: dict[str, Any],
    content: bytes,
) -> None:
    response = await client.post(
        f"/users/{author['id']}/articles", content=content, headers={"content-type": "application/json"}
    )
    assert_clean_problem(response, 400)
    assert count_articles_of(db_conn, author["id"]) == 0


async def test_create_rejects_a_body_over_one_mebibyte(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection, author: dict[str, Any]
) -> None:
    response = await client.post(f"/users/{author['id']}/articles", json={"title": "t", "body": "x" * (1 << 20)})
    assert_clean_problem(response, 413)
    assert count_articles_of(db_conn, author["id"]) == 0


async def test_create_for_unknown_user_is_404(client: AsyncTestClient[Litestar]) -> None:
    for user_id in (MAX_ID, MAX_ID - 1):
        response = await client.post(f"/users/{user_id}/articles", json={"title": "t"})
        assert_clean_problem(response, 404)


async def test_create_for_deleted_user_is_404(
    client: AsyncTestClient[Litestar], db_conn: pymysql.connections.Connection, author: dict[str, Any]
) -> None:
    assert (await client.delete(f"/users/{author['id']}")).status_code == 204
    response = await client.post(f"/users/{author['id']}/articles", json={"title": "t"})
    assert_clean_problem(response, 404)
    assert count_articles_of(db_conn, author["id"]) == 0


# ---- path ids that are not ids ----

BAD_IDS = ["abc", "0", "-1", "1.5", "010", "+1", "1_0", " 1", str(MAX_ID + 1), str(2**63), str(2**64), "9" * 30]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        ("GET", "/articles/{}", None),
        ("PATCH", "/articles/{}", {"title": "t"}),
        ("DELETE", "/articles/{}", None),
        ("POST", "/articles/{}/restore", None),
        ("GET", "/users/{}/articles", None),
        ("POST", "/users/{}/articles", {"title": "t"}),
    ],
)
async def test_bad_path_ids_are_4xx_problems(
    client: AsyncTestClient[Litestar], method: str, template: str, body: dict[str, Any] | None, bad_id: str
) -> None:
    response = await client.request(method, template.format(bad_id), json=body)
    assert response.status_code in (400, 404), response.text
    assert_clean_problem(response, response.status_code)


NON_CANONICAL = ["{}.0", "{}e0", "0{}", "+{}", "{}%20", "%20{}", "{}_0"]


@pytest.mark.parametrize("form", NON_CANONICAL)
@pytest.mark.parametrize(
    ("method", "resource", "body"),
    [
        pytest.param("GET", "article", None, id="get-article"),
        pytest.param("PATCH", "article", {"title": "changed"}, id="patch-article"),
        pytest.param("DELETE", "article", None, id="delete-article"),
        pytest.param("GET", "author", None, id="list-author-articles"),
        pytest.param("POST", "author", {"title": "created"}, id="create-article"),
    ],
)
async def test_existing_ids_written_otherwise_than_as_integers_are_4xx(
    client: AsyncTestClient[Litestar],
    db_conn: pymysql.connections.Connection,
    author: dict[str, Any],
    make_article: MakeArticle,
    method: str,
    resource: str,
    body: dict[str, Any] | None,
    form: str,
) -> None:
    """An id that is not an integer is a 4xx even when read leniently it names something that exists."""
    article = await make_article(author["id"], title="untouched")
    path_id = form.format(article["id"] if resource == "article" else author["id"])
    url = f"/articles/{path_id}" if resource == "article" else f"/users/{path_id}/articles"
    response = await client.request(method, url, json=body)
    assert response.status_code in (400, 404), response.text
    assert_clean_problem(response, response.status_code)
    assert (await client.get(f"/articles/{article['id']}")).json() == article
    assert count_articles_of(db_conn, author["id"]) == 1


# ---- GET /users/{id}/articles ----


async def test_list_author_articles_shows_only_that_users_live_articles(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_article: MakeArticle
) -> None:
    alice, bob = await make_user(), await make_user()
    mine = [await make_article(alice["id"], title=f"alice {n}") for n in range(3)]
    await make_article(bob["id"], title="bob's")
    assert (await client.delete(f"/articles/{mine[1]['id']}")).status_code == 204

    response = await client.get(f"/users/{alice['id']}/articles")
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == PAGE_FIELDS
    assert page["data"] == [mine[0], mine[2]]
    assert (page["limit"], page["offset"], page["next_cursor"]) == (20, 0, None)


async def test_list_author_articles_of_user_without_articles_is_empty(
    client: AsyncTestClient[Litestar], author: dict[str, Any]
) -> None:
    response = await client.get(f"/users/{author['id']}/articles")
    assert response.status_code == 200, response.text
    assert response.json() == {"data": [], "limit": 20, "offset": 0, "next_cursor": None}


async def test_list_author_articles_of_unknown_user_is_404(client: AsyncTestClient[Litestar]) -> None:
    assert_clean_problem(await client.get(f"/users/{MAX_ID}/articles"), 404)


@pytest.mark.parametrize("with_articles", [False, True])
async def test_list_author_articles_of_deleted_user_is_404(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle, with_articles: bool
) -> None:
    if with_articles:
        await make_article(author["id"])
    assert (await client.delete(f"/users/{author['id']}")).status_code == 204
    assert_clean_problem(await client.get(f"/users/{author['id']}/articles"), 404)
    # Past the end of the list, too (an empty page is not proof the user exists).
    assert_clean_problem(await client.get(f"/users/{author['id']}/articles", params={"offset": 50}), 404)


# ---- GET /articles ----


async def test_list_articles_envelope_and_newest_first(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    await make_article(author["id"])
    middle = await make_article(author["id"])
    newest = await make_article(author["id"])
    response = await client.get("/articles", params={"order": "desc", "limit": 2})
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == PAGE_FIELDS
    assert page["data"] == [newest, middle]
    assert (page["limit"], page["offset"]) == (2, 0)
    assert isinstance(page["next_cursor"], str) and page["next_cursor"]
    default = (await client.get("/articles")).json()
    assert default["limit"] == 20 and default["offset"] == 0
    assert 1 <= len(default["data"]) <= 20
    assert all(set(item) == ARTICLE_FIELDS for item in default["data"])
    ids = [item["id"] for item in default["data"]]
    assert ids == sorted(ids)


async def test_list_articles_author_filter(
    client: AsyncTestClient[Litestar], make_user: MakeUser, make_article: MakeArticle
) -> None:
    alice, bob = await make_user(), await make_user()
    alices = [await make_article(alice["id"]) for _ in range(2)]
    bobs = [await make_article(bob["id"]) for _ in range(2)]
    assert (await client.delete(f"/articles/{alices[0]['id']}")).status_code == 204

    alice_page = (await client.get("/articles", params={"author_id": alice["id"]})).json()
    assert alice_page == {"data": alices[1:], "limit": 20, "offset": 0, "next_cursor": None}
    bob_page = (await client.get("/articles", params={"author_id": bob["id"], "order": "desc"})).json()
    assert bob_page["data"] == bobs[::-1]
    # The filter is a filter: no such user, or one without articles, is an empty page, not a 404.
    for author_id in (MAX_ID, (await make_user())["id"]):
        response = await client.get("/articles", params={"author_id": author_id})
        assert response.status_code == 200, response.text
        assert response.json() == {"data": [], "limit": 20, "offset": 0, "next_cursor": None}


@pytest.mark.parametrize(
    "author_id", ["x", "", "0", "-1", "1.5", "1.0", "1e3", "05", "+5", str(MAX_ID + 1), str(2**64), "9" * 30]
)
async def test_list_articles_bad_author_id_is_400(client: AsyncTestClient[Litestar], author_id: str) -> None:
    assert_clean_problem(await client.get("/articles", params={"author_id": author_id}), 400, "author_id")


# ---- GET /articles/{id} ----


async def test_get_article(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    article = await make_article(author["id"], title="Read me", body="text")
    response = await client.get(f"/articles/{article['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == article
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('"')
    assert len(response.headers["etag"]) > 2


async def test_get_absent_article_is_404(client: AsyncTestClient[Litestar]) -> None:
    assert_clean_problem(await client.get(f"/articles/{MAX_ID}"), 404)


async def test_get_deleted_article_is_404(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    article = await make_article(author["id"])
    assert (await client.delete(f"/articles/{article['id']}")).status_code == 204
    assert_clean_problem(await client.get(f"/articles/{article['id']}"), 404)


# ---- PATCH /articles/{id} ----


@pytest.mark.parametrize(
    "patch",
    [
        {"title": "New title"},
        {"body": "New body"},
        {"body": None},
        {"body": ""},
        {"title": "Both", "body": "changed"},
        {"title": "Both again", "body": None},
    ],
    ids=["title", "body", "body-null", "body-empty", "both", "title-and-null-body"],
)
async def test_patch_changes_given_fields_only(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle, patch: dict[str, Any]
) -> None:
    original = await make_article(author["id"], title="Old title", body="Old body")
    response = await client.patch(f"/articles/{original['id']}", json=patch)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert set(updated) == ARTICLE_FIELDS
    assert updated == {**original, **patch, "updated_at": updated["updated_at"]}
    assert updated["updated_at"] is not None
    assert parse_timestamp(updated["updated_at"]) >= parse_timestamp(original["created_at"])
    fetched = await client.get(f"/articles/{original['id']}")
    assert fetched.json() == updated
    assert fetched.headers["etag"] == response.headers["etag"]


async def test_second_patch_moves_updated_at(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    article = await make_article(author["id"])
    first = (await client.patch(f"/articles/{article['id']}", json={"title": "one"})).json()
    second = (await client.patch(f"/articles/{article['id']}", json={"title": "two"})).json()
    assert second["title"] == "two"
    assert parse_timestamp(second["updated_at"]) >= parse_timestamp(first["updated_at"])
    assert second["created_at"] == article["created_at"]


async def test_empty_patch_changes_nothing(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    article = await make_article(author["id"], body="keep")
    etag = (await client.get(f"/articles/{article['id']}")).headers["etag"]
    response = await client.patch(f"/articles/{article['id']}", json={})
    assert response.status_code == 200, response.text
    assert response.json() == article
    after = await client.get(f"/articles/{article['id']}")
    assert after.json() == article
    assert after.headers["etag"] == etag


BAD_PATCH_BODIES = [
    pytest.param({"title": None}, "title", id="title-null"),
    pytest.param({"title": ""}, "title", id="title-empty"),
    pytest.param({"title": "t" * 201}, "title", id="title-201-chars"),
    pytest.param({"title": 5}, "title", id="title-number"),
    pytest.param({"body": "b" * 100_001}, "body", id="body-100001-chars"),
    pytest.param({"body": 5}, "body", id="body-number"),
    pytest.param({"body": ["x"]}, "body", id="body-list"),
    pytest.param({"title": "ok", "author_id": 1}, "author_id", id="unknown-author_id"),
    pytest.param({"id": 1}, "id", id="unknown-id"),
    pytest.param({"deleted_at": None}, "deleted_at", id="unknown-deleted_at"),
    pytest.param({"author": "x@example.com"}, "author", id="unknown-author"),
    pytest.param({"created_at": "2026-01-01T00:00:00.000000Z"}, "created_at", id="unknown-created_at"),
    pytest.param({"updated_at": None}, "updated_at", id="unknown-updated_at"),
]


@pytest.mark.parametrize(("patch", "field"), BAD_PATCH_BODIES)
async def test_patch_rejects_bad_bodies_and_changes_nothing(
    client: AsyncTestClient[Litestar],
    author: dict[str, Any],
    make_article: MakeArticle,
    patch: dict[str, Any],
    field: str,
) -> None:
    article = await make_article(author["id"], title="Stays", body="Stays too")
    etag = (await client.get(f"/articles/{article['id']}")).headers["etag"]
    assert_clean_problem(await client.patch(f"/articles/{article['id']}", json=patch), 400, field)
    after = await client.get(f"/articles/{article['id']}")
    assert after.json() == article
    assert after.headers["etag"] == etag


async def test_patch_absent_or_deleted_article_is_404(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle, article_row: ArticleRow
) -> None:
    assert_clean_problem(await client.patch(f"/articles/{MAX_ID}", json={"title": "t"}), 404)
    article = await make_article(author["id"], title="Gone")
    assert (await client.delete(f"/articles/{article['id']}")).status_code == 204
    assert_clean_problem(await client.patch(f"/articles/{article['id']}", json={"title": "Back?"}), 404)
    assert_clean_problem(await client.patch(f"/articles/{article['id']}", json={}), 404)
    row = article_row(article["id"])
    assert row is not None and row["title"] == "Gone"


# ---- DELETE /articles/{id} ----


async def test_delete_article(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle, article_row: ArticleRow
) -> None:
    article = await make_article(author["id"])
    response = await client.delete(f"/articles/{article['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_clean_problem(await client.get(f"/articles/{article['id']}"), 404)
    assert_clean_problem(await client.delete(f"/articles/{article['id']}"), 404)
    listed = (await client.get(f"/users/{author['id']}/articles")).json()
    assert listed["data"] == []
    assert (await client.get("/articles", params={"author_id": author["id"]})).json()["data"] == []
    # Soft delete: the row stays, marked.
    row = article_row(article["id"])
    assert row is not None and row["deleted_at"] is not None


async def test_delete_absent_article_is_404(client: AsyncTestClient[Litestar]) -> None:
    assert_clean_problem(await client.delete(f"/articles/{MAX_ID}"), 404)


async def test_delete_with_stale_if_match_is_412_and_keeps_it(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    article = await make_article(author["id"])
    stale = (await client.get(f"/articles/{article['id']}")).headers["etag"]
    changed = (await client.patch(f"/articles/{article['id']}", json={"title": "moved on"})).json()
    assert_clean_problem(await client.delete(f"/articles/{article['id']}", headers={"If-Match": stale}), 412)
    after = await client.get(f"/articles/{article['id']}")
    assert after.status_code == 200
    assert after.json() == changed


# ---- POST /articles/{id}/restore ----


async def test_restore_article(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle, article_row: ArticleRow
) -> None:
    article = await make_article(author["id"], title="Phoenix", body="rises")
    edited = (await client.patch(f"/articles/{article['id']}", json={"body": "rose"})).json()
    assert (await client.delete(f"/articles/{article['id']}")).status_code == 204

    response = await client.post(f"/articles/{article['id']}/restore")
    assert response.status_code == 200, response.text
    assert response.json() == edited
    fetched = await client.get(f"/articles/{article['id']}")
    assert fetched.json() == edited
    assert fetched.headers["etag"] == response.headers["etag"]
    assert (await client.get(f"/users/{author['id']}/articles")).json()["data"] == [edited]
    row = article_row(article["id"])
    assert row is not None and row["deleted_at"] is None
    # Restored means live: a second restore finds no deleted article.
    assert_clean_problem(await client.post(f"/articles/{article['id']}/restore"), 404)


async def test_restore_live_or_unknown_article_is_404(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    article = await make_article(author["id"])
    assert_clean_problem(await client.post(f"/articles/{article['id']}/restore"), 404)
    assert_clean_problem(await client.post(f"/articles/{MAX_ID}/restore"), 404)
    assert (await client.get(f"/articles/{article['id']}")).json() == article


# ---- trailing slashes ----


async def test_trailing_slashes_are_optional(
    client: AsyncTestClient[Litestar], author: dict[str, Any], make_article: MakeArticle
) -> None:
    created = await client.post(f"/users/{author['id']}/articles/", json={"title": "slash"})
    assert created.status_code == 201, created.text
    article = created.json()
    listed = await client.get(f"/users/{author['id']}/articles/")
    assert listed.status_code == 200 and listed.json()["data"] == [article]
    everything = await client.get("/articles/", params={"author_id": author["id"]})
    assert everything.status_code == 200 and everything.json()["data"] == [article]
    assert (await client.get(f"/articles/{article['id']}/")).json() == article
    patched = await client.patch(f"/articles/{article['id']}/", json={"body": "slashed"})
    assert patched.status_code == 200 and patched.json()["body"] == "slashed"
    assert (await client.delete(f"/articles/{article['id']}/")).status_code == 204
    restored = await client.post(f"/articles/{article['id']}/restore/")
    assert restored.status_code == 200 and restored.json() == patched.json()


# ---- the seed tutorial's walkthrough, as its clients send it ----


async def test_seed_tutorial_walkthrough(client: AsyncTestClient[Litestar]) -> None:
    email = unique_email("seed")
    # The tutorial used "password123", which the common-password blocklist now refuses.
    user = await client.post("/users/", json={"email": email, "password": "tutorial reader 123"})
    assert user.status_code == 201, user.text
    user_id = user.json()["id"]

    created = await client.post(
        f"/users/{user_id}/articles/", json={"title": "My first article", "body": "Hello, world"}
    )
    assert created.status_code == 201, created.text
    article = created.json()
    assert (article["title"], article["body"], article["author"]) == ("My first article", "Hello, world", email)
    article_id = article["id"]

    patched = await client.patch(f"/articles/{article_id}", json={"body": "Hello again"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "My first article"
    assert patched.json()["body"] == "Hello again"

    fetched = await client.get(f"/articles/{article_id}")
    assert fetched.status_code == 200
    assert fetched.json() == patched.json()
    assert fetched.json()["author"] == email

    assert (await client.delete(f"/articles/{article_id}")).status_code == 204
    assert (await client.get(f"/articles/{article_id}")).status_code == 404
