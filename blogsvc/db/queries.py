"""The named queries of sql/*.sql, in aiosql's grammar: "-- name: <name><suffix>", then doc comments, then SQL.
(aiosql itself has no aiomysql adapter, so this is the small part of it the service needs.)

Two additions. "-- fragment: <name>" names a piece of SQL that several queries of the file share (a
projection, say), which they write as {name}. It is put in when the file is read, so the server sees
plain statements: a view would do the same, but MariaDB parses a view's definition again for every
statement that reads it (30-50 us of server CPU for a single-article read, measured).
"-- template: <name>" is a statement with [slots] (an index, a column, a direction) that a repository
fills from a fixed table of its own, making one named query for each combination it serves: lists that
may be sorted by any of several keys, each from its own index (sql/articles.sql)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The suffix says how a query is run: ^ one row, $ one value, (none) all rows,
# ! a write returning the affected row count, <! an insert returning the new id.
_KINDS = {"^": "one", "$": "value", "": "all", "!": "execute", "<!": "insert"}
_NAME_LINE = re.compile(
    r"^--\s*(?P<block>name|fragment|template):\s*(?P<name>\S*?)(?P<suffix><!|[\^$!])?\s*$", re.MULTILINE
)
_VALID_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_FRAGMENT_USE = re.compile(r"\{(\w*)\}")
_SLOT = re.compile(r"\[([a-z_]+)\]")
_PACKAGE = Path(__file__).resolve().parents[1]


def resource_dir(name: str) -> Path:
    """sql/ or migrations/: inside the installed package, else at the top of the source tree."""
    packaged = _PACKAGE / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name


@dataclass(frozen=True)
class Query:
    name: str
    kind: str
    sql: str


@dataclass(frozen=True)
class Template:
    name: str
    sql: str

    def fill(self, name: str, kind: str, **slots: str) -> Query:
        """The query `name` made of this template with every [slot] filled; KeyError for a slot not given."""
        return Query(name, kind, self.text(**slots))

    def text(self, **slots: str) -> str:
        """This template's SQL with its slots filled, to go in another's slot."""
        return _SLOT.sub(lambda use: slots[use[1]], self.sql)


class QueryFile:
    """The queries of one sql/*.sql file; take() them at import so a missing name fails early."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queries, self.templates = parse_queries(path.read_text(encoding="utf-8"), str(path))
        self.taken: set[str] = set()

    def take(self, name: str) -> Query:
        if name not in self.queries:
            raise KeyError(f"no query named {name!r} in {self.path}")
        self.taken.add(name)
        return self.queries[name]

    def template(self, name: str) -> Template:
        if name not in self.templates:
            raise KeyError(f"no template named {name!r} in {self.path}")
        self.taken.add(name)
        return self.templates[name]

    def unused(self) -> list[str]:
        return sorted((set(self.queries) | set(self.templates)) - self.taken)


def parse_queries(text: str, source: str = "<sql>") -> tuple[dict[str, Query], dict[str, Template]]:
    """Split a file into named queries and templates, with their fragments put in; reject bad names,
    duplicates, empty bodies, unknown fragments and unused ones."""
    matches = list(_NAME_LINE.finditer(text))
    if _has_sql(text[: matches[0].start()] if matches else text):
        raise ValueError(f"{source}: SQL before the first '-- name:' line")
    blocks: dict[str, tuple[str, str]] = {}  # name -> (kind, SQL); a fragment's kind is "fragment"
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        name, is_fragment = match["name"], match["block"] == "fragment"
        if not _VALID_NAME.fullmatch(name) or (is_fragment and match["suffix"]):
            raise ValueError(f"{source}: bad {match['block']} name {name + (match['suffix'] or '')!r}")
        if name in blocks:
            raise ValueError(f"{source}: {name!r} is defined twice")
        body = text[match.end() : following.start() if following else len(text)]
        sql = _strip_comments(body).strip().rstrip(";").strip()
        if not sql:
            raise ValueError(f"{source}: {name!r} has no SQL")
        kind = match["block"] if match["block"] != "name" else _KINDS[match["suffix"] or ""]
        if match["block"] == "template" and match["suffix"]:
            raise ValueError(f"{source}: a template says its kind when filled, not as {match['suffix']!r}")
        blocks[name] = (kind, sql)
    fragments = {name: sql for name, (kind, sql) in blocks.items() if kind == "fragment"}
    used: set[str] = set()

    def put_in(use: re.Match[str]) -> str:
        if use[1] not in fragments:
            raise ValueError(f"{source}: no fragment named {use[1]!r}")
        used.add(use[1])
        return fragments[use[1]]

    queries = {
        name: Query(name, kind, _FRAGMENT_USE.sub(put_in, sql))
        for name, (kind, sql) in blocks.items()
        if kind not in ("fragment", "template")
    }
    templates = {
        name: Template(name, _FRAGMENT_USE.sub(put_in, sql))
        for name, (kind, sql) in blocks.items()
        if kind == "template"
    }
    if unused := sorted(set(fragments) - used):
        raise ValueError(f"{source}: fragments no query uses: {', '.join(unused)}")
    return queries, templates


def _strip_comments(body: str) -> str:
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--"))


def _has_sql(text: str) -> bool:
    return bool(_strip_comments(text).strip())


_query_files: dict[str, QueryFile] = {}


def load_queries(name: str) -> QueryFile:
    """The queries of sql/<name>.sql, loaded once per process."""
    if name not in _query_files:
        _query_files[name] = QueryFile(resource_dir("sql") / f"{name}.sql")
    return _query_files[name]


def loaded_query_files() -> list[QueryFile]:
    return list(_query_files.values())
