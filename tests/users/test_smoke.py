from __future__ import annotations

from typing import TYPE_CHECKING

from tests.helpers import new_user_body

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient


async def test_create_then_get(client: AsyncTestClient[Litestar]) -> None:
    created = await client.post("/users", json=new_user_body())
    assert created.status_code == 201, created.text
    fetched = await client.get(created.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == created.json()
