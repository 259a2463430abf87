"""The service's own routes: what it is, and documentation pages whose every asset the service serves."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient


async def test_service_info(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.json()["service"] == "blogsvc"
    assert response.json()["docs"] == "/docs"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_every_docs_asset_is_served_here(client: AsyncTestClient[Litestar], page: str) -> None:
    html = (await client.get(page)).text
    assets = re.findall(r"""(?:src|href)\s*=\s*["'](/docs/assets/[^"']+)""", html)
    assert len(assets) >= 2, html[:500]
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert "immutable" in response.headers["cache-control"], asset
