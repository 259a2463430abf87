"""blogsvc.http.responses.JSONResponse: plain JSON takes the short way to the same ASGI messages as Litestar's
Response; anything else takes Litestar's own way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest
from litestar import MediaType, Response
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import Cookie

from blogsvc.articles.schemas import Article
from blogsvc.http.responses import JSONResponse

if TYPE_CHECKING:
    from litestar.response.base import ASGIResponse
    from litestar.types import Message

ARTICLE = Article(
    id=7,
    title="Ünïcode title",
    body=None,
    author_id=3,
    author="a@example.com",
    slug="unicode-title",
    status="published",
    published_at="2026-01-01T00:00:00.000000Z",
    tags=[],
    created_at="2026-01-01T00:00:00.000000Z",
    updated_at=None,
)
NO_REQUEST = cast("Any", None)  # neither class reads the request


async def messages(response: ASGIResponse) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        raise AssertionError("a response does not read the request")

    await response({"type": "http"}, receive, send)  # type: ignore[arg-type]
    return sent


def both(content: Any, status: int | None = None, **options: Any) -> tuple[Response[Any], JSONResponse[Any]]:
    made = {"status_code": status, "headers": {"ETag": '"3"', "Location": "/articles/7"}}
    return Response(content, **made), JSONResponse(content, **made)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "status", "layer_headers"),
    [
        (ARTICLE, 200, None),
        (ARTICLE, 201, {"X-From-Layer": "yes", "etag": '"layer"'}),  # the response's own ETag wins
        ({"data": [ARTICLE], "next_cursor": None}, None, {}),
    ],
)
async def test_plain_json_gives_litestars_messages(content: Any, status: int | None, layer_headers: Any) -> None:
    litestars, ours = both(content, status)
    ours_asgi = ours.to_asgi_response(None, NO_REQUEST, headers=layer_headers, status_code=200)
    assert type(ours_asgi).__name__ == "_Encoded"  # the short way was taken
    expected = await messages(litestars.to_asgi_response(None, NO_REQUEST, headers=layer_headers, status_code=200))
    assert await messages(ours_asgi) == expected


@pytest.mark.parametrize(
    ("content", "options"),
    [
        (None, {"status_code": 204}),
        (None, {"is_head_response": True}),
        (ARTICLE, {"cookies": [Cookie(key="k", value="v")]}),
        (ARTICLE, {"background": BackgroundTask(print)}),
        ("some text", {"media_type": MediaType.TEXT}),
        (ARTICLE, {"type_encoders": {Article: str}}),
    ],
    ids=["204", "HEAD", "cookies", "background", "text", "type_encoders"],
)
async def test_anything_else_takes_litestars_way(content: Any, options: dict[str, Any]) -> None:
    litestars, ours = both(content)
    ours_asgi = ours.to_asgi_response(None, NO_REQUEST, **options)
    assert type(ours_asgi).__name__ == "ASGIResponse"
    litestars_asgi = litestars.to_asgi_response(None, NO_REQUEST, **options)
    assert ours_asgi.status_code == litestars_asgi.status_code
    assert ours_asgi.encode_headers() == litestars_asgi.encode_headers()
    assert ours_asgi.body == litestars_asgi.body
