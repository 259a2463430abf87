"""Events as GET /events shows them: CloudEvents 1.0 JSON objects."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from msgspec import Meta, Struct

from blogsvc.schemas import Timestamp

EventType = Literal[
    "blogsvc.user.created",
    "blogsvc.user.updated",
    "blogsvc.user.deleted",
    "blogsvc.user.restored",
    "blogsvc.article.created",
    "blogsvc.article.updated",
    "blogsvc.article.deleted",
    "blogsvc.article.restored",
]
TYPES: tuple[str, ...] = get_args(EventType)


class Event(Struct, kw_only=True):
    """A change of a user or an article (CloudEvents 1.0, JSON format)."""

    specversion: Literal["1.0"]
    id: Annotated[
        str, Meta(description="The event's place in the feed, as a string: pass it as after.", examples=["1234"])
    ]
    source: Literal["/blogsvc"]
    type: Annotated[EventType, Meta(examples=["blogsvc.article.updated"])]
    subject: Annotated[str, Meta(description="The resource's path.", examples=["/articles/12"])]
    time: Timestamp
    datacontenttype: Literal["application/json"]
    data: Annotated[
        dict[str, Any],
        Meta(
            description="The user or article as GET answered it after the change (as it was, for a delete).",
            examples=[{"id": 12, "title": "Notes on the Analytical Engine", "author_id": 42}],
        ),
    ]


class EventPage(Struct, kw_only=True):
    data: list[Event]
    next_after: Annotated[
        int, Meta(ge=0, description="The id of the last event here, or `after` when none came: the next after.")
    ]
