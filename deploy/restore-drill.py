#!/usr/bin/env python3
"""The API half of deploy/restore-drill.sh (docs/operations.md, "Backup and restore").

restore-drill.py write --base URL --journal FILE --ready FILE --stop FILE
    Loads users, articles (with tags), updates, an article's delete and a user's (with its articles)
    through the API, then keeps writing from a few clients at once (creates with an Idempotency-Key,
    updates, deletes) until FILE --stop exists. Every write and its acknowledged answer go to the
    journal; --ready is created once the writers are under way. Exit status 1 if a write failed.

restore-drill.py check --base URL --journal FILE --began T --ended T --restored-head H
                       --unnumbered U --feed-through F --users-next N --articles-next N
    Against the service on the restored database: each resource is as the last write acknowledged
    before the backup began (T: seconds since the epoch) left it, or as a later acknowledged write
    sent before the backup ended; /readyz is 200; the feed's ids run 1..H, then on from F + 1 (the
    step after a restore moved the numbering past F), its U unnumbered events included, and each
    resource's last event is the resource; tags, counts and search agree with the articles;
    idempotency keys finished before the backup replay, those first sent after it run again; a new
    write works, with ids past what the old database gave out. Exit status 1 with each failed check.

restore-drill.py stream --nats URL --stream S --base URL --restored-head H --feed-through F
    The JetStream stream a relay filled from the old database, then (after the restore) from the restored
    one: once it has the restored feed's head, it holds ids 1..F (the old feed: H+1..F are events the
    restored database never had) then the restored feed's ids past F, each event as the feed gives it.

restore-drill.py drop-stream --nats URL --stream S
    Delete the stream (the clean-up).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.js.errors import NotFoundError

WRITERS = 3
TAGS = ["backup", "restore", "drill", "feed", "ops", "mariadb"]
PASSWORD = "correct horse battery"  # noqa: S105  (a throwaway user's)
ROLLED_BACK = "rolled the change back"  # a 503 that took no effect: the careful client's retry


@dataclass
class Write:
    """One acknowledged write: the request as sent, when, and the state of each resource it left."""

    method: str
    path: str
    body: str | None
    key: str | None
    sent: float
    acked: float
    status: int
    response: Any
    changes: list[tuple[str, Any]]  # (resource path, its body as GET would answer, or None: gone)


class WriteFailed(Exception):
    """A write the service did not acknowledge: the drill fails."""


@dataclass
class Client:
    http: httpx.AsyncClient
    journal: list[Write]

    async def write(self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
        """Make the write (again after a 503 that says nothing took effect) and journal it; its JSON answer.
        WriteFailed if it was not acknowledged."""
        content = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        for _ in range(10):
            sent = time.time()
            try:
                response = await self.http.request(method, path, content=content, headers=headers)
            except httpx.HTTPError as exc:
                raise WriteFailed(f"{method} {path}: no answer ({exc!r})") from exc
            if response.status_code != 503 or ROLLED_BACK not in response.text:
                break
            await asyncio.sleep(0.05)
        acked = time.time()
        if response.status_code not in (200, 201, 204):
            raise WriteFailed(f"{method} {path}: {response.status_code} {response.text[:300]}")
        answer = response.json() if response.content else None
        self.journal.append(Write(method, path, content, key, sent, acked, response.status_code, answer, []))
        return answer

    def changed(self, *changes: tuple[str, Any]) -> None:
        """The resources the last write left, and as what."""
        self.journal[-1].changes.extend(changes)


class Author:
    """A user and its live articles, written by one client at a time (so a resource's writes are in order)."""

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name
        self.path = ""
        self.live: list[str] = []
        self.n = 0

    async def create(self) -> None:
        body = {"email": f"{self.name}.{secrets.token_hex(4)}@example.com", "password": PASSWORD}
        user = await self.client.write("POST", "/users", body, key=secrets.token_hex(8))
        self.path = f"/users/{user['id']}"
        self.client.changed((self.path, user))

    async def add_article(self) -> None:
        self.n += 1
        tags = sorted({TAGS[self.n % len(TAGS)], TAGS[(self.n * 7) % len(TAGS)]})
        body = {"title": f"{self.name} {self.n}", "body": f"word{self.name}x{self.n} in a drill", "tags": tags}
        article = await self.client.write("POST", f"{self.path}/articles", body, key=secrets.token_hex(8))
        path = f"/articles/{article['id']}"
        self.live.append(path)
        self.client.changed((path, article))

    async def update_article(self) -> None:
        path = self.live[self.n % len(self.live)]
        self.n += 1
        body = {"title": f"{self.name} {self.n} (edited)", "tags": [TAGS[self.n % len(TAGS)]]}
        article = await self.client.write("PATCH", path, body)
        self.client.changed((path, article))

    async def delete_article(self) -> None:
        path = self.live.pop(0)
        await self.client.write("DELETE", path)
        self.client.changed((path, None))

    async def update_self(self) -> None:
        self.n += 1
        user = await self.client.write("PATCH", self.path, {"first_name": f"Name{self.n}", "city": "Lisbon"})
        self.client.changed((self.path, user))

    async def delete_self(self) -> None:
        await self.client.write("DELETE", self.path)
        self.client.changed((self.path, None), *((path, None) for path in self.live))
        self.live.clear()


async def load(client: Client) -> list[Author]:
    """Users, articles with tags, updates, an article's delete and a user's (its articles go with it)."""
    authors = [Author(client, f"author{i}") for i in range(WRITERS + 1)]
    for author in authors:
        await author.create()
        for _ in range(4):
            await author.add_article()
        await author.update_article()
        await author.update_self()
    await authors[0].delete_article()
    await authors[-1].delete_self()
    return authors[:WRITERS]


async def keep_writing(author: Author, stop: Path, started: asyncio.Event, ready_after: int) -> None:
    step = 0
    while not stop.exists():
        step += 1
        if step % 6 in (1, 2, 4) or len(author.live) < 2:
            await author.add_article()
        elif step % 6 in (3, 5):
            await author.update_article()
        elif step % 12 == 0:
            await author.update_self()
        else:
            await author.delete_article()
        if step == ready_after:
            started.set()
        await asyncio.sleep(0.005)


async def write(args: argparse.Namespace) -> int:
    journal: list[Write] = []
    async with httpx.AsyncClient(base_url=args.base, timeout=30) as http:
        client = Client(http, journal)
        authors = await load(client)
        started = [asyncio.Event() for _ in authors]
        tasks = [asyncio.create_task(keep_writing(a, args.stop, s, 5)) for a, s in zip(authors, started, strict=True)]
        waiting = asyncio.ensure_future(asyncio.gather(*(s.wait() for s in started)))
        done, _ = await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
        if waiting in done:
            args.ready.touch()
        else:  # a writer failed before all were under way: stop the others
            for task in [waiting, *tasks]:
                task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    args.journal.write_text(json.dumps([asdict(w) for w in journal]))
    failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    print(f"restore-drill.py: {len(journal)} writes acknowledged, {len(failures)} writers stopped by a failure")
    for failure in failures:
        print(f"restore-drill.py: FAILED: {failure!r}", file=sys.stderr)
    return 1 if failures else 0


# -- check --


class Checks:
    """The failed checks, each with what was found."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def expect(self, ok: bool, message: str) -> bool:
        if not ok:
            self.failed.append(message)
        return ok


async def get_all(http: httpx.AsyncClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a cursor-paged list."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (await http.get(path, params=params | ({"cursor": cursor} if cursor else {}))).raise_for_status().json()
        items += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def read_feed(http: httpx.AsyncClient, after: int = 0) -> list[dict[str, Any]]:
    """The numbered events after `after`, every page."""
    events: list[dict[str, Any]] = []
    while page := (await http.get("/events", params={"after": after, "limit": 1000})).raise_for_status().json()["data"]:
        events += page
        after = int(page[-1]["id"])
    return events


async def check_resources(
    http: httpx.AsyncClient, writes: list[Write], args: argparse.Namespace, checks: Checks
) -> dict[str, Any]:
    """Each resource as the last write acknowledged before the backup began left it, or as a later one sent
    before it ended (either may be in the snapshot); one made only after it began may be missing. The
    resources as restored (None: 404)."""
    history: dict[str, list[tuple[Write, Any]]] = {}  # in order: one client writes each resource
    for w in writes:
        for path, state in w.changes:
            history.setdefault(path, []).append((w, state))
    restored: dict[str, Any] = {}
    for path, states in history.items():
        response = await http.get(path)
        if not checks.expect(response.status_code in (200, 404), f"GET {path}: {response.status_code}"):
            continue
        got = restored[path] = response.json() if response.status_code == 200 else None
        acked_before = [i for i, (w, _) in enumerate(states) if w.acked < args.began]
        first = acked_before[-1] if acked_before else 0
        allowed = [state for i, (w, state) in enumerate(states) if i == first or (i > first and w.sent < args.ended)]
        if not acked_before:
            allowed.append(None)
        checks.expect(
            got in allowed,
            f"{path} restored as {got!r}; acknowledged before the backup began: "
            f"{states[first][1] if acked_before else 'nothing'!r}",
        )
    return restored


async def check_feed(
    http: httpx.AsyncClient, restored: dict[str, Any], args: argparse.Namespace, checks: Checks
) -> list[dict[str, Any]]:
    """Ids 1..H as restored, then F + 1 on (the unnumbered events, numbered on start); each resource's last
    event is the resource as it is, or its delete; none created twice (no trigger ran during the load)."""
    want = args.restored_head + args.unnumbered
    deadline = time.monotonic() + 20
    while len(events := await read_feed(http)) < want and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    ids = [int(e["id"]) for e in events]
    expected = [
        *range(1, args.restored_head + 1),
        *range(args.feed_through + 1, args.feed_through + 1 + args.unnumbered),
    ]
    checks.expect(
        ids == expected,
        f"feed ids {ids[:3]}...{ids[-3:]} ({len(ids)}), expected {expected[:3]}...{expected[-3:]} ({len(expected)})",
    )
    last: dict[str, dict[str, Any]] = {}
    created: Counter[str] = Counter()
    for event in events:
        last[event["subject"]] = event
        created[event["subject"]] += event["type"].endswith(".created")
    twice = [subject for subject, n in created.items() if n > 1]
    checks.expect(not twice, f"created twice in the feed (did a trigger run during the load?): {twice[:5]}")
    for path, got in restored.items():
        event = last.get(path)
        if got is None:
            ok = event is None or event["type"].endswith(".deleted")
            checks.expect(ok, f"{path} is gone, but its last event is {event and event['type']}")
        else:
            checks.expect(
                event is not None and event["data"] == got, f"{path}: its last event {event!r} is not {got!r}"
            )
    return events


async def check_derived(http: httpx.AsyncClient, restored: dict[str, Any], checks: Checks) -> None:
    """What the triggers and indexes keep agrees with the articles: tag counts, the live count, search."""
    live = {path: body for path, body in restored.items() if body is not None and path.startswith("/articles/")}
    tags = Counter(tag for body in live.values() for tag in body["tags"])
    listed = {t["name"]: t["articles"] for t in await get_all(http, "/tags", {"limit": 100})}
    checks.expect(listed == dict(tags), f"GET /tags says {listed}, the articles say {dict(tags)}")
    total = (await http.get("/articles", params={"count": "true", "limit": 1})).json().get("total")
    checks.expect(total == len(live), f"GET /articles?count=true says {total}, {len(live)} articles are live")
    if live:
        path, body = max(live.items())
        word = body["body"].split()[0]
        found = [a["id"] for a in (await http.get("/articles", params={"q": word})).json()["data"]]
        checks.expect(body["id"] in found, f"a search for {word!r} does not find {path}: {found}")


async def check_idempotency(
    http: httpx.AsyncClient, writes: list[Write], args: argparse.Namespace, checks: Checks
) -> None:
    """A key finished before the backup began is replayed; one first sent after it ended runs again."""
    keyed = [w for w in writes if w.key and w.method == "POST"]
    cases = (
        (next((w for w in reversed(keyed) if w.acked < args.began), None), True),
        (next((w for w in keyed if w.sent > args.ended), None), False),
    )
    for w, stored in cases:
        when = "before the backup" if stored else "after the backup"
        if not checks.expect(w is not None, f"the writer made no create with an Idempotency-Key {when}"):
            continue
        headers = {"Content-Type": "application/json", "Idempotency-Key": w.key}
        again = await http.post(w.path, content=w.body, headers=headers)
        replayed = again.headers.get("idempotent-replayed") == "true"
        if stored:
            ok = again.status_code == w.status and replayed and again.json() == w.response
        else:
            ok = again.status_code == 201 and not replayed and again.json()["id"] != w.response["id"]
        outcome = "replayed" if stored else "run again"
        checks.expect(
            ok, f"a retry of POST {w.path} keyed {when} was not {outcome}: {again.status_code} {again.text[:200]}"
        )


async def check_new_write(http: httpx.AsyncClient, head: int, args: argparse.Namespace, checks: Checks) -> None:
    """A user and an article: created, read back, ids past those the old database gave out, events after `head`."""
    email = f"after.{secrets.token_hex(4)}@example.com"
    user = await http.post("/users", json={"email": email, "password": PASSWORD})
    if not checks.expect(user.status_code == 201, f"POST /users: {user.status_code} {user.text[:300]}"):
        return
    uid = user.json()["id"]
    checks.expect(uid >= args.users_next, f"new user id {uid}: the old database may have given it out")
    article = await http.post(f"/users/{uid}/articles", json={"title": "After the restore", "tags": ["drill"]})
    if not checks.expect(article.status_code == 201, f"POST an article: {article.status_code} {article.text[:300]}"):
        return
    aid = article.json()["id"]
    checks.expect(aid >= args.articles_next, f"new article id {aid}: the old database may have given it out")
    checks.expect(
        (await http.get(f"/articles/{aid}")).json() == article.json(), f"GET /articles/{aid} is not as created"
    )
    deadline = time.monotonic() + 10
    while not (after := await read_feed(http, head)) or after[-1]["subject"] != f"/articles/{aid}":
        if time.monotonic() > deadline:
            checks.expect(False, f"the new article's event did not come after {head}: {after}")
            return
        await asyncio.sleep(0.1)
    ids = [int(e["id"]) for e in after]
    first = max(head, args.feed_through) + 1
    checks.expect(ids == list(range(first, first + len(ids))), f"the events after {head} are numbered {ids}")
    subjects = [e["subject"] for e in after]
    checks.expect(subjects[-2:] == [f"/users/{uid}", f"/articles/{aid}"], f"the events after {head}: {subjects}")


async def check(args: argparse.Namespace) -> int:
    writes = [Write(**w) for w in json.loads(args.journal.read_text())]
    checks = Checks()
    before = sum(w.acked < args.began for w in writes)
    during = sum(w.acked >= args.began and w.sent < args.ended for w in writes)
    print(
        f"restore-drill.py: {len(writes)} writes acknowledged: {before} before the backup began, "
        f"{during} sent while it ran, {len(writes) - before - during} after"
    )
    checks.expect(during > 0, "no write was made while the backup ran: the drill did not test an online backup")
    async with httpx.AsyncClient(base_url=args.base, timeout=30) as http:
        ready = await http.get("/readyz")
        checks.expect(ready.status_code == 200, f"/readyz answered {ready.status_code}: {ready.text[:300]}")
        restored = await check_resources(http, writes, args, checks)
        events = await check_feed(http, restored, args, checks)
        await check_derived(http, restored, checks)
        head = int(events[-1]["id"]) if events else 0
        await check_idempotency(http, writes, args, checks)
        await check_new_write(http, head, args, checks)
    for failure in checks.failed:
        print(f"restore-drill.py: FAILED: {failure}", file=sys.stderr)
    if checks.failed:
        return 1
    print(f"restore-drill.py: {len(restored)} resources as acknowledged; a feed of {len(events)} events that agrees")
    return 0


# -- the relay's stream --


async def stream_messages(nats_url: str, stream: str, wait_for: int, seconds: float) -> list[tuple[int, Any]]:
    """(Nats-Msg-Id, the event) of every message in `stream`, once its last is `wait_for` or `seconds` are up."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        deadline = time.monotonic() + seconds
        while True:
            last_seq = (await js.stream_info(stream)).state.last_seq
            last = await js.get_msg(stream, seq=last_seq) if last_seq else None
            if (last and int((last.headers or {})["Nats-Msg-Id"]) >= wait_for) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        messages = [await js.get_msg(stream, seq=seq) for seq in range(1, last_seq + 1)]
    finally:
        await nc.close()
    return [(int((m.headers or {})["Nats-Msg-Id"]), json.loads(m.data)) for m in messages]


async def check_stream(args: argparse.Namespace) -> int:
    async with httpx.AsyncClient(base_url=args.base, timeout=30) as http:
        feed = {int(e["id"]): e for e in await read_feed(http)}
    head = max(feed, default=0)
    messages = await stream_messages(args.nats, args.stream, head, 20)
    ids = [msg_id for msg_id, _ in messages]
    expected = [*range(1, args.feed_through + 1), *sorted(i for i in feed if i > args.feed_through)]
    checks = Checks()
    checks.expect(
        ids == expected,
        f"the stream's ids {ids[:3]}...{ids[-3:]} ({len(ids)}) are not 1..{args.feed_through} "
        f"then the restored feed's past it ({len(expected)}, through {head})",
    )
    published = dict(messages)
    differ = [i for i, event in feed.items() if published.get(i) != event]
    checks.expect(not differ, f"events of the restored feed missing from the stream or not as there: ids {differ[:10]}")
    lost = sum(args.restored_head < i <= args.feed_through for i in ids)
    for failure in checks.failed:
        print(f"restore-drill.py: FAILED: {failure}", file=sys.stderr)
    if checks.failed:
        return 1
    print(
        f"restore-drill.py: the stream has the old feed through {args.feed_through} ({lost} events the restored "
        f"database never had), then the restored feed on to {head}, in order"
    )
    return 0


async def drop_stream(args: argparse.Namespace) -> int:
    nc = await nats.connect(args.nats)
    try:
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(args.stream)
    finally:
        await nc.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    w = commands.add_parser("write")
    w.add_argument("--base", required=True)
    for name in ("journal", "ready", "stop"):
        w.add_argument(f"--{name}", type=Path, required=True)
    c = commands.add_parser("check")
    c.add_argument("--base", required=True)
    c.add_argument("--journal", type=Path, required=True)
    for name in ("began", "ended"):
        c.add_argument(f"--{name}", type=float, required=True)
    for name in ("restored-head", "unnumbered", "feed-through", "users-next", "articles-next"):
        c.add_argument(f"--{name}", type=int, required=True)
    st = commands.add_parser("stream")
    d = commands.add_parser("drop-stream")
    for sub in (st, d):
        sub.add_argument("--nats", required=True)
        sub.add_argument("--stream", required=True)
    st.add_argument("--base", required=True)
    for name in ("restored-head", "feed-through"):
        st.add_argument(f"--{name}", type=int, required=True)
    args = parser.parse_args()
    run = {"write": write, "check": check, "stream": check_stream, "drop-stream": drop_stream}[args.command]
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
