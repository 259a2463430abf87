"""What a driver's exception means for the caller: MySQL and MariaDB error codes, and broken connections,
as domain errors (blogsvc.errors). Client-side codes are 2xxx."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from blogsvc.errors import (
    ConnectionLost,
    DuplicateKey,
    ServerNotReady,
    ServiceUnavailable,
    StatementTimeout,
    TransientConflict,
)

if TYPE_CHECKING:
    from blogsvc.db.drivers import Driver

# No connection to be had (these come when connecting): the server is down or full.
_UNAVAILABLE = frozenset({1040, 2003})
# The connection died under a statement: server gone away, lost during the query, lost (with errno),
# server shutting down, connection killed, disconnected for inactivity (MySQL 8).
_CONNECTION_LOST = frozenset({2006, 2013, 2055, 1053, 1927, 4031})
# The node is joining, or cut off from the cluster's primary component, so another should be used:
# Galera's "WSREP has not yet prepared node for application use" before a statement, and "Got error
# during COMMIT" (e.g. "Not connected to Primary Component") when it cannot replicate a commit,
# which then did not happen.
_NOT_READY = frozenset({1047, 1180})
# Rolled back, nothing took effect: deadlock (also how Galera reports a commit-time certification
# failure or a brute-force abort), lock wait timeout, MySQL Group Replication's certification failure.
_TRANSIENT_CONFLICT = frozenset({1213, 1205, 3101})
# The statement time limit: MariaDB's max_statement_time, MySQL's max_execution_time.
_STATEMENT_TIMEOUT = frozenset({1969, 3024})
# KILL QUERY from an operator.
_QUERY_INTERRUPTED = 1317
_DUPLICATE_ENTRY = 1062
_DUPLICATE_KEY_NAME = re.compile(r"for key '(?:[^'.]*\.)?([^']+)'")


def from_mysql_error(code: int, message: str) -> Exception | None:
    """The domain error a MySQL error code stands for, or None to let it propagate."""
    if code == _DUPLICATE_ENTRY:
        match = _DUPLICATE_KEY_NAME.search(message)
        return DuplicateKey(match.group(1) if match else "")
    if code in _TRANSIENT_CONFLICT:
        return TransientConflict("The database rolled the change back after a conflict; retry shortly.")
    if code in _CONNECTION_LOST:
        return lost()
    if code in _NOT_READY:
        return ServerNotReady("The database server is not ready; retry shortly.")
    if code in _STATEMENT_TIMEOUT:
        return StatementTimeout("The database query took too long; retry shortly.")
    if code in _UNAVAILABLE or code == _QUERY_INTERRUPTED:
        return unavailable()
    return None


def from_driver_error(driver: Driver, exc: Exception, conn: Any) -> Exception | None:
    """The domain error a driver exception on `conn` stands for, or None for a bug (to propagate as it is)."""
    if isinstance(exc, driver.mysql_error) and exc.args and isinstance(exc.args[0], int):
        mapped = from_mysql_error(exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else "")
        if mapped is not None:
            return mapped
    # Refused or reset before MySQL's protocol got a word in, used after it was closed, or any
    # other failure that left the connection closed: it is lost.
    if driver.is_closed(conn) or isinstance(exc, OSError | driver.interface_error):
        return lost()
    return None


def lost() -> ConnectionLost:
    return ConnectionLost("The database connection was lost; retry shortly.")


def unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("The database is unavailable; retry shortly.")


def no_answer() -> ServiceUnavailable:
    return ServiceUnavailable("The database did not answer in time; retry shortly.")
