"""Security headers on every response, errors from routing included (http/edge.py adds them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

# On every response. A JSON API is never a page to frame or run scripts in; the documentation pages
# send a Content-Security-Policy of their own (ops/docs.py DOCS_CSP), which is kept.
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"))
DEFAULT_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Responses are per caller and change with every write; only the versioned documentation assets say
# otherwise (immutable, a year), and whatever sets a Cache-Control of its own is left to it.
DEFAULT_CACHE_CONTROL = b"no-store"


_DEFAULTS = (
    *ALWAYS,
    (b"content-security-policy", DEFAULT_CSP),
    (b"cache-control", DEFAULT_CACHE_CONTROL),
)
_NAMES = frozenset(name for name, _ in _DEFAULTS)


def completed(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A response's headers with the security headers it does not set itself."""
    result = list(headers)
    if any(name.lower() in _NAMES for name, _ in result):  # rare: the docs pages and assets
        present = {name.lower() for name, _ in result}
        result.extend(header for header in _DEFAULTS if header[0] not in present)
    else:
        result.extend(_DEFAULTS)
    return result
