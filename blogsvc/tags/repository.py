"""Tags in the database: runs the named queries of sql/tags.sql."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from blogsvc.db.queries import load_queries
from blogsvc.tags.schemas import Tag, TagPage

if TYPE_CHECKING:
    from blogsvc.db.executor import Executor
    from blogsvc.pagination import PageWindow

TagSort = Literal["name", "count"]

_sql = load_queries("tags")
_LIST = {
    ("name", "asc"): _sql.take("list_tags_by_name_asc"),
    ("name", "desc"): _sql.take("list_tags_by_name_desc"),
    ("count", "asc"): _sql.take("list_tags_by_count_asc"),
    ("count", "desc"): _sql.take("list_tags_by_count_desc"),
}
_COUNT = _sql.take("count_tags")


async def page(db: Executor, window: PageWindow, sort: TagSort, count: bool) -> TagPage:
    """A page of the tags live articles carry; by count, the cursor's position is (articles, name)."""
    position = window.position or (None, None)
    params = {"name": position[-1], "articles": position[0], **window.rows()}
    found = [Tag(name=row[0], articles=row[1]) for row in await db.all(_LIST[sort, window.order], params)]
    total = await db.value(_COUNT, {}) if count else msgspec.UNSET
    if sort == "name":
        return window.page(TagPage, found, lambda tag: (tag.name,), total)
    return window.page(TagPage, found, lambda tag: (tag.articles, tag.name), total)
