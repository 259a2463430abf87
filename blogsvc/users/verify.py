"""Password verification: the same cost whether or not the email has a user, re-hashing
of hashes made with outdated argon2 parameters, and the brute-force lockout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blogsvc.errors import Unauthorized
from blogsvc.security import lockout
from blogsvc.users import repository as users

if TYPE_CHECKING:
    from blogsvc.db.executor import Executor
    from blogsvc.security.passwords import PasswordHasher
    from blogsvc.users.schemas import User


async def verify(db: Executor, hasher: PasswordHasher, email: str, password: str) -> User:
    """The user these credentials belong to; Unauthorized alike for every way they can fail, and
    TooManyRequests once the email has had too many attempts (lockout.py)."""
    await lockout.count_attempt(db, email)
    found = await users.credentials(db, email)
    if found is None:
        await hasher.verify_nothing(password)
        raise _rejected()
    user_id, password_hash, is_active = found
    if not await hasher.verify(password_hash, password) or not is_active:
        raise _rejected()
    if hasher.needs_rehash(password_hash):
        await users.replace_hash(db, user_id, password_hash, await hasher.hash(password))
    await lockout.forget(db, email)
    return (await users.get(db, user_id)).item


def _rejected() -> Unauthorized:
    return Unauthorized("Wrong email or password, or the user is not active.")
