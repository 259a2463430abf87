"""Users in the database: runs the named queries of sql/users.sql and raises domain errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from blogsvc.articles import repository as articles
from blogsvc.db.executor import utc_now
from blogsvc.db.queries import load_queries
from blogsvc.errors import Conflict, DuplicateKey, NotFound
from blogsvc.users.schemas import User, UserCreate, UserFilters, UserPage
from blogsvc.versions import Versioned, require_match, unchanged

if TYPE_CHECKING:
    from blogsvc.db.cluster import Database
    from blogsvc.db.executor import Executor, Row
    from blogsvc.pagination import PageWindow

_sql = load_queries("users")
_INSERT = _sql.take("insert_user")
_GET = _sql.take("get_users")
_GET_VERSION = _sql.take("get_user_version")
_LIST = {"asc": _sql.take("list_users_asc"), "desc": _sql.take("list_users_desc")}
_LIST_BY_EMAIL = _sql.take("list_users_by_email")
_LIST_FILTERED = {"asc": _sql.take("list_users_filtered_asc"), "desc": _sql.take("list_users_filtered_desc")}
_COUNT = _sql.take("count_users")
_GET_CREDENTIALS = _sql.take("get_credentials")
_UPDATE = _sql.take("update_user")
_REHASH = _sql.take("rehash_password")
_SOFT_DELETE = _sql.take("soft_delete_user")
_RESTORE = _sql.take("restore_user")


def _user(row: Row) -> User:
    return User(
        id=row[0],
        email=row[1],
        first_name=row[2],
        last_name=row[3],
        city=row[4],
        is_active=bool(row[5]),
        created_at=row[6],
        updated_at=row[7],
    )


def _email_taken(email: str) -> Conflict:
    return Conflict(f"A live user already has the email {email!r}.")


async def create(db: Executor, data: UserCreate, password_hash: str) -> Versioned[User]:
    params = {
        "email": data.email,
        "password_hash": password_hash,
        "first_name": data.first_name,
        "last_name": data.last_name,
        "city": data.city,
        "is_active": data.is_active,
        "now": utc_now(),
    }
    try:
        user_id = await db.insert(_INSERT, params)
    except DuplicateKey:
        raise _email_taken(data.email) from None
    return await get(db, user_id)


async def get(db: Executor, user_id: int) -> Versioned[User]:
    row = await db.lookup(_GET, user_id)
    if row is None:
        raise NotFound(f"No user with id {user_id}.")
    return Versioned(_user(row), row[8])


async def page(db: Executor, window: PageWindow, filters: UserFilters, count: bool) -> UserPage:
    params = {"email": filters.email, **filters.params()}
    if filters.ids is not None or filters.updated_since is not None:
        rows = await db.all(_LIST_FILTERED[window.order], {**params, **window.params()})
    elif filters.email is not None:
        rows = await db.all(_LIST_BY_EMAIL, {**params, **window.params()})
    else:
        rows = await db.all(_LIST[window.order], window.params())
    total = int(await db.value(_COUNT, params)) if count else msgspec.UNSET
    return window.page(UserPage, [_user(row) for row in rows], lambda user: (user.id,), total)


async def update(db: Executor, user_id: int, changes: dict[str, Any], if_match: str | None) -> Versioned[User]:
    """Apply `changes` (column -> value; columns left out stay) if If-Match allows."""
    if not changes:
        return require_match(await get(db, user_id), if_match, "user")
    params = dict.fromkeys(("email", "first_name", "last_name", "city", "is_active", "password_hash"))
    params.update(changes, id=user_id, if_match=if_match, now=utc_now())
    try:
        changed = await db.execute(_UPDATE, params)
    except DuplicateKey:
        raise _email_taken(changes["email"]) from None
    if not changed:
        raise unchanged("user", user_id, await db.value(_GET_VERSION, {"id": user_id}))
    return await get(db, user_id)


async def delete(db: Database, user_id: int, if_match: str | None) -> None:
    """Soft-delete the user and, in the same transaction, its live articles."""
    now = utc_now()

    async def soft_delete(tx: Executor) -> None:
        if not await tx.execute(_SOFT_DELETE, {"id": user_id, "if_match": if_match, "now": now}):
            raise unchanged("user", user_id, await tx.value(_GET_VERSION, {"id": user_id}))
        await articles.delete_by_author(tx, user_id, now)

    await db.run_in_transaction(soft_delete)


async def restore(db: Database, user_id: int) -> Versioned[User]:
    """Bring back a deleted user and exactly the articles deleted with it, in one transaction."""

    async def bring_back(tx: Executor) -> None:
        try:
            restored = await tx.execute(_RESTORE, {"id": user_id})
        except DuplicateKey:
            raise Conflict(f"Another live user has taken user {user_id}'s email meanwhile.") from None
        if not restored:
            raise NotFound(f"No deleted user with id {user_id}.")
        await articles.restore_by_author(tx, user_id)

    await db.run_in_transaction(bring_back)
    return await get(db, user_id)


async def credentials(db: Executor, email: str) -> tuple[int, str, bool] | None:
    """(id, password_hash, is_active) of the live user with this email, if any."""
    row = await db.one(_GET_CREDENTIALS, {"email": email})
    return None if row is None else (row[0], row[1], bool(row[2]))


async def replace_hash(db: Executor, user_id: int, old_hash: str, new_hash: str) -> None:
    await db.execute(_REHASH, {"id": user_id, "old_hash": old_hash, "new_hash": new_hash})
