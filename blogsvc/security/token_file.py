"""BLOGSVC_API_TOKENS_FILE, re-read while the worker runs: its tokens replace the TokenTable's within a
second of the file changing, or at once on SIGHUP. A file that cannot be read or parsed keeps the last good
tokens and is logged (never its content) once per change.

Each worker polls on its own (a stat a second, in a thread, never on a request's path). A Kubernetes Secret
volume changes by swapping its `..data` symlink to a new directory, so the file is known by its resolved
path, inode, mtime and size, not by its name's mtime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import TYPE_CHECKING

from blogsvc.config import TokenError, read_tokens_file

if TYPE_CHECKING:
    from blogsvc.security.tokens import TokenTable

log = logging.getLogger("blogsvc.security")

POLL_SECONDS = 1.0


class TokenFileWatcher:
    """Keeps `table` to the tokens of the file at `path` (the table starts with what config.py read)."""

    def __init__(self, path: str, table: TokenTable) -> None:
        self.path = path
        self.table = table
        self._seen: object = None  # the file as last checked: None until the first check
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """Re-read the file now, changed or not (SIGHUP)."""
        self._woken.set()

    async def run(self) -> None:
        """Check at once, then every POLL_SECONDS or when woken, until cancelled."""
        while True:
            forced = self._woken.is_set()
            self._woken.clear()
            await asyncio.to_thread(self.check, force=forced)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), POLL_SECONDS)

    def check(self, *, force: bool = False) -> bool:
        """Re-read the file if it changed since the last check (or if `force`); whether the tokens were replaced."""
        try:
            resolved = os.path.realpath(self.path)
            stat = os.stat(resolved)
            seen: object = (resolved, stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError as exc:
            seen = exc.errno  # logged below, once, when the read fails the same way
        if seen == self._seen and not force:
            return False
        self._seen = seen
        # Read after the stat: a change in between is read now and seen again, harmlessly, at the next check.
        try:
            tokens = read_tokens_file(self.path)
        except TokenError as exc:
            log.error("api tokens file unusable, keeping the previous tokens", extra={"reason": str(exc)})
            return False
        if tokens == self.table.tokens and not force:
            return False  # the first check, or a file rewritten as it was
        self.table.replace(tokens)
        log.info("api tokens reloaded", extra={"count": len(tokens)})
        return True
