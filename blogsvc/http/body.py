"""Request bodies: JSON only (415 otherwise), decoded straight into the handler's Struct with msgspec's
strict rules (no "true" for true, no 1 for true), and undecodable input is the client's error (400)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

from blogsvc import config

if TYPE_CHECKING:
    from litestar.datastructures import State

# API.md's limit. An article of 100,000 characters sent as UTF-8 fits (at most 400 KB); sent with every
# character \u-escaped, 100,000 characters outside the BMP (12 bytes each) would not.
MAX_BODY_BYTES = 1024 * 1024

# msgspec ends a validation message with the path of the bad value: "... - at `$.title`".
_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.DOTALL)


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def decode(body: bytes, target: Any, state: State) -> Any:
    """`body` decoded strictly into `target` under the app's settings, which the Structs' validators read
    from config.in_effect (no reset needed: every request runs in a task of its own)."""
    config.in_effect.set(state.settings)
    return msgspec.json.decode(body, type=target, strict=True)


def _validation_error(exc: msgspec.ValidationError) -> ValidationException:
    match = _AT_PATH.match(str(exc))
    message, path = (match["message"], match["path"] or "") if match else (str(exc), "")
    return ValidationException(detail="Invalid body", extra=[{"message": message, "key": path, "source": "body"}])


class JSONOnlyRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        media_type = self.content_type[0].lower()
        if not _is_json(media_type):
            raise HTTPException(
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                detail=f"The body must be application/json, not {media_type or 'unlabelled'}.",
            )
        field = self.route_handler.parsed_data_field
        target = field.annotation if field is not None else Any
        try:
            return decode(await self.body(), target, self.app.state)
        except msgspec.ValidationError as exc:
            raise _validation_error(exc) from None
        except msgspec.DecodeError as exc:
            raise ClientException(f"The body is not valid JSON: {exc}") from None
        # msgspec lets these through for invalid UTF-8 and absurd nesting.
        except UnicodeDecodeError:
            raise ClientException("The body is not valid UTF-8.") from None
        except RecursionError:
            raise ClientException("The body nests too deeply.") from None
