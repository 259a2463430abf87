"""The command line: help and version whatever the environment, the settings listed with secrets masked, a
database it cannot use said in one line, and one log format, without colours, for the parent and its workers."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING

import pytest

from blogsvc.config import FIELDS, variable
from tests.e2e_server import Server
from tests.test_config import blogsvc

if TYPE_CHECKING:
    from pathlib import Path

    from blogsvc.config import Settings

TOKEN = "t0ken-" + "x" * 40


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_work_whatever_the_settings(flag: str) -> None:
    result = blogsvc(flag, BLOGSVC_POOL_MAX="abc", BLOGSVC_DATABASE_URL="postgres://nope")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    if flag == "--version":
        assert re.fullmatch(r"blogsvc \d+\.\d+\.\d+\n", result.stdout)
    else:
        assert "blogsvc settings" in result.stdout
        assert all(variable(name) in result.stdout for name in FIELDS), result.stdout


def test_settings_lists_every_variable_with_secrets_masked() -> None:
    result = blogsvc(
        "settings",
        BLOGSVC_DATABASE_URL="mysql://app:s3cret-pw@db1:3306,db2:3307/blog",
        BLOGSVC_API_TOKENS=f"write:{TOKEN}",
        BLOGSVC_CURSOR_SECRET="cursor-s3cret",
        BLOGSVC_POOL_MAX="25",
    )
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("BLOGSVC_")}
    assert set(listed) == {variable(name) for name in FIELDS}
    assert listed["BLOGSVC_DATABASE_URL"].split()[1] == "mysql://app:***@db1:3306,db2:3307/blog"
    assert listed["BLOGSVC_POOL_MAX"].split()[1] == "25"
    for secret in ("s3cret-pw", TOKEN, "cursor-s3cret"):
        assert secret not in result.stdout
    assert listed["BLOGSVC_API_TOKENS"].split()[1].startswith("write:sha256:")


@pytest.mark.parametrize("command", [["settings"], ["migrate", "--help"]])
def test_commands_other_than_serve_need_no_metrics_directory(tmp_path: Path, command: list[str]) -> None:
    # As in the image: PROMETHEUS_MULTIPROC_DIR names a directory that only `serve` makes.
    missing = tmp_path / "blogsvc-metrics"
    result = blogsvc(*command, PROMETHEUS_MULTIPROC_DIR=str(missing))
    assert result.returncode == 0, result.stderr
    assert not missing.exists()


def test_settings_reports_a_bad_setting_in_one_line() -> None:
    result = blogsvc("settings", BLOGSVC_PORT="http")
    assert result.returncode == 2
    assert result.stderr.strip() == "blogsvc: BLOGSVC_PORT must be an integer from 1 to 65535, got 'http'"


def _database_url(settings: Settings, **parts: object) -> str:
    url = settings.database
    user, password = parts.get("user", url.user), parts.get("password", url.password)
    host, port, database = parts.get("host", url.host), parts.get("port", url.port), parts.get("database", url.database)
    return (
        f"mysql://{user}:{password}@{host}:{port}/{database}"
        if password
        else f"mysql://{user}@{host}:{port}/{database}"
    )


@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"]])
@pytest.mark.parametrize(
    ("parts", "said"),
    [
        ({"port": 1}, "(2003) Can't connect"),
        ({"password": "not-the-password"}, "(1045) Access denied"),
        ({"user": "nobody_at_all"}, "Access denied for user 'nobody_at_all'"),
    ],
    ids=["unreachable", "wrong-password", "unknown-user"],
)
def test_a_database_it_cannot_use_is_one_line(
    settings: Settings, command: list[str], parts: dict[str, object], said: str
) -> None:
    port = parts.get("port", settings.database.port)
    result = blogsvc(*command, BLOGSVC_DATABASE_URL=_database_url(settings, **parts), BLOGSVC_DB_CONNECT_TIMEOUT="2")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"blogsvc: cannot use the database at {settings.database.host}:{port}: "), line
    assert said in line
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_serve_says_in_one_line_that_the_database_does_not_exist(settings: Settings) -> None:
    result = blogsvc("serve", BLOGSVC_DATABASE_URL=_database_url(settings, database="no_such_blogsvc_database"))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "(1049) Unknown database 'no_such_blogsvc_database'" in line


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_parent_and_workers_log_in_one_format_without_colours(
    settings: Settings, tmp_path: Path, log_format: str
) -> None:
    server = Server(
        settings, tmp_path / "serve.log", workers=2, BLOGSVC_LOG_FORMAT=log_format, BLOGSVC_LOG_LEVEL="info"
    )
    try:
        server.wait_until_healthy()
        time.sleep(0.5)  # both workers have started
    finally:
        assert server.stop() == 0
    lines = server.output().splitlines()
    assert any("Started parent process" in line for line in lines), server.output()  # the parent's own line
    assert sum("Started server process" in line for line in lines) == 2, server.output()
    assert "\x1b[" not in server.output()  # no terminal: no escape codes
    for line in lines:
        if log_format == "json":
            assert isinstance(json.loads(line), dict), line
        else:
            assert re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z \[\w+\s*\] ", line), line


def test_an_otel_setting_blogsvc_cannot_honour_stops_it_at_once() -> None:
    result = blogsvc(
        "settings", OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4317", OTEL_EXPORTER_OTLP_PROTOCOL="grpc"
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "blogsvc: OTEL_EXPORTER_OTLP_PROTOCOL: blogsvc speaks http/protobuf only, got 'grpc'"
    )


@pytest.mark.parametrize("args", [["--stream", "a.b"], ["--prefix", "blog svc"], ["--stream", "x" * 101]])
def test_relay_refuses_a_stream_or_prefix_nats_cannot_take(args: list[str]) -> None:
    result = blogsvc("relay", "--nats", "nats://127.0.0.1:4222", *args)
    assert result.returncode == 2
    assert "up to 100 characters, none of . * > / \\ or space" in result.stderr


def test_relay_needs_a_nats_server() -> None:
    result = blogsvc("relay")
    assert result.returncode == 2
    assert "--nats" in result.stderr
