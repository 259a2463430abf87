"""Service tokens: BLOGSVC_API_TOKENS parsed into SHA-256 digests with a scope, and the lookup of a
presented token. The plaintext never outlives parsing: settings, logs and errors only ever see digests.

SHA-256 (not argon2) is right here: a token is 32+ random characters, so there is nothing to
guess, and every request pays for the check."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Literal

import msgspec

Scope = Literal["read", "write"]
SCOPES: tuple[Scope, ...] = ("read", "write")
MIN_TOKEN_LENGTH = 32
# RFC 6750's b64token, the characters a Bearer credential may have; 32..512 of them.
_TOKEN = re.compile(rf"[A-Za-z0-9\-._~+/]{{{MIN_TOKEN_LENGTH},512}}=*")
_HASHED = re.compile(r"sha256:([0-9a-fA-F]{64})")


class ApiToken(msgspec.Struct, frozen=True):
    """One configured token: its scope and the SHA-256 digest of the token."""

    scope: Scope
    sha256: bytes


class TokenError(ValueError):
    """An entry of BLOGSVC_API_TOKENS is malformed; the message never quotes the entry."""


def digest(token: str | bytes) -> bytes:
    return hashlib.sha256(token.encode() if isinstance(token, str) else token).digest()


def parse_tokens(text: str) -> tuple[ApiToken, ...]:
    """Entries separated by commas or whitespace, each `read:<token>`, `write:<token>`, or with the
    token given as its digest, `read:sha256:<64 hex digits>`, so the plaintext need not be configured."""
    tokens: list[ApiToken] = []
    for position, entry in enumerate(re.split(r"[,\s]+", text.strip()), start=1):
        if not entry:
            continue
        scope, _, secret = entry.partition(":")
        if scope not in SCOPES:
            raise TokenError(f"entry {position} must start with read: or write:")
        if hashed := _HASHED.fullmatch(secret):
            sha256 = bytes.fromhex(hashed.group(1))
        elif secret.startswith("sha256:"):
            raise TokenError(f"entry {position}: sha256: must be followed by 64 hexadecimal digits")
        elif _TOKEN.fullmatch(secret):
            sha256 = digest(secret)
        else:
            raise TokenError(
                f"entry {position}: a token must be {MIN_TOKEN_LENGTH} to 512 characters "
                "of A-Z a-z 0-9 - . _ ~ + / (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if any(hmac.compare_digest(sha256, other.sha256) for other in tokens):
            raise TokenError(f"entry {position} repeats an earlier token")
        tokens.append(ApiToken(scope, sha256))
    return tuple(tokens)


class TokenTable:
    """The configured tokens, for the check every request makes."""

    def __init__(self, tokens: tuple[ApiToken, ...]) -> None:
        self._tokens = tokens

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def find(self, presented: bytes) -> ApiToken | None:
        """The configured token `presented` is, if any. Every digest is compared, each in constant time,
        so the time taken says nothing about which one matched or how nearly."""
        presented_digest = digest(presented)
        found = None
        for token in self._tokens:
            if hmac.compare_digest(presented_digest, token.sha256):
                found = token
        return found
