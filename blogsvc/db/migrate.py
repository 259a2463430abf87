"""Schema migrations with yoyo (plain SQL files in migrations/, each with a rollback file), and the other
database work of the command line: it runs before any event loop, on PyMySQL, which aiomysql is built on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pymysql
import yoyo

from blogsvc.db.queries import resource_dir

if TYPE_CHECKING:
    from yoyo.backends import DatabaseBackend

    from blogsvc.config import DatabaseURL

# Replicas starting together wait for each other's migration run this long (yoyo's lock table).
LOCK_TIMEOUT_SECONDS = 300


class Unusable(Exception):
    """The database cannot be used: unreachable, the login refused, no such database. The message is one
    line naming the server and what it said."""


def _connect(url: DatabaseURL, host: str, port: int, timeout: float, **options: Any) -> pymysql.Connection[Any]:
    try:
        return pymysql.connect(
            host=host, port=port, user=url.user, password=url.password, connect_timeout=timeout, **options
        )
    except pymysql.err.MySQLError as exc:
        raise _unusable(host, port, exc) from None


def _unusable(host: str, port: int, exc: Exception) -> Unusable:
    what = f"({exc.args[0]}) {exc.args[1]}" if len(exc.args) > 1 else str(exc)  # (code, message)
    return Unusable(f"cannot use the database at {host}:{port}: {what}")


def check(url: DatabaseURL, timeout: float) -> None:
    """Log in to the database on the first server that answers; Unusable naming why not."""
    unusable = None
    for host, port in url.hosts:
        try:
            _connect(url, host, port, timeout, database=url.database).close()
        except Unusable as exc:
            unusable = exc
            continue
        return
    raise unusable or Unusable("no database server")


def create_database(url: DatabaseURL) -> None:
    """CREATE DATABASE IF NOT EXISTS, utf8mb4 (the name is checked by config: no quoting issues)."""
    conn = _connect(url, url.host, url.port, timeout=10)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                f"CREATE DATABASE IF NOT EXISTS `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        conn.close()


def _backend(url: DatabaseURL) -> DatabaseBackend:
    try:
        return yoyo.get_backend(url.to_url())
    except pymysql.err.MySQLError as exc:
        raise _unusable(url.host, url.port, exc) from None


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
