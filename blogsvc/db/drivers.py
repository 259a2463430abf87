"""The MySQL drivers the database layer runs on, and what it needs to know of each.

aiomysql (pure Python, on PyMySQL) is the default. asyncmy is a compiled driver with the same
shape that spends about half the client CPU per statement (bench/drivers.py measures it); install
it with `pip install 'blogsvc[asyncmy]'` and choose it with BLOGSVC_DB_DRIVER=asyncmy."""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

NAMES = ("aiomysql", "asyncmy")


@dataclass(frozen=True)
class Driver:
    name: str
    make_pool: Callable[..., Any]  # (minsize=, maxsize=, pool_recycle=, database=, **connect arguments), not connected
    cursor_class: Any  # Cursor(connection): a buffered cursor
    mysql_error: type[Exception]  # whatever the server said, with (code, message) as args
    interface_error: type[Exception]  # the connection was used after it closed, or broke

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """What a failed connection attempt or statement raises, below the domain errors."""
        return (self.mysql_error, OSError)

    def is_closed(self, conn: Any) -> bool:
        return bool(conn.closed) if self.name == "aiomysql" else not conn.connected


def load(name: str) -> Driver:
    """The driver called `name`; ImportError naming the extra to install if it is not installed."""
    if name == "aiomysql":
        import aiomysql
        import pymysql

        def aiomysql_pool(*, database: str, **arguments: Any) -> Any:
            return aiomysql.Pool(echo=False, loop=asyncio.get_running_loop(), db=database, **arguments)

        return Driver(name, aiomysql_pool, aiomysql.Cursor, pymysql.err.MySQLError, pymysql.err.InterfaceError)
    if name == "asyncmy":
        try:
            asyncmy = importlib.import_module("asyncmy")
        except ImportError as exc:
            raise ImportError("BLOGSVC_DB_DRIVER=asyncmy needs asyncmy: pip install 'blogsvc[asyncmy]'") from exc
        cursors = importlib.import_module("asyncmy.cursors")
        return Driver(name, asyncmy.Pool, cursors.Cursor, asyncmy.MySQLError, asyncmy.InterfaceError)
    raise ValueError(f"unknown database driver {name!r}; one of {', '.join(NAMES)}")
