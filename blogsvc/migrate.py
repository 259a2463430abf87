"""Schema migrations with yoyo: plain SQL files in migrations/, each with a rollback file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pymysql
import yoyo

from blogsvc.db import resource_dir

if TYPE_CHECKING:
    from yoyo.backends import DatabaseBackend

    from blogsvc.config import DatabaseURL

# Replicas starting together wait for each other's migration run this long (yoyo's lock table).
LOCK_TIMEOUT_SECONDS = 300


def create_database(url: DatabaseURL) -> None:
    """CREATE DATABASE IF NOT EXISTS, utf8mb4 (the name is checked by config: no quoting issues)."""
    conn = pymysql.connect(host=url.host, port=url.port, user=url.user, password=url.password, connect_timeout=10)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                f"CREATE DATABASE IF NOT EXISTS `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        conn.close()


def _backend(url: DatabaseURL) -> DatabaseBackend:
    return yoyo.get_backend(url.to_url())


def _migrations() -> yoyo.migrations.MigrationList:
    return yoyo.read_migrations(str(resource_dir("migrations")))


def apply(url: DatabaseURL) -> list[str]:
    """Create the database if missing and apply what is pending; the ids applied."""
    create_database(url)
    backend = _backend(url)
    with backend.lock(timeout=LOCK_TIMEOUT_SECONDS):
        pending = backend.to_apply(_migrations())
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def rollback_latest(url: DatabaseURL) -> list[str]:
    """Undo the most recently applied migration; the ids rolled back (none if nothing is applied)."""
    backend = _backend(url)
    with backend.lock(timeout=LOCK_TIMEOUT_SECONDS):
        latest = backend.to_rollback(_migrations())[:1]
        backend.rollback_migrations(latest)
    return [m.id for m in latest]


def shipped_migrations() -> list[str]:
    """Ids of the migrations this build ships (all must be applied for the service to be ready)."""
    return [m.id for m in _migrations()]
