"""What an article list asks for beyond its page (filters, a sort, a search), and the statement that
answers it: made from the templates of sql/articles.sql, one per source, sort and order."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Literal

import msgspec

from blogsvc.db.queries import Query, load_queries
from blogsvc.pagination import bound_listing, id_batch
from blogsvc.schemas import naive_utc

ArticleSort = Literal["id", "created_at", "updated_at", "published_at", "relevance"]
Status = Literal["draft", "published"]
Source = Literal["live", "author", "status", "tag", "ids", "search"]
Order = Literal["asc", "desc"]

_sql = load_queries("articles")
_PAGE = _sql.template("page")
_TOTAL = _sql.template("total")
_SOURCES = {
    source: _sql.template(f"source_{source}") for source in ("live", "author", "status", "tag", "ids", "search")
}
# The columns of each sort (updated_at: changed_at, when last updated or else created; migration 0009).
_COLUMNS = {"id": "id", "created_at": "created_at", "published_at": "published_at", "updated_at": "changed_at"}
_RELEVANCE = "MATCH (s.title, s.body) AGAINST (%(q)s IN NATURAL LANGUAGE MODE)"
# The index that gives a source's rows in a sort's order (migrations 0002, 0008, 0009); without one the
# database sorts the rows the source picks.
_INDEXES = {
    ("live", "id"): "ix_articles_deleted_at_id",
    ("live", "created_at"): "ix_articles_deleted_at_created_at_id",
    ("live", "published_at"): "ix_articles_deleted_at_published_at_id",
    ("live", "updated_at"): "ix_articles_deleted_at_changed_at_id",
    ("author", "id"): "ix_articles_author_deleted_at_id",
    ("author", "created_at"): "ix_articles_author_deleted_at_created_at_id",
    ("author", "published_at"): "ix_articles_author_deleted_at_published_at_id",
    ("status", "id"): "ix_articles_status_deleted_at_id",
    ("status", "created_at"): "ix_articles_status_deleted_at_created_at_id",
    ("status", "published_at"): "ix_articles_status_deleted_at_published_at_id",
    ("tag", "id"): "PRIMARY",
    ("tag", "created_at"): "ix_article_tags_tag_created_at_article_id",
    ("tag", "published_at"): "ix_article_tags_tag_published_at_article_id",
}


class ArticleFilters(msgspec.Struct, frozen=True, kw_only=True):
    """The filters and sort of one article list; times are naive UTC, as the columns hold them."""

    author_id: int | None = None
    ids: tuple[int, ...] | None = None
    status: Status | None = None
    tag: str | None = None
    q: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_since: datetime | None = None
    sort: ArticleSort = "id"

    @property
    def by_id_only(self) -> bool:
        """All live articles, or one author's, by id: the list_* queries serve (deep offsets too)."""
        return self == ArticleFilters(author_id=self.author_id)

    def listing(self, route: str) -> str:
        """The route and every filter and the sort, in a fixed order: what a cursor is bound to. By id only,
        the route alone, as before filters came (cursors issued then still work)."""
        asked = {name: value for name, value in msgspec.structs.asdict(self).items() if value is not None}
        asked.pop("author_id", None)  # in the route's name already
        if asked.get("sort") == "id":
            del asked["sort"]
        if not asked:
            return route
        return bound_listing(route, asked)

    def source(self) -> Source:
        """Where the rows come from: the most selective filter asked for."""
        if self.ids is not None:
            return "ids"
        if self.q is not None:
            return "search"
        if self.tag is not None:
            return "tag"
        if self.author_id is not None:
            return "author"
        if self.status is not None:
            return "status"
        return "live"

    def params(self) -> dict[str, Any]:
        return {
            "author_id": self.author_id,
            "ids": None if self.ids is None else msgspec.json.encode(self.ids).decode(),
            "status": self.status,
            "tag": self.tag,
            "tag_check": None if self.source() == "tag" else self.tag,
            "q": self.q,
            "created_after": self.created_after,
            "created_before": self.created_before,
            "updated_since": self.updated_since,
        }


def filters(
    *,
    author_id: int | None = None,
    ids: list[int] | None = None,
    status: Status | None = None,
    tag: str | None = None,
    q: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    updated_since: datetime | None = None,
    sort: ArticleSort | None = None,
) -> ArticleFilters:
    """The filters of a list request, its parameters already checked (sort=relevance comes with q: the
    controller's OnlyWith). Without a sort, q sorts by relevance, else by id."""
    return ArticleFilters(
        author_id=author_id,
        ids=id_batch(ids),
        status=status,
        tag=None if tag is None else tag.lower(),
        q=q,
        created_after=_utc(created_after),
        created_before=_utc(created_before),
        updated_since=_utc(updated_since),
        sort=sort or ("relevance" if q is not None else "id"),
    )


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else naive_utc(moment)


@functools.cache
def page_query(source: Source, sort: ArticleSort, order: Order) -> Query:
    """A page of `source`'s articles by `sort` in `order`: each row is (article, its sort key)."""
    return _PAGE.fill(
        f"list_articles_{source}_by_{sort}_{order}",
        "all",
        **_slots(source, sort),
        next=">" if order == "asc" else "<",
        dir=order.upper(),
    )


@functools.cache
def total_query(source: Source, sort: ArticleSort) -> Query:
    """How many live articles the list of `source` by `sort` holds."""
    return _TOTAL.fill(f"count_articles_{source}_by_{sort}", "value", **_slots(source, sort))


def _slots(source: Source, sort: ArticleSort) -> dict[str, str]:
    if sort == "relevance":
        key, row_id = _RELEVANCE, "s.id"
    elif source == "tag" and sort != "updated_at":  # article_tags carries these keys
        key, row_id = ("t.article_id" if sort == "id" else f"t.{sort}"), "t.article_id"
    else:
        key, row_id = f"s.{_COLUMNS[sort]}", "s.id"
    index = _INDEXES.get((source, sort))
    force = f"FORCE INDEX ({index})" if index else ""
    return {"source": _SOURCES[source].text(force=force), "key": key, "id": row_id}
