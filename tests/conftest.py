"""Each test run gets its own throwaway database on the configured server, migrated, then dropped."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

import msgspec
import pymysql
import pytest
from litestar.testing import AsyncTestClient

from blogsvc.app import create_app
from blogsvc.config import Settings, from_env
from blogsvc.db import migrate

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from litestar import Litestar


def _drop_database(settings: Settings) -> None:
    url = settings.database
    conn = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{url.database}`")
    finally:
        conn.close()


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    base = from_env(os.environ)
    # Cheap argon2 parameters keep the suite fast; tests about hashing set their own.
    settings = msgspec.structs.replace(
        base,
        database=base.database.with_database(f"blogsvc_test_{secrets.token_hex(4)}"),
        pool_min=1,
        pool_max=20,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        hash_concurrency=4,
        cursor_secret="test-cursor-secret",
    )
    migrate.apply(settings.database)
    yield settings
    _drop_database(settings)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture(scope="session")
def db_conn(settings: Settings) -> Iterator[pymysql.connections.Connection]:
    """A plain connection to the test database, for looking behind the API."""
    url = settings.database
    conn = pymysql.connect(
        host=url.host, port=url.port, user=url.user, password=url.password, database=url.database, autocommit=True
    )
    yield conn
    conn.close()
