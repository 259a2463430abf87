"""Articles as requests send them and as responses show them."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from blogsvc.pagination import Page
from blogsvc.schemas import Id, Timestamp

Title = Annotated[str, Meta(min_length=1, max_length=200, examples=["Notes on the Analytical Engine"])]
Body = Annotated[str, Meta(max_length=100_000, examples=["It might act upon other things besides number."])]


class ArticleCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    title: Title
    body: Body | None = None


class ArticlePatch(Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields left out stay as they are; body may be set to null, title may not."""

    title: Title | UnsetType = UNSET
    body: Body | None | UnsetType = UNSET


class Article(Struct, kw_only=True):
    id: Id
    title: Annotated[str, Meta(examples=["Notes on the Analytical Engine"])]
    body: Annotated[str, Meta(examples=["It might act upon other things besides number."])] | None
    author_id: Id
    author: Annotated[str, Meta(description="The author's email.", examples=["ada@example.com"])]
    created_at: Timestamp
    updated_at: Timestamp | None


class ArticlePage(Page[Article]):
    pass
