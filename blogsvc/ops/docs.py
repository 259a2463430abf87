"""Routes about the service itself: what it is, whether it lives, and its API documentation."""

from __future__ import annotations

import mimetypes
import tomllib
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Contact, License, Tag
from litestar.static_files import create_static_files_router

from blogsvc import __version__
from blogsvc.http.problems import BAD_HOST


class ServiceInfo(msgspec.Struct):
    service: Annotated[str, msgspec.Meta(examples=["blogsvc"])]
    version: Annotated[str, msgspec.Meta(examples=[__version__])]
    docs: Annotated[str, msgspec.Meta(examples=["/docs"])]


class Health(msgspec.Struct):
    status: Annotated[str, msgspec.Meta(examples=["ok"])]


@get("/", operation_id="getServiceInfo", tags=["service"], responses={400: BAD_HOST}, sync_to_thread=False)
def service_info() -> ServiceInfo:
    """Describe the service. Its name, its version and where its documentation lives."""
    return ServiceInfo(service="blogsvc", version=__version__, docs="/docs")


@get("/healthz", operation_id="getHealth", tags=["service"], responses={400: BAD_HOST}, sync_to_thread=False)
def healthz() -> Health:
    """Check liveness. 200 while the process serves, whatever the database does."""
    return Health(status="ok")


# The browser may fetch nothing for the documentation pages from anywhere but this service: ReDoc's
# "API docs by Redocly" footer would load its logo from Redocly's CDN, for one. Inline scripts and
# styles stay allowed (the pages start with one, and both UIs style themselves inline); ReDoc's
# search runs in a worker made from a blob: URL. No other site may frame them (clickjacking).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _doc_page(plugin: OpenAPIRenderPlugin, path: str) -> Any:
    @get(
        path,
        media_type=MediaType.HTML,
        include_in_schema=False,
        sync_to_thread=False,
        response_headers={"Content-Security-Policy": DOCS_CSP},
    )
    def page(request: Request[Any, Any, Any]) -> bytes:
        return plugin.render(request, request.app.openapi_schema.to_schema())

    return page


# The pages load every script, style sheet, font and icon from this service, never from a CDN, so
# they work where the internet is out of reach. The files are npm packages pinned in
# blogsvc/docs_assets/packages.toml, fetched and checked when the package is built (hatch_build.py) into
# blogsvc/docs_assets/dist/NAME@VERSION/. The version is in each URL, so browsers may keep a file for good.
DOCS_ASSETS_DIR = Path(__file__).resolve().parents[1] / "docs_assets" / "dist"
DOCS_ASSETS_PATH = "/docs/assets"


def _asset_folders() -> dict[str, str]:
    """npm package name -> its folder under dist/ (and in the URL): @fontsource/roboto -> fontsource-roboto@5.3.0."""
    with (DOCS_ASSETS_DIR.parent / "packages.toml").open("rb") as f:
        packages = tomllib.load(f)["package"]
    return {p["name"]: f"{p['name'].removeprefix('@').replace('/', '-')}@{p['version']}" for p in packages}


_FOLDERS = _asset_folders()


def asset_url(package: str, file: str) -> str:
    """The URL of one file of one of the pinned npm packages."""
    return f"{DOCS_ASSETS_PATH}/{_FOLDERS[package]}/{file}"


# Python's own table lacks the font types on some systems; without them the fonts go out as
# application/octet-stream.
mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("font/woff", ".woff")

_FAVICON = f"<link rel='icon' type='image/png' href='{asset_url('swagger-ui-dist', 'favicon-32x32.png')}'>"
_BODY_STYLE = "<style>body { margin: 0; padding: 0 }</style>"
# ReDoc's theme uses Roboto and Montserrat; these replace the Google Fonts link google_fonts=True adds.
_REDOC_FONTS = "".join(
    f"<link rel='stylesheet' href='{asset_url(family, f'{weight}.css')}'>"
    for family in ("@fontsource/montserrat", "@fontsource/roboto")
    for weight in (300, 400, 700)
)

swagger_ui = _doc_page(
    SwaggerRenderPlugin(
        js_url=asset_url("swagger-ui-dist", "swagger-ui-bundle.js"),
        css_url=asset_url("swagger-ui-dist", "swagger-ui.css"),
        standalone_preset_js_url=asset_url("swagger-ui-dist", "swagger-ui-standalone-preset.js"),
        favicon=_FAVICON,
    ),
    "/docs",
)
redoc = _doc_page(
    RedocRenderPlugin(
        js_url=asset_url("redoc", "bundles/redoc.standalone.js"),
        google_fonts=False,
        favicon=_FAVICON,
        style=_REDOC_FONTS + _BODY_STYLE,
    ),
    "/redoc",
)

docs_assets = create_static_files_router(
    path=DOCS_ASSETS_PATH,
    directories=[DOCS_ASSETS_DIR],
    name="docs_assets",
    cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True, immutable=True),
    include_in_schema=False,
)
"""The files the two pages load: register it beside swagger_ui and redoc."""


def openapi_config() -> OpenAPIConfig:
    """The document's header, and where it is served: /openapi.json (the root of its router)."""
    return OpenAPIConfig(
        title="blogsvc",
        version=__version__,
        summary="A blog microservice for internal callers.",
        description="Users and their articles over HTTP: create, read, update, soft delete and restore, cursor "
        "pagination, conditional requests (ETag, If-None-Match, If-Match), service tokens and safe retries "
        "(Idempotency-Key). Errors are RFC 9457 problem documents.",
        contact=Contact(name="blogsvc maintainers"),
        license=License(name="Proprietary", identifier="LicenseRef-Proprietary"),
        tags=[
            Tag(name="users", description="Users: registration, profile, soft delete and restore."),
            Tag(name="auth", description="Password verification for the services that log users in."),
            Tag(name="articles", description="Articles, each by one live user: slug, status, tags."),
            Tag(name="tags", description="The tags live articles carry, with how many carry each."),
            Tag(
                name="events",
                description="The change feed: every change of users and articles, in commit order, as CloudEvents.",
            ),
            Tag(name="service", description="What the service is, and whether it is alive and ready."),
        ],
        use_handler_docstrings=True,
        openapi_router=Router("/openapi.json", route_handlers=[], include_in_schema=False),
        render_plugins=[JsonRenderPlugin(path="/")],
    )
