"""An app with service tokens configured (a write and a read token), on the session's database."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from blogsvc.app import create_app
from blogsvc.config import parse_tokens

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar

    from blogsvc.config import Settings

WRITE_TOKEN = secrets.token_urlsafe(32)
READ_TOKEN = secrets.token_urlsafe(32)
WRITE = {"Authorization": f"Bearer {WRITE_TOKEN}"}
READ = {"Authorization": f"Bearer {READ_TOKEN}"}


@pytest.fixture(scope="session")
def secure_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, api_tokens=parse_tokens(f"write:{WRITE_TOKEN} read:{READ_TOKEN}"))


@pytest.fixture(scope="session")
def secure_app(secure_settings: Settings) -> Litestar:
    return create_app(secure_settings)


@pytest.fixture(scope="session")
async def secure_client(secure_app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(secure_app) as client:
        yield client
