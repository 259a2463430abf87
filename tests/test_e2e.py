"""End to end: a real `blogsvc serve` process over HTTP, and `blogsvc migrate` on a new database."""

from __future__ import annotations

import logging
import re
import secrets
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import httpx
import pymysql
import pytest
import yoyo

from blogsvc.db import migrate
from tests.e2e_server import ROOT, STOP_TIMEOUT, Server, service_env
from tests.helpers import new_user_body

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from blogsvc.config import DatabaseURL, Settings


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # No draining pause before the stop at teardown (test_sigterm_stops_the_server_cleanly keeps the default).
    running = Server(settings, tmp_path_factory.mktemp("serve") / "serve.log", BLOGSVC_DRAIN_DELAY="0")
    try:
        running.wait_until_healthy()
        yield running
    finally:
        running.stop()


def test_users_over_http(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=5) as http:
        created = http.post("/users", json=new_user_body())
        assert created.status_code == 201, created.text
        user = created.json()
        assert created.headers["location"] == f"/users/{user['id']}"
        fetched = http.get(created.headers["location"])
        assert fetched.status_code == 200
        assert fetched.json() == user
        assert fetched.headers["etag"]
        assert http.get(f"/users/{user['id']}", headers={"If-None-Match": fetched.headers["etag"]}).status_code == 304
        listed = http.get("/users", params={"email": user["email"]})
        assert listed.json()["data"] == [user]
        missing = http.get(f"/users/{2**31 - 1}")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")


def test_service_routes_and_docs(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=5) as http:
        info = http.get("/")
        assert info.status_code == 200
        assert info.json()["service"] == "blogsvc" and info.json()["docs"] == "/docs"
        schema = http.get("/openapi.json")
        assert schema.status_code == 200
        document = schema.json()
        assert re.fullmatch(r"3\.1\.\d+", document["openapi"]), document["openapi"]
        assert {"/users", "/users/{user_id}", "/users/{user_id}/restore", "/auth/verify"} <= set(document["paths"])
        for page in ("/docs", "/redoc"):
            response = http.get(page)
            assert response.status_code == 200, page
            assert response.headers["content-type"].startswith("text/html"), page
            assert "<html" in response.text.lower(), page


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_need_no_internet(server: Server, page: str) -> None:
    """API.md: /docs and /redoc work offline, their assets served by the service itself."""
    html = httpx.get(server.base_url + page, timeout=5).text
    external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+""", html)
    assert external == [], f"{page} loads {external}"


def test_sigterm_stops_the_server_cleanly(settings: Settings, tmp_path: Path) -> None:
    running = Server(settings, tmp_path / "serve.log")
    try:
        running.wait_until_healthy()
        started = time.monotonic()
        code = running.stop()
        assert code is not None, f"still running {STOP_TIMEOUT:g} s after SIGTERM:\n{running.output()}"
        assert time.monotonic() - started < STOP_TIMEOUT
        assert code == 0, f"exit code {code} after SIGTERM:\n{running.output()}"
    finally:
        running.stop()


# ---- migrate ----


def run_migrate(url: DatabaseURL, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        [sys.executable, "-m", "blogsvc", "migrate", *args],
        env=service_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def server_connection(url: DatabaseURL, database: str | None = None) -> pymysql.connections.Connection:
    return pymysql.connect(
        host=url.host, port=url.port, user=url.user, password=url.password, database=database, autocommit=True
    )


def tables(url: DatabaseURL) -> set[str]:
    conn = server_connection(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (url.database,))
            return {str(row[0]) for row in cursor.fetchall()}
    finally:
        conn.close()


def applied_migrations(url: DatabaseURL) -> int:
    conn = server_connection(url, url.database)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM _yoyo_migration")
            row = cursor.fetchone()
            assert row is not None
            return int(row[0])
    finally:
        conn.close()


def test_migrate_creates_the_database_and_rolls_back(settings: Settings) -> None:
    url = settings.database.with_database(f"blogsvc_e2e_{secrets.token_hex(4)}")
    migrations = len([p for p in (ROOT / "migrations").glob("*.sql") if not p.name.endswith(".rollback.sql")])
    assert migrations >= 1
    try:
        assert tables(url) == set()  # not there yet
        run_migrate(url)
        assert "users" in tables(url)
        assert applied_migrations(url) == migrations
        assert "nothing" in run_migrate(url).stdout  # a second run has nothing to do
        for left in range(migrations - 1, -1, -1):  # one migration per --rollback, newest first
            assert "users" in tables(url)
            run_migrate(url, "--rollback")
            assert applied_migrations(url) == left
        assert "users" not in tables(url)
        run_migrate(url)
        assert "users" in tables(url)
        assert applied_migrations(url) == migrations
    finally:
        conn = server_connection(url)
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{url.database}`")
        finally:
            conn.close()


def test_articles_written_before_slugs_get_unique_ones(settings: Settings) -> None:
    """0007 on articles an earlier version wrote: a slug each from its title, -2, -3 ... for the live ones
    whose titles make the same slug (by id), the id for one that would still collide; a deleted article
    keeps the plain slug; every one published when it was created."""
    url = settings.database.with_database(f"blogsvc_e2e_{secrets.token_hex(4)}")
    titles = ["Same", "Same!", "Same 2", "same", "Other title", "!!!"]  # the fourth is deleted before 0007
    # yoyo's progress lines would go to a stream an earlier test's logging set-up has closed.
    yoyo_log = logging.getLogger("yoyo")
    level = yoyo_log.level
    yoyo_log.setLevel(logging.WARNING)
    try:
        migrate.create_database(url)
        backend = yoyo.get_backend(url.to_url())
        before = yoyo.read_migrations(str(ROOT / "migrations")).filter(lambda m: m.id < "0007")
        with backend.lock():
            backend.apply_migrations(backend.to_apply(before))
        conn = server_connection(url, url.database)
        with conn.cursor() as cursor:
            cursor.execute("INSERT INTO users (email, password_hash, created_at) VALUES ('a@example.com', 'x', NOW(6))")
            author = cursor.lastrowid
            ids = []  # not 1, 2, 3 ... on Galera, whose nodes interleave auto-increment values
            for title in titles:
                cursor.execute(
                    "INSERT INTO articles (author_id, title, created_at) VALUES (%s, %s, NOW(6))", (author, title)
                )
                ids.append(cursor.lastrowid)
            cursor.execute("UPDATE articles SET deleted_at = NOW(6) WHERE id = %s", (ids[3],))
        run_migrate(url)
        with conn.cursor() as cursor:
            cursor.execute("SELECT title, slug, status, published_at = created_at FROM articles ORDER BY id")
            rows = cursor.fetchall()
        conn.close()
        assert [row[:2] for row in rows] == [
            ("Same", "same"),
            ("Same!", "same-2"),
            ("Same 2", f"same-2-{ids[2]}"),  # "same-2" is the second's by then: its id instead
            ("same", "same"),  # deleted: live articles only are unique
            ("Other title", "other-title"),
            ("!!!", "article"),
        ]
        assert all(row[2] == "published" and row[3] == 1 for row in rows)
    finally:
        yoyo_log.setLevel(level)
        conn = server_connection(url)
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{url.database}`")
        finally:
            conn.close()
