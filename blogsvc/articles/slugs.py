"""Slugs: an article's name in URLs, made from its title unless given.

anyascii transliterates (maintained, ISC-licensed, every script: "Crème Brûlée" is "Creme Brulee",
"Straße" "Strasse"); the rest is the contract's rule: lower case, each run of other characters one dash,
trimmed, at most 200 characters; nothing left gives "article". A slug taken by a live article gets the
first free of -2, -3, ... (repository.create asks the database which are taken)."""

from __future__ import annotations

import re

from anyascii import anyascii

from blogsvc.validation import described

MAX_LENGTH = 200
_WORDS = "Must be lower-case letters a-z and digits, in words joined by single dashes."
PATTERN = described("^[a-z0-9]+(-[a-z0-9]+)*$", _WORDS)
FALLBACK = "article"
_RULE = re.compile(PATTERN)
_OTHERS = re.compile(r"[^a-z0-9]+")


def from_title(title: str) -> str:
    slug = _OTHERS.sub("-", anyascii(title).lower()).strip("-")
    return _trimmed(slug, MAX_LENGTH) or FALLBACK


def numbered(base: str, number: int) -> str:
    """`base` with `-number`, shortened to fit (so the two together are at most MAX_LENGTH)."""
    suffix = f"-{number}"
    return (_trimmed(base, MAX_LENGTH - len(suffix)) or FALLBACK) + suffix


def checked(slug: str) -> str:
    """A slug as given in a body; ValueError unless it follows the rule (msgspec's pattern lets a final
    newline through: Python's `$` matches before one)."""
    if not _RULE.fullmatch(slug):
        raise ValueError(_WORDS)
    return slug


def _trimmed(slug: str, length: int) -> str:
    return slug[:length].rstrip("-")
