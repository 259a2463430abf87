"""create_app(settings) -> Litestar: routes, lifespan (pool, hasher), error handling, OpenAPI."""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.plugins.problem_details import ProblemDetailsPlugin

from blogsvc import __version__, service
from blogsvc.articles.controller import ArticleController, AuthorArticlesController
from blogsvc.body import JSONOnlyRequest
from blogsvc.config import Settings, from_env
from blogsvc.db import Database
from blogsvc.deps import PROVIDERS
from blogsvc.errors import problem_details_config
from blogsvc.pagination import Cursors, PageQuery
from blogsvc.passwords import PasswordHasher
from blogsvc.users.controller import UserController, verify_password

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


# The largest valid body (an article of 100,000 characters, JSON-escaped) stays well below this.
MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        hasher = PasswordHasher(settings)
        await hasher.start()
        app.state.db = Database.open(settings)
        app.state.hasher = hasher
        try:
            yield
        finally:
            await app.state.db.close()
            hasher.close()

    # Without a configured secret, cursors are signed with one that lives as long as this app.
    cursors = Cursors(settings.cursor_secret.encode() or secrets.token_bytes(32))
    return Litestar(
        route_handlers=[
            service.service_info,
            service.healthz,
            service.swagger_ui,
            service.redoc,
            UserController,
            verify_password,
            ArticleController,
            AuthorArticlesController,
        ],
        dependencies=PROVIDERS,
        state=State({"cursors": cursors}),
        lifespan=[lifespan],
        request_max_body_size=MAX_BODY_BYTES,
        request_class=JSONOnlyRequest,
        plugins=[ProblemDetailsPlugin(problem_details_config())],
        openapi_config=OpenAPIConfig(
            title="blogsvc",
            version=__version__,
            description="Users and their articles, with soft delete, restore and pagination.",
            use_handler_docstrings=True,
            openapi_router=service.openapi_json_router(),
            render_plugins=service.OPENAPI_RENDER_PLUGINS,
        ),
        signature_types=[PageQuery, Database, PasswordHasher, Cursors],
    )


def app_from_env() -> Litestar:
    """The factory `blogsvc serve` gives uvicorn (each worker builds its own app)."""
    return create_app(from_env())
