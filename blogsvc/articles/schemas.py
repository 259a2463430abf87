"""Articles as requests send them and as responses show them."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from blogsvc.articles import slugs
from blogsvc.pagination import Page
from blogsvc.schemas import Id, Timestamp
from blogsvc.tags import schemas as tags
from blogsvc.validation import Check

Title = Annotated[str, Meta(min_length=1, max_length=200, examples=["Notes on the Analytical Engine"])]
Body = Annotated[str, Meta(max_length=100_000, examples=["It might act upon other things besides number."])]
Slug = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=slugs.MAX_LENGTH,
        pattern=slugs.PATTERN,
        description="The article's name in URLs, unique among live articles.",
        examples=["notes-on-the-analytical-engine"],
    ),
    Check(slugs.checked),
]
Status = Annotated[
    Literal["draft", "published"],
    Meta(
        description="A draft is shown like any article, and listed unless a list asks for status=published.",
        examples=["published"],
    ),
]
Tags = Annotated[
    list[Annotated[str, Meta(pattern=tags.INPUT_PATTERN)]],
    Meta(max_length=tags.MAX_TAGS, description=tags.RULES, examples=[["history", "computing"]]),
    Check(tags.normalized_names),
]


class ArticleCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    """Without a slug, one is made from the title (transliterated to ASCII); taken, it gets -2, -3, ..."""

    title: Title
    body: Body | None = None
    slug: Slug | None = None
    status: Status = "published"
    tags: Tags = []


class ArticlePatch(Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields left out stay as they are; body may be set to null, title may not. A new title leaves the
    slug as it is; tags replace the whole set."""

    title: Title | UnsetType = UNSET
    body: Body | None | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET


class Article(Struct, kw_only=True):
    id: Id
    title: Annotated[str, Meta(examples=["Notes on the Analytical Engine"])]
    body: Annotated[str, Meta(examples=["It might act upon other things besides number."])] | None
    author_id: Id
    author: Annotated[str, Meta(description="The author's email.", examples=["ada@example.com"])]
    slug: Annotated[str, Meta(examples=["notes-on-the-analytical-engine"])]
    status: Status
    published_at: Annotated[
        Timestamp | None,
        Meta(description="When first published; null while it never was. It stays if it goes back to draft."),
    ]
    tags: Annotated[list[str], Meta(description="Sorted by name.", examples=[["computing", "history"]])]
    created_at: Timestamp
    updated_at: Timestamp | None


class ArticlePage(Page[Article]):
    pass
