"""HTTP routes for tags: parse, call the repository, answer."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.openapi.spec import Example
from litestar.params import Parameter

from blogsvc.http.controllers import AppController, Count, Listed
from blogsvc.http.problems import problem_responses
from blogsvc.tags import repository as tags
from blogsvc.tags.repository import TagSort
from blogsvc.tags.schemas import TagPage

SortBy = Annotated[
    TagSort,
    Parameter(
        description="name: by name (a to z by default); count: by live articles (most first by default), then name.",
        examples=[Example(value="count")],
    ),
]


class TagController(AppController):
    path = "/tags"
    tags = ["tags"]

    @get("/", operation_id="listTags", responses=problem_responses(400))
    async def list_tags(self, listing: Listed, sort: SortBy = "name", count: Count = False) -> TagPage:
        """List the tags live articles carry, with how many carry each."""
        window = listing.window(f"tags?sort={sort}", default_order="desc" if sort == "count" else "asc")
        return await tags.page(self.state.db, window, sort, count)
