"""argon2id hashing on a small thread pool, so a 50-150 ms hash never blocks the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from blogsvc import spans

if TYPE_CHECKING:
    from blogsvc.config import Settings


class PasswordHasher:
    def __init__(self, settings: Settings) -> None:
        self._argon2 = argon2.PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=argon2.Type.ID,
        )
        # argon2-cffi releases the GIL while hashing; the pool size bounds CPU and memory use.
        self._pool = ThreadPoolExecutor(
            max_workers=settings.hash_concurrency, thread_name_prefix="argon2", initializer=_lower_priority
        )
        self._dummy_hash = ""

    async def start(self) -> None:
        # Unknown emails are checked against this hash, so they cost what a wrong password does.
        self._dummy_hash = await self.hash(secrets.token_urlsafe(16))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def hash(self, password: str) -> str:
        with spans.hashing("argon2 hash"):
            return await asyncio.get_running_loop().run_in_executor(self._pool, self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        with spans.hashing("argon2 verify"):
            return await asyncio.get_running_loop().run_in_executor(self._pool, self._verify, password_hash, password)

    async def verify_nothing(self, password: str) -> None:
        """Spend the time of a verify, for an email that has no user."""
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):  # a mismatch is a VerificationError
            return False


def _lower_priority() -> None:
    """Hashing threads yield the CPU to the event loop (and a local database) when cores are short,
    so reads keep their latency while passwords are hashed. Linux nice values are per thread."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
