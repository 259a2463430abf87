"""Request bodies: at most MAX_BODY_BYTES (413 beyond), JSON only (415 otherwise), made into the handler's
Struct by http/validation.py with msgspec's strict rules (no "true" for true, no 1 for true)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from blogsvc.http.validation import VALIDATED

# API.md's limit. An article of 100,000 characters sent as UTF-8 fits (at most 400 KB); sent with every
# character \u-escaped, 100,000 characters outside the BMP (12 bytes each) would not.
MAX_BODY_BYTES = 1024 * 1024


class JSONOnlyRequest(Request[Any, Any, Any]):
    """A request whose JSON body was made into the handler's Struct, with every bad field reported, by the
    before_request hook (http/validation.py): Litestar's data extractor takes it from there."""

    async def json(self) -> Any:
        return self.scope["state"][VALIDATED]
