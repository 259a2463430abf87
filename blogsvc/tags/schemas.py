"""Tag names as articles carry them, and tags as GET /tags shows them."""

from __future__ import annotations

import re
from typing import Annotated

from msgspec import Meta, Struct

from blogsvc.pagination import Page
from blogsvc.validation import described

MAX_LENGTH = 50
MAX_TAGS = 10
PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
# A name as a body may send it, before trimming and lower-casing: 1 to 50 letters, digits and single dashes
# between them (49 after the first: MAX_LENGTH), with any white space around (the lookahead: a dash only
# before a letter or digit).
INPUT_PATTERN = described(
    r"^\s*[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,49}\s*$",
    f"Must be 1 to {MAX_LENGTH} letters, digits and single dashes between them (any case, spaces around are trimmed).",
)
# A tag asked for in a query: the same, without the spaces.
QUERY_PATTERN = described(
    "^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$", "Must be letters, digits and single dashes between them (any case)."
)
_NAME = re.compile(PATTERN)
RULES = (
    f"Up to {MAX_TAGS} names; each is trimmed and lower-cased, and must then be 1 to {MAX_LENGTH} letters a-z, "
    "digits or single dashes between them. Duplicates collapse; the article shows them sorted."
)


def normalized_name(name: str) -> str:
    """A tag name as stored: trimmed, lower-cased; ValueError if it then breaks the rule."""
    tidy = name.strip().lower()
    if not 1 <= len(tidy) <= MAX_LENGTH or not _NAME.fullmatch(tidy):
        raise ValueError(
            f"{name!r} is not a tag: {MAX_LENGTH} characters at most, a-z, 0-9 and single dashes between them."
        )
    return tidy


def normalized_names(names: list[str]) -> list[str]:
    """An article's tags as stored: each normalised, duplicates once, sorted."""
    return sorted({normalized_name(name) for name in names})


class Tag(Struct, kw_only=True):
    name: Annotated[str, Meta(examples=["history"])]
    articles: Annotated[int, Meta(description="How many live articles carry it.", examples=[12])]


class TagPage(Page[Tag]):
    pass
