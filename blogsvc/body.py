"""Request bodies: JSON only (415 otherwise), and undecodable JSON is the client's error (400), not ours."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


class JSONOnlyRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        media_type = self.content_type[0].lower()
        if not _is_json(media_type):
            raise HTTPException(
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                detail=f"The body must be application/json, not {media_type or 'unlabelled'}.",
            )
        try:
            return await super().json()
        # Litestar turns malformed JSON into a 400 but lets these through as 500s.
        except UnicodeDecodeError:
            raise ClientException("The body is not valid UTF-8.") from None
        except RecursionError:
            raise ClientException("The body nests too deeply.") from None
