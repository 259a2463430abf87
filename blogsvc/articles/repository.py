"""Articles in the database: runs the named queries of sql/articles.sql and raises domain errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from msgspec import UNSET

from blogsvc.articles import deep_offsets
from blogsvc.articles.schemas import Article, ArticleCreate, ArticlePage, ArticlePatch
from blogsvc.db.executor import utc_now
from blogsvc.db.queries import load_queries
from blogsvc.errors import Conflict, NotFound
from blogsvc.versions import Versioned, require_match, unchanged

if TYPE_CHECKING:
    from datetime import datetime

    from blogsvc.articles.deep_offsets import LiveRanges
    from blogsvc.db.executor import Executor
    from blogsvc.pagination import PageWindow

_sql = load_queries("articles")
_INSERT = _sql.take("insert_article")
_GET = _sql.take("get_articles")
_GET_VERSION = _sql.take("get_article_version")
_LIVE_AUTHOR = _sql.take("live_author_exists")
_LIST_BY_AUTHOR = {"asc": _sql.take("list_author_articles_asc"), "desc": _sql.take("list_author_articles_desc")}
_UPDATE = _sql.take("update_article")
_SOFT_DELETE = _sql.take("soft_delete_article")
_RESTORE = _sql.take("restore_article")
_DELETED_ARTICLE_AUTHOR_IS_LIVE = _sql.take("deleted_article_author_is_live")
_DELETE_BY_AUTHOR = _sql.take("delete_author_articles")
_RESTORE_BY_AUTHOR = _sql.take("restore_author_articles")

# An article as the queries return it: a JSON array (sql/articles.sql, {document}), decoded and checked by msgspec.
_decode_article = msgspec.json.Decoder(tuple[int, str, str | None, int, str, str, str | None, int]).decode


def _versioned(article_json: str) -> Versioned[Article]:
    article_id, title, body, author_id, author, created_at, updated_at, version = _decode_article(article_json)
    article = Article(
        id=article_id,
        title=title,
        body=body,
        author_id=author_id,
        author=author,
        created_at=created_at,
        updated_at=updated_at,
    )
    return Versioned(article, version)


def _no_user(author_id: int) -> NotFound:
    return NotFound(f"No user with id {author_id}.")


async def create(db: Executor, author_id: int, data: ArticleCreate) -> Versioned[Article]:
    params = {"author_id": author_id, "title": data.title, "body": data.body, "now": utc_now()}
    article_id = await db.insert(_INSERT, params)
    if not article_id:
        raise _no_user(author_id)
    return await get(db, article_id)


async def get(db: Executor, article_id: int) -> Versioned[Article]:
    row = await db.lookup(_GET, article_id)  # (id, article)
    if row is None:
        raise NotFound(f"No article with id {article_id}.")
    return _versioned(row[1])


async def page(db: Executor, window: PageWindow, copy: LiveRanges, author_id: int | None = None) -> ArticlePage:
    """A page of live articles, all or one author's; `copy` is the worker's copy of the live counts."""
    if author_id is None:
        rows = await deep_offsets.live_articles(db, window, copy)
    else:
        rows = await db.all(_LIST_BY_AUTHOR[window.order], {"author_id": author_id, **window.params()})
    return window.page(ArticlePage, [_versioned(row[0]).item for row in rows], lambda article: article.id)


async def author_page(db: Executor, window: PageWindow, author_id: int) -> ArticlePage:
    """A page of one live user's articles; NotFound if the user is absent or deleted."""
    rows = await db.all(_LIST_BY_AUTHOR[window.order], {"author_id": author_id, **window.params()})
    found = window.page(ArticlePage, [_versioned(row[0]).item for row in rows], lambda article: article.id)
    # A live article implies a live author, so only an empty page needs the check.
    if not found.data and await db.value(_LIVE_AUTHOR, {"author_id": author_id}) is None:
        raise _no_user(author_id)
    return found


async def update(db: Executor, article_id: int, patch: ArticlePatch, if_match: str | None) -> Versioned[Article]:
    if patch.title is UNSET and patch.body is UNSET:
        return require_match(await get(db, article_id), if_match, "article")
    params = {
        "id": article_id,
        "title": None if patch.title is UNSET else patch.title,
        "set_body": patch.body is not UNSET,
        "body": None if patch.body is UNSET else patch.body,
        "if_match": if_match,
        "now": utc_now(),
    }
    if not await db.execute(_UPDATE, params):
        raise unchanged("article", article_id, await db.value(_GET_VERSION, {"id": article_id}))
    return await get(db, article_id)


async def delete(db: Executor, article_id: int, if_match: str | None) -> None:
    if not await db.execute(_SOFT_DELETE, {"id": article_id, "if_match": if_match, "now": utc_now()}):
        raise unchanged("article", article_id, await db.value(_GET_VERSION, {"id": article_id}))


async def restore(db: Executor, article_id: int) -> Versioned[Article]:
    if not await db.execute(_RESTORE, {"id": article_id}):
        author_is_live = await db.value(_DELETED_ARTICLE_AUTHOR_IS_LIVE, {"id": article_id})
        if author_is_live is None:
            raise NotFound(f"No deleted article with id {article_id}.")
        raise Conflict(f"Article {article_id}'s author is deleted; restore the author first.")
    return await get(db, article_id)


async def delete_by_author(tx: Executor, author_id: int, now: datetime) -> None:
    """Soft-delete an author's live articles, marked as deleted with the author (run inside its transaction)."""
    await tx.execute(_DELETE_BY_AUTHOR, {"author_id": author_id, "now": now})


async def restore_by_author(tx: Executor, author_id: int) -> None:
    """Bring back exactly the articles deleted with the author (run inside its transaction)."""
    await tx.execute(_RESTORE_BY_AUTHOR, {"author_id": author_id})
