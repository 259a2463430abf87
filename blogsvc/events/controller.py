"""HTTP route of the change feed: GET /events."""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec
from litestar import get
from litestar.openapi.spec import Example
from litestar.params import Parameter, QueryParameter

from blogsvc.events import repository as feed
from blogsvc.events.schemas import TYPES, Event, EventPage, EventType
from blogsvc.http.controllers import AppController
from blogsvc.http.problems import problem_responses
from blogsvc.pagination import MAX_ID

MAX_WAIT = 30.0

After = Annotated[
    int,
    Parameter(
        ge=0,
        le=MAX_ID,
        description="Events after this id: 0 from the start, else the next_after of the previous answer.",
        examples=[Example(value=1234)],
    ),
]
Limit = Annotated[
    int, Parameter(ge=1, le=1000, description="Events per answer at most.", examples=[Example(value=100)])
]
Wait = Annotated[
    float,
    Parameter(
        ge=0,
        le=MAX_WAIT,
        description="Seconds to wait for an event when none is there yet (a long poll); 0 answers at once.",
        examples=[Example(value=25)],
    ),
]
Types = Annotated[
    list[EventType] | None,
    QueryParameter(
        name="type",
        max_items=len(TYPES),
        description="Only events of these types (repeat it: type=blogsvc.user.deleted&type=blogsvc.article.deleted).",
        examples=[Example(value=["blogsvc.article.created", "blogsvc.article.updated"])],
    ),
]
_EVENTS = msgspec.json.Decoder(list[Event])


class EventController(AppController):
    path = "/events"
    tags = ["events"]

    @get("/", operation_id="listEvents", responses=problem_responses(400, 410))
    async def list_events(self, after: After = 0, limit: Limit = 100, wait: Wait = 0, types: Types = None) -> EventPage:
        """Follow every change of users and articles, in commit order, with no gaps."""
        db, watcher = self.state.db, self.state.feed_watcher
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            # What the watcher has seen before reading: with a type filter, a page can come back empty
            # although newer events exist; the next wait is for events beyond those.
            seen = watcher.head
            events = await feed.events_after(db, after, limit, types or ())
            remaining = deadline - loop.time()
            if events or remaining <= 0 or watcher.released:
                break
            await watcher.wait_beyond(max(after, seen), remaining)
        data = _EVENTS.decode(b"[" + b",".join(event.cloudevent for event in events) + b"]")
        return EventPage(data=data, next_after=events[-1].feed_id if events else after)
