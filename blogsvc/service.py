"""Routes about the service itself: what it is, whether it lives, and its API documentation."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Router, get
from litestar.enums import MediaType
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin

from blogsvc import __version__


class ServiceInfo(msgspec.Struct):
    service: str
    version: str
    docs: str


class Health(msgspec.Struct):
    status: str


@get("/", tags=["service"], sync_to_thread=False)
def service_info() -> ServiceInfo:
    """What this service is and where its documentation lives."""
    return ServiceInfo(service="blogsvc", version=__version__, docs="/docs")


@get("/healthz", tags=["service"], sync_to_thread=False)
def healthz() -> Health:
    """Liveness: 200 while the process serves, whatever the database does."""
    return Health(status="ok")


def _doc_page(plugin: OpenAPIRenderPlugin, path: str) -> Any:
    @get(path, media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
    def page(request: Request[Any, Any, Any]) -> bytes:
        return plugin.render(request, request.app.openapi_schema.to_schema())

    return page


swagger_ui = _doc_page(SwaggerRenderPlugin(), "/docs")
redoc = _doc_page(RedocRenderPlugin(google_fonts=False), "/redoc")


def openapi_json_router() -> Router:
    """Litestar serves the document at the root of this router: /openapi.json."""
    return Router("/openapi.json", route_handlers=[], include_in_schema=False)


OPENAPI_RENDER_PLUGINS = [JsonRenderPlugin(path="/")]
