"""HTTP routes for articles: parse, call the repository, answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003  (Litestar reads article_listing's signature at run time)
from typing import TYPE_CHECKING, Annotated

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Example
from litestar.params import JSONBody, Parameter

from blogsvc.articles import lists, slugs
from blogsvc.articles import repository as articles
from blogsvc.articles.lists import ArticleFilters, ArticleSort, Status  # noqa: TC001  (as datetime above)
from blogsvc.articles.schemas import Article, ArticleCreate, ArticlePage, ArticlePatch
from blogsvc.http.conditional import ETAG_HEADER, NOT_MODIFIED, IfMatch, if_match_versions, tagged
from blogsvc.http.controllers import AppController, Count, IdsFilter, Listed, Listing, UpdatedSince
from blogsvc.http.problems import problem_responses
from blogsvc.http.validation import OnlyWith, StrictlyAfter
from blogsvc.pagination import MAX_ID
from blogsvc.security.idempotency import IDEMPOTENT
from blogsvc.tags import schemas as tag_names

# Path ids are matched as text so that only decimal digits pass (see http/validation.py): "1_0", "5e0" are 400s.
ArticleId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The article's id.")]
AuthorId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The author's user id.")]
SlugParameter = Annotated[
    str,
    Parameter(
        min_length=1,
        max_length=slugs.MAX_LENGTH,
        pattern=slugs.PATTERN,
        description="The article's slug.",
        examples=[Example(value="notes-on-the-analytical-engine")],
    ),
]
AuthorFilter = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Only this user's articles.")]
LOCATION = ResponseHeader(name="Location", description="The new article's URL.", documentation_only=True)

if TYPE_CHECKING:
    from blogsvc.pagination import Order, PageWindow


@dataclass(frozen=True)
class ArticleListing:
    """What an article list asks for: its page, filters and sort, and whether to count (one dependency;
    msgspec reads these fields' types when Litestar hands it over, so they are imported for real)."""

    page: Listing
    filters: ArticleFilters
    count: bool

    def window(self, route: str, author_id: int | None = None) -> tuple[PageWindow, ArticleFilters]:
        """The page's window (its cursor bound to the route, filters and sort), and the filters with the author."""
        filters = msgspec.structs.replace(self.filters, author_id=author_id)
        order: Order = "desc" if filters.sort == "relevance" else "asc"
        return self.page.window(filters.listing(route), default_order=order), filters


def article_listing(
    listing: Listed,
    ids: IdsFilter = None,
    status: Annotated[
        Status | None,
        Parameter(description="Only drafts, or only published articles.", examples=[Example(value="draft")]),
    ] = None,
    tag: Annotated[
        str | None,
        Parameter(
            min_length=1,
            max_length=tag_names.MAX_LENGTH,
            pattern=tag_names.QUERY_PATTERN,
            description="Only articles carrying this tag (in any case).",
            examples=[Example(value="history")],
        ),
    ] = None,
    q: Annotated[
        str | None,
        Parameter(
            min_length=1,
            max_length=200,
            description="Full-text search over title and body (MariaDB's natural-language mode): articles with "
            'any of the words; "double quotes" make a phrase; words of fewer than 3 letters and stop words (the, '
            "with, what, ...) match nothing.",
            examples=[Example(value="analytical engine")],
        ),
    ] = None,
    created_after: Annotated[
        datetime | None,
        Parameter(
            description="Only articles created after this RFC 3339 time (with an offset).",
            examples=[Example(value="2026-11-01T00:00:00Z")],
        ),
        StrictlyAfter(),
    ] = None,
    created_before: Annotated[
        datetime | None,
        Parameter(
            description="Only articles created before this RFC 3339 time (with an offset).",
            examples=[Example(value="2026-12-01T00:00:00+01:00")],
        ),
    ] = None,
    updated_since: UpdatedSince = None,
    sort: Annotated[
        ArticleSort | None,
        Parameter(
            description="id (the default), created_at, updated_at (one never updated counts as created), "
            "published_at (only articles that have one), relevance (only with q, a 400 without; q's default, best "
            "first). Ties by id.",
            examples=[Example(value="published_at")],
        ),
        OnlyWith("relevance", "q", "relevance needs q (it ranks the matches of a search)."),
    ] = None,
    count: Count = False,
) -> ArticleListing:
    """The parameters every article list takes (a Litestar dependency)."""
    filters = lists.filters(
        ids=ids,
        status=status,
        tag=tag,
        q=q,
        created_after=created_after,
        created_before=created_before,
        updated_since=updated_since,
        sort=sort,
    )
    return ArticleListing(listing, filters, count)


ArticleListed = NamedDependency[ArticleListing]
ARTICLE_LISTING = {"article_listing": Provide(article_listing, sync_to_thread=False)}


class AuthorArticlesController(AppController):
    path = "/users/{user_id:str}/articles"
    tags = ["articles"]
    dependencies = ARTICLE_LISTING

    @post(
        "/",
        operation_id="createArticle",
        middleware=[IDEMPOTENT],
        status_code=201,
        response_headers=[LOCATION, ETAG_HEADER],
        responses=problem_responses(400, 404, 409, body=True),
    )
    async def create_article(self, user_id: AuthorId, data: JSONBody[ArticleCreate]) -> Response[Article]:
        """Create an article. Its author is the user of the path."""
        created = await articles.create(self.state.db, user_id, data)
        return tagged(created, 201, Location=f"/articles/{created.item.id}")

    @get("/", operation_id="listUserArticles", responses=problem_responses(400, 404))
    async def list_author_articles(self, article_listing: ArticleListed, user_id: AuthorId) -> ArticlePage:
        """List a user's live articles, a page at a time, filtered and sorted as asked; 404 if the user is
        absent or deleted."""
        window, filters = article_listing.window(f"users/{user_id}/articles", user_id)
        return await articles.author_page(self.state.db, window, filters, article_listing.count)


class ArticleController(AppController):
    path = "/articles"
    tags = ["articles"]
    dependencies = ARTICLE_LISTING

    @get("/", operation_id="listArticles", responses=problem_responses(400))
    async def list_articles(self, article_listing: ArticleListed, author_id: AuthorFilter = None) -> ArticlePage:
        """List live articles, a page at a time, filtered and sorted as asked."""
        route = "articles" if author_id is None else f"articles?author_id={author_id}"
        window, filters = article_listing.window(route, author_id)
        return await articles.page(self.state.db, window, filters, article_listing.count, self.state.live_ranges)

    @get(
        "/{article_id:str}",
        operation_id="getArticle",
        response_headers=[ETAG_HEADER],
        responses={304: NOT_MODIFIED, **problem_responses(400, 404)},
    )
    async def get_article(self, article_id: ArticleId) -> Response[Article]:
        """Get a live article. With its ETag."""
        return tagged(await articles.get(self.state.db, article_id))

    @get(
        "/by-slug/{slug:str}",
        operation_id="getArticleBySlug",
        response_headers=[ETAG_HEADER],
        responses={304: NOT_MODIFIED, **problem_responses(400, 404)},
    )
    async def get_article_by_slug(self, slug: SlugParameter) -> Response[Article]:
        """Get a live article by its slug. With its ETag, as by id."""
        return tagged(await articles.get_by_slug(self.state.db, slug))

    @patch(
        "/{article_id:str}",
        operation_id="updateArticle",
        response_headers=[ETAG_HEADER],
        responses=problem_responses(400, 404, 409, 412, body=True),
    )
    async def patch_article(
        self, article_id: ArticleId, data: JSONBody[ArticlePatch], if_match: IfMatch = None
    ) -> Response[Article]:
        """Update an article: any of title, body, slug, status, tags. Answers with the whole updated article."""
        return tagged(await articles.update(self.state.db, article_id, data, if_match_versions(if_match)))

    @delete(
        "/{article_id:str}", operation_id="deleteArticle", status_code=204, responses=problem_responses(400, 404, 412)
    )
    async def delete_article(self, article_id: ArticleId, if_match: IfMatch = None) -> None:
        """Soft-delete an article. It can be restored."""
        await articles.delete(self.state.db, article_id, if_match_versions(if_match))

    @post(
        "/{article_id:str}/restore",
        operation_id="restoreArticle",
        middleware=[IDEMPOTENT],
        status_code=200,
        response_headers=[ETAG_HEADER],
        responses=problem_responses(400, 404, 409),
    )
    async def restore_article(self, article_id: ArticleId) -> Response[Article]:
        """Restore a deleted article. 409 while its author is deleted, or a live article has its slug."""
        return tagged(await articles.restore(self.state.db, article_id))
