"""The Idempotency-Key records in the database (sql/idempotency.sql): one per caller and key, claimed by the
first request (the primary key lets only one make it), finished with its response or released, replayed
for TTL, then deleted by the housekeeping. security/idempotency.py runs them around a request."""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from blogsvc.db.executor import utc_now
from blogsvc.db.queries import load_queries
from blogsvc.errors import Conflict, DuplicateKey, UnprocessableContent

if TYPE_CHECKING:
    from datetime import datetime

    from blogsvc.db.cluster import Database

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
# How long a claim may stay unfinished before the key counts as abandoned (its worker died mid-request):
# well beyond any request's time (pool wait, statement time limit, argon2 queue).
LEASE = timedelta(seconds=60)
# What a replay repeats besides status and body.
_KEPT_HEADERS = frozenset({b"content-type", b"location", b"etag"})

_sql = load_queries("idempotency")
_CLAIM = _sql.take("claim_key")
_TAKE_OVER = _sql.take("take_over_key")
_GET = _sql.take("get_key")
_FINISH = _sql.take("finish_key")
_RELEASE = _sql.take("release_key")
_DELETE_EXPIRED = _sql.take("delete_expired_keys")


@dataclass(frozen=True)
class Stored:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class Record:
    """One caller's key in the database, as one request sees it."""

    def __init__(self, db: Database, key_hash: bytes, fingerprint: bytes) -> None:
        self.db = db
        self.key_hash = key_hash
        self.fingerprint = fingerprint
        self.claim = secrets.token_hex(16)

    async def claim_or_find(self) -> Stored | None:
        """None: this request holds the key and runs. Else the first response, to replay. UnprocessableContent
        if the key was used for another request, Conflict while the first request still runs."""
        for _ in range(3):  # the record may expire or be released between two statements
            now = utc_now()
            params = self._params(now)
            try:
                await self.db.execute(_CLAIM, params)
                return None
            except DuplicateKey:
                pass
            if await self.db.execute(_TAKE_OVER, params):
                return None
            row = await self.db.one(_GET, {"key_hash": self.key_hash.hex(), "now": now})
            if row is None:
                continue
            fingerprint, status, headers, body = row
            if not hmac.compare_digest(bytes(fingerprint), self.fingerprint):
                raise UnprocessableContent(
                    f"This {HEADER} was used for a different request (method, path or body); use a new key."
                )
            if status is not None:
                return Stored(status, _decode_headers(headers), bytes(body or b""))
            break
        raise Conflict(
            f"A request with this {HEADER} is still being processed; retry shortly.", headers={"Retry-After": "1"}
        )

    async def finish(self, stored: Stored) -> None:
        await self.db.execute(
            _FINISH,
            {
                "key_hash": self.key_hash.hex(),
                "claim": self.claim,
                "status": stored.status,
                "response_headers": _encode_headers([h for h in stored.headers if h[0] in _KEPT_HEADERS]),
                "response_body": base64.b64encode(stored.body).decode(),
            },
        )

    async def release(self) -> None:
        await self.db.execute(_RELEASE, {"key_hash": self.key_hash.hex(), "claim": self.claim})

    def _params(self, now: datetime) -> dict[str, Any]:
        return {
            "key_hash": self.key_hash.hex(),
            "fingerprint": self.fingerprint.hex(),
            "claim": self.claim,
            "lease_until": now + LEASE,
            "now": now,
            "expires_at": now + TTL,
        }


async def delete_expired(db: Database, batch: int = 10_000) -> int:
    """Housekeeping: delete up to `batch` records past their TTL; how many went."""
    return await db.execute(_DELETE_EXPIRED, {"now": utc_now(), "batch": batch})


def _encode_headers(headers: list[tuple[bytes, bytes]]) -> str:
    return msgspec.json.encode([[name.decode("latin-1"), value.decode("latin-1")] for name, value in headers]).decode()


def _decode_headers(text: str | None) -> list[tuple[bytes, bytes]]:
    pairs = msgspec.json.decode(text or "[]", type=list[tuple[str, str]])
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]
