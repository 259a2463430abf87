"""The lookup of a presented service token among the configured ones (BLOGSVC_API_TOKENS or the file of
BLOGSVC_API_TOKENS_FILE, which config.py parses into SHA-256 digests: settings, logs and errors only ever see
digests).

SHA-256 (not argon2) is right here: a token is 32+ random characters, so there is nothing to
guess, and every request pays for the check."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from blogsvc.config import ApiToken


class TokenTable:
    """The configured tokens, for the check every request makes. security/token_file.py replaces them when
    their file changes: one reference swapped, so a lookup sees either the old tokens or the new ones."""

    def __init__(self, tokens: tuple[ApiToken, ...]) -> None:
        self._tokens = tokens

    def __bool__(self) -> bool:
        return bool(self._tokens)

    @property
    def tokens(self) -> tuple[ApiToken, ...]:
        return self._tokens

    def replace(self, tokens: tuple[ApiToken, ...]) -> None:
        self._tokens = tokens

    def find(self, presented: bytes) -> ApiToken | None:
        """The configured token `presented` is, if any. Every digest is compared, each in constant time,
        so the time taken says nothing about which one matched or how nearly."""
        presented_digest = hashlib.sha256(presented).digest()
        found = None
        for token in self._tokens:
            if hmac.compare_digest(presented_digest, token.sha256):
                found = token
        return found
