"""HTTP routes for articles: parse, call the repository, answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, delete, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.params import JSONBody, Parameter

from blogsvc.articles import repository as articles
from blogsvc.articles.schemas import Article, ArticleCreate, ArticlePage, ArticlePatch
from blogsvc.http.conditional import ETAG_HEADER, NOT_MODIFIED, IfMatch, if_match_versions, tagged
from blogsvc.http.controllers import AppController, Listed
from blogsvc.http.problems import problem_responses
from blogsvc.pagination import MAX_ID
from blogsvc.security.idempotency import IDEMPOTENT

# Path ids are matched as text so that only decimal digits pass (see http/validation.py): "1_0", "5e0" are 400s.
ArticleId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The article's id.")]
AuthorId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="The author's user id.")]
AuthorFilter = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Only this user's articles.")]
LOCATION = ResponseHeader(name="Location", description="The new article's URL.", documentation_only=True)


class AuthorArticlesController(AppController):
    path = "/users/{user_id:str}/articles"
    tags = ["articles"]

    @post(
        "/",
        operation_id="createArticle",
        middleware=[IDEMPOTENT],
        status_code=201,
        response_headers=[LOCATION, ETAG_HEADER],
        responses=problem_responses(400, 404, body=True),
    )
    async def create_article(self, user_id: AuthorId, data: JSONBody[ArticleCreate]) -> Response[Article]:
        """Create an article. Its author is the user of the path."""
        created = await articles.create(self.state.db, user_id, data)
        return tagged(created, 201, Location=f"/articles/{created.item.id}")

    @get("/", operation_id="listUserArticles", responses=problem_responses(400, 404))
    async def list_author_articles(self, listing: Listed, user_id: AuthorId) -> ArticlePage:
        """List a user's live articles. By id, a page at a time; 404 if the user is absent or deleted."""
        return await articles.author_page(self.state.db, listing.window(f"users/{user_id}/articles"), user_id)


class ArticleController(AppController):
    path = "/articles"
    tags = ["articles"]

    @get("/", operation_id="listArticles", responses=problem_responses(400))
    async def list_articles(self, listing: Listed, author_id: AuthorFilter = None) -> ArticlePage:
        """List live articles. By id, a page at a time."""
        name = "articles" if author_id is None else f"articles?author_id={author_id}"
        return await articles.page(self.state.db, listing.window(name), self.state.live_ranges, author_id)

    @get(
        "/{article_id:str}",
        operation_id="getArticle",
        response_headers=[ETAG_HEADER],
        responses={304: NOT_MODIFIED, **problem_responses(400, 404)},
    )
    async def get_article(self, article_id: ArticleId) -> Response[Article]:
        """Get a live article. With its ETag."""
        return tagged(await articles.get(self.state.db, article_id))

    @patch(
        "/{article_id:str}",
        operation_id="updateArticle",
        response_headers=[ETAG_HEADER],
        responses=problem_responses(400, 404, 412, body=True),
    )
    async def patch_article(
        self, article_id: ArticleId, data: JSONBody[ArticlePatch], if_match: IfMatch = None
    ) -> Response[Article]:
        """Update an article's title or body. Answers with the whole updated article."""
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
        """Restore a deleted article. 409 while its author is deleted."""
        return tagged(await articles.restore(self.state.db, article_id))
