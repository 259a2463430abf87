"""Every named query parses, names are unique, every name is used by the code and every used name exists."""

from __future__ import annotations

import pytest

import blogsvc.app  # noqa: F401  (imports every repository, which take() their queries)
from blogsvc.db.queries import loaded_query_files, parse_queries, resource_dir


def test_every_sql_file_is_loaded_and_every_query_used() -> None:
    loaded = {f.path.name: f for f in loaded_query_files()}
    on_disk = {p.name for p in resource_dir("sql").glob("*.sql")}
    assert on_disk and set(loaded) == on_disk
    for query_file in loaded.values():
        assert query_file.unused() == [], f"{query_file.path.name} has queries no code takes"


def test_query_grammar() -> None:
    text = "-- header comment\n-- name: get_one^\n-- doc\nSELECT 1;\n\n-- name: write!\nUPDATE t SET a = 1;\n"
    queries, templates = parse_queries(text)
    assert templates == {}
    assert {name: (q.kind, q.sql) for name, q in queries.items()} == {
        "get_one": ("one", "SELECT 1"),
        "write": ("execute", "UPDATE t SET a = 1"),
    }


def test_fragments_are_put_into_the_queries_that_name_them() -> None:
    text = "-- fragment: cols\n-- shared\na, b\n-- name: one^\nSELECT {cols} FROM t;\n"
    text += "-- name: all\nSELECT {cols} FROM u;\n"
    queries, _ = parse_queries(text)
    assert {name: q.sql for name, q in queries.items()} == {"one": "SELECT a, b FROM t", "all": "SELECT a, b FROM u"}


def test_templates_keep_their_slots_until_filled() -> None:
    text = "-- fragment: cols\na, b\n-- template: by_key\n-- doc\nSELECT {cols} FROM t [force] ORDER BY [key] [dir];\n"
    text += "-- template: from_u\nFROM u WHERE j = '$[0]' AND k = '$[*]'\n"
    queries, templates = parse_queries(text)
    assert queries == {}
    by_key = templates["by_key"]
    assert by_key.sql == "SELECT a, b FROM t [force] ORDER BY [key] [dir]"
    query = by_key.fill("list_by_b_desc", "all", force="FORCE INDEX (ix_b)", key="b", dir="DESC")
    assert (query.name, query.kind, query.sql) == (
        "list_by_b_desc",
        "all",
        "SELECT a, b FROM t FORCE INDEX (ix_b) ORDER BY b DESC",
    )
    assert templates["from_u"].text() == "FROM u WHERE j = '$[0]' AND k = '$[*]'"  # JSON paths are no slots
    with pytest.raises(KeyError):
        by_key.fill("missing_a_slot", "all", key="b", dir="ASC")


@pytest.mark.parametrize(
    "text",
    [
        "-- name: one^\nSELECT {cols} FROM t;",  # no such fragment
        "-- fragment: cols\na, b\n-- name: one^\nSELECT 1;",  # a fragment no query uses
        "-- fragment: cols^\na, b\n-- name: one^\nSELECT {cols};",  # a fragment is not run: no suffix
        "-- fragment: one\na\n-- name: one^\nSELECT {one};",  # one name for both
        "SELECT 1;\n-- name: late^\nSELECT 2;",  # SQL before the first name
        "-- name: twice^\nSELECT 1;\n-- name: twice^\nSELECT 2;",  # duplicate name
        "-- name: Bad-Name^\nSELECT 1;",  # not an identifier
        "-- name: empty!\n-- only a comment\n",  # no SQL
        "-- template: one^\nSELECT [key];",  # a template's kind comes when it is filled
    ],
)
def test_bad_query_files_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_queries(text)
