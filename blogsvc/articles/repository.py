"""Articles in the database: runs the named queries of sql/articles.sql and raises domain errors."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from msgspec import UNSET

from blogsvc.articles import deep_offsets, lists, slugs
from blogsvc.articles.schemas import Article, ArticleCreate, ArticlePage, ArticlePatch
from blogsvc.db.executor import utc_now
from blogsvc.db.queries import load_queries
from blogsvc.errors import Conflict, DuplicateKey, NotFound, TransientConflict
from blogsvc.versions import Versioned, require_match, unchanged

if TYPE_CHECKING:
    from blogsvc.articles.deep_offsets import LiveRanges
    from blogsvc.articles.lists import ArticleFilters
    from blogsvc.db.executor import Executor
    from blogsvc.pagination import PageWindow

_sql = load_queries("articles")
_INSERT = _sql.take("insert_article")
_GET = _sql.take("get_articles")
_GET_BY_SLUG = _sql.take("get_article_by_slug")
_TAKEN_SLUGS = _sql.take("taken_slugs")
_GET_VERSION = _sql.take("get_article_version")
_LIVE_AUTHOR = _sql.take("live_author_exists")
_COUNT_LIVE = _sql.take("count_live_articles")
_LIST_BY_AUTHOR = {"asc": _sql.take("list_author_articles_asc"), "desc": _sql.take("list_author_articles_desc")}
_UPDATE = _sql.take("update_article")
_SOFT_DELETE = _sql.take("soft_delete_article")
_RESTORE = _sql.take("restore_article")
_DELETED_ARTICLE_AUTHOR_IS_LIVE = _sql.take("deleted_article_author_is_live")
_DELETE_BY_AUTHOR = _sql.take("delete_author_articles")
_RESTORE_BY_AUTHOR = _sql.take("restore_author_articles")

# An article as the queries return it: a JSON array (sql/articles.sql, {document}), decoded and checked by msgspec.
_decode_article = msgspec.json.Decoder(
    tuple[
        int, str, str | None, int, str, str, Literal["draft", "published"], str | None, list[str], str, str | None, int
    ]
).decode
_encode_json = msgspec.json.Encoder().encode
# Candidate slugs asked about at once when a made slug is taken (-2 to -51), and how many times a create
# tries again when a concurrent create takes the free one first: each round, one of the creates racing for
# a slug wins it, so N concurrent creates of one title need N rounds; 50 is more than the creates one
# replica runs at once (its pools' connections), and 5 turned the sixth of 12 racing creates into a 503.
_CANDIDATES = 50
_ATTEMPTS = 50


def _versioned(article_json: str) -> Versioned[Article]:
    (article_id, title, body, author_id, author, slug, status, published_at, tags, created_at, updated_at, version) = (
        _decode_article(article_json)
    )
    article = Article(
        id=article_id,
        title=title,
        body=body,
        author_id=author_id,
        author=author,
        slug=slug,
        status=status,
        published_at=published_at,
        tags=tags,
        created_at=created_at,
        updated_at=updated_at,
    )
    return Versioned(article, version)


def _no_user(author_id: int) -> NotFound:
    return NotFound(f"No user with id {author_id}.")


def _slug_taken(slug: str) -> Conflict:
    return Conflict(f"A live article already has the slug {slug!r}.")


async def create(db: Executor, author_id: int, data: ArticleCreate) -> Versioned[Article]:
    """A new article. A slug made from the title that a live article has becomes the first free of -2,
    -3, ...; the unique index decides between concurrent creates, and the loser looks again."""
    made = slugs.from_title(data.title) if data.slug is None else None
    params: dict[str, Any] = {
        "author_id": author_id,
        "title": data.title,
        "body": data.body,
        "slug": data.slug or made,
        "status": data.status,
        "tags": _encode_json(data.tags).decode(),
        "now": utc_now(),
    }
    for _ in range(_ATTEMPTS):
        try:
            article_id = await db.insert(_INSERT, params)
        except DuplicateKey:
            if made is None:
                raise _slug_taken(str(data.slug)) from None
            params["slug"] = await _free_slug(db, made)
            continue
        if not article_id:
            raise _no_user(author_id)
        return await get(db, article_id)
    raise TransientConflict(f"Other articles took every free slug for {made!r} meanwhile; retry.")


async def _free_slug(db: Executor, base: str) -> str:
    """The first of `base`-2, -3, ... no live article has (as of now)."""
    start = 2
    while True:
        candidates = [slugs.numbered(base, number) for number in range(start, start + _CANDIDATES)]
        taken = {row[0] for row in await db.all(_TAKEN_SLUGS, {"slugs": _encode_json(candidates).decode()})}
        free = next((slug for slug in candidates if slug not in taken), None)
        if free is not None:
            return free
        start += _CANDIDATES


async def get(db: Executor, article_id: int) -> Versioned[Article]:
    row = await db.lookup(_GET, article_id)  # (id, article)
    if row is None:
        raise NotFound(f"No article with id {article_id}.")
    return _versioned(row[1])


async def get_by_slug(db: Executor, slug: str) -> Versioned[Article]:
    found = await db.value(_GET_BY_SLUG, {"slug": slug})
    if found is None:
        raise NotFound(f"No article with the slug {slug!r}.")
    return _versioned(found)


async def page(db: Executor, window: PageWindow, filters: ArticleFilters, count: bool, copy: LiveRanges) -> ArticlePage:
    """A page of the live articles `filters` pick. `copy`, the worker's copy of the live counts, pages all
    live articles by id at deep offsets."""
    if not filters.by_id_only or filters.author_id is not None:
        return await _page(db, window, filters, count)
    rows = await deep_offsets.live_articles(db, window, copy)
    total = int(await db.value(_COUNT_LIVE, {})) if count else msgspec.UNSET
    return window.page(ArticlePage, [_versioned(row[0]).item for row in rows], lambda article: (article.id,), total)


async def author_page(db: Executor, window: PageWindow, filters: ArticleFilters, count: bool) -> ArticlePage:
    """A page of one live user's articles (filters.author_id); NotFound if the user is absent or deleted."""
    found = await _page(db, window, filters, count)
    # A live article implies a live author, so only an empty page needs the check.
    if not found.data and await db.value(_LIVE_AUTHOR, {"author_id": filters.author_id}) is None:
        raise _no_user(int(filters.author_id or 0))
    return found


async def _page(db: Executor, window: PageWindow, filters: ArticleFilters, count: bool) -> ArticlePage:
    source = filters.source()
    total = int(await db.value(lists.total_query(source, filters.sort), filters.params())) if count else msgspec.UNSET
    if filters.by_id_only:  # one author's, by id
        rows = await db.all(_LIST_BY_AUTHOR[window.order], {"author_id": filters.author_id, **window.params()})
        return window.page(ArticlePage, [_versioned(row[0]).item for row in rows], lambda article: (article.id,), total)
    last_key, last_id = window.position or (None, None)
    params = {**filters.params(), "last_key": last_key, "last_id": last_id, **window.rows()}
    keys = {}  # article id -> its sort key, for the next cursor
    articles = []
    for document, key in await db.all(lists.page_query(source, filters.sort, window.order), params):
        article = _versioned(document).item
        keys[article.id] = str(key) if isinstance(key, datetime) else key
        articles.append(article)
    return window.page(ArticlePage, articles, lambda article: (keys[article.id], article.id), total)


async def update(db: Executor, article_id: int, patch: ArticlePatch, if_match: str | None) -> Versioned[Article]:
    changes = msgspec.structs.asdict(patch)
    if all(value is UNSET for value in changes.values()):
        return require_match(await get(db, article_id), if_match, "article")
    params = {name: None if value is UNSET else value for name, value in changes.items()}
    params.update(
        id=article_id,
        set_body=patch.body is not UNSET,
        tags=None if patch.tags is UNSET else _encode_json(patch.tags).decode(),
        if_match=if_match,
        now=utc_now(),
    )
    try:
        changed = await db.execute(_UPDATE, params)
    except DuplicateKey:
        raise _slug_taken(str(patch.slug)) from None
    if not changed:
        raise unchanged("article", article_id, await db.value(_GET_VERSION, {"id": article_id}))
    return await get(db, article_id)


async def delete(db: Executor, article_id: int, if_match: str | None) -> None:
    if not await db.execute(_SOFT_DELETE, {"id": article_id, "if_match": if_match, "now": utc_now()}):
        raise unchanged("article", article_id, await db.value(_GET_VERSION, {"id": article_id}))


async def restore(db: Executor, article_id: int) -> Versioned[Article]:
    try:
        restored = await db.execute(_RESTORE, {"id": article_id})
    except DuplicateKey:
        raise Conflict(
            f"A live article has taken article {article_id}'s slug meanwhile; give one of them another slug "
            "(PATCH it), then restore."
        ) from None
    if not restored:
        author_is_live = await db.value(_DELETED_ARTICLE_AUTHOR_IS_LIVE, {"id": article_id})
        if author_is_live is None:
            raise NotFound(f"No deleted article with id {article_id}.")
        raise Conflict(f"Article {article_id}'s author is deleted; restore the author first.")
    return await get(db, article_id)


async def delete_by_author(tx: Executor, author_id: int, now: datetime) -> None:
    """Soft-delete an author's live articles, marked as deleted with the author (run inside its transaction)."""
    await tx.execute(_DELETE_BY_AUTHOR, {"author_id": author_id, "now": now})


async def restore_by_author(tx: Executor, author_id: int) -> None:
    """Bring back exactly the articles deleted with the author (run inside its transaction); Conflict if a
    live article has taken the slug of one meanwhile."""
    try:
        await tx.execute(_RESTORE_BY_AUTHOR, {"author_id": author_id})
    except DuplicateKey:
        raise Conflict(
            f"A live article has taken the slug of one of user {author_id}'s articles meanwhile; give it another "
            "slug (PATCH it), then restore the user."
        ) from None
