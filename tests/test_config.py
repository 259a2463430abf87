"""Settings from the environment: defaults, parsing, and a ConfigError naming the variable for
every bad value, which the command line reports in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from blogsvc.config import ConfigError, DatabaseURL, from_env

ROOT = Path(__file__).resolve().parents[1]


def test_defaults() -> None:
    settings = from_env({})
    assert settings.database == DatabaseURL(user="root", password="", host="127.0.0.1", port=3306, database="blogsvc")
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, os.cpu_count() or 1)
    assert (settings.pool_min, settings.pool_max, settings.pool_acquire_timeout) == (1, 10, 5.0)
    assert (settings.pool_recycle, settings.db_connect_timeout, settings.db_driver) == (1800, 5.0, "aiomysql")
    assert settings.log_level == "info"
    assert settings.hash_concurrency == 1
    assert (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism) == (2, 19456, 1)
    assert settings.cursor_secret == ""


def test_variables_are_read() -> None:
    settings = from_env(
        {
            "BLOGSVC_DATABASE_URL": "mysql://app:p%40ss%3Aword@db.internal:3307/blog_prod",
            "BLOGSVC_POOL_MIN": "2",
            "BLOGSVC_POOL_MAX": " 30 ",
            "BLOGSVC_POOL_ACQUIRE_TIMEOUT": "2.5",
            "BLOGSVC_POOL_RECYCLE": "600",
            "BLOGSVC_DB_CONNECT_TIMEOUT": "3",
            "BLOGSVC_DB_DRIVER": "asyncmy",
            "BLOGSVC_HOST": "0.0.0.0",  # noqa: S104  (a value under test, not a bind)
            "BLOGSVC_PORT": "9000",
            "BLOGSVC_WORKERS": "3",
            "BLOGSVC_LOG_LEVEL": "DEBUG",
            "BLOGSVC_HASH_CONCURRENCY": "4",
            "BLOGSVC_ARGON2_TIME_COST": "2",
            "BLOGSVC_ARGON2_MEMORY_KIB": "1024",
            "BLOGSVC_ARGON2_PARALLELISM": "1",
            "BLOGSVC_CURSOR_SECRET": "s3cret",
        }
    )
    assert settings.database == DatabaseURL(
        user="app", password="p@ss:word", host="db.internal", port=3307, database="blog_prod"
    )
    assert settings.database.to_url() == "mysql://app:p%40ss%3Aword@db.internal:3307/blog_prod"
    assert (settings.pool_min, settings.pool_max, settings.pool_acquire_timeout) == (2, 30, 2.5)
    assert (settings.pool_recycle, settings.db_connect_timeout, settings.db_driver) == (600, 3.0, "asyncmy")
    assert (settings.host, settings.port, settings.workers, settings.log_level) == ("0.0.0.0", 9000, 3, "debug")  # noqa: S104
    assert (settings.hash_concurrency, settings.argon2_time_cost) == (4, 2)
    assert (settings.argon2_memory_kib, settings.argon2_parallelism) == (1024, 1)
    assert settings.cursor_secret == "s3cret"


def test_empty_values_mean_the_default() -> None:
    assert from_env({"BLOGSVC_PORT": "", "BLOGSVC_POOL_MAX": "", "BLOGSVC_DATABASE_URL": ""}) == from_env({})


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"BLOGSVC_POOL_MAX": "abc"}, "BLOGSVC_POOL_MAX"),
        ({"BLOGSVC_POOL_MAX": "0"}, "BLOGSVC_POOL_MAX"),
        ({"BLOGSVC_POOL_MIN": "-1"}, "BLOGSVC_POOL_MIN"),
        ({"BLOGSVC_POOL_MIN": "5", "BLOGSVC_POOL_MAX": "4"}, "BLOGSVC_POOL_MIN"),
        ({"BLOGSVC_POOL_MIN": "11"}, "BLOGSVC_POOL_MAX"),  # above the default maximum
        ({"BLOGSVC_PORT": "70000"}, "BLOGSVC_PORT"),
        ({"BLOGSVC_PORT": "0"}, "BLOGSVC_PORT"),
        ({"BLOGSVC_PORT": "80.5"}, "BLOGSVC_PORT"),
        ({"BLOGSVC_WORKERS": "0"}, "BLOGSVC_WORKERS"),
        ({"BLOGSVC_POOL_ACQUIRE_TIMEOUT": "soon"}, "BLOGSVC_POOL_ACQUIRE_TIMEOUT"),
        ({"BLOGSVC_POOL_ACQUIRE_TIMEOUT": "nan"}, "BLOGSVC_POOL_ACQUIRE_TIMEOUT"),
        ({"BLOGSVC_DB_CONNECT_TIMEOUT": "-1"}, "BLOGSVC_DB_CONNECT_TIMEOUT"),
        ({"BLOGSVC_POOL_RECYCLE": "0"}, "BLOGSVC_POOL_RECYCLE"),
        ({"BLOGSVC_LOG_LEVEL": "loud"}, "BLOGSVC_LOG_LEVEL"),
        ({"BLOGSVC_HASH_CONCURRENCY": "0"}, "BLOGSVC_HASH_CONCURRENCY"),
        ({"BLOGSVC_ARGON2_TIME_COST": "0"}, "BLOGSVC_ARGON2_TIME_COST"),
        ({"BLOGSVC_ARGON2_MEMORY_KIB": "4"}, "BLOGSVC_ARGON2_MEMORY_KIB"),
        ({"BLOGSVC_ARGON2_MEMORY_KIB": "16", "BLOGSVC_ARGON2_PARALLELISM": "4"}, "BLOGSVC_ARGON2_MEMORY_KIB"),
        ({"BLOGSVC_ARGON2_PARALLELISM": "x"}, "BLOGSVC_ARGON2_PARALLELISM"),
        ({"BLOGSVC_DB_DRIVER": "mysqlclient"}, "BLOGSVC_DB_DRIVER"),
        ({"BLOGSVC_DATABASE_URL": "postgres://x"}, "BLOGSVC_DATABASE_URL"),
        ({"BLOGSVC_DATABASE_URL": "mysql://root@localhost/blog-svc"}, "BLOGSVC_DATABASE_URL"),
        ({"BLOGSVC_DATABASE_URL": "mysql://root@localhost/"}, "BLOGSVC_DATABASE_URL"),
        ({"BLOGSVC_DATABASE_URL": "mysql://root@localhost/" + "d" * 65}, "BLOGSVC_DATABASE_URL"),
        ({"BLOGSVC_DATABASE_URL": "mysql://root@localhost/db`; DROP"}, "BLOGSVC_DATABASE_URL"),
        ({"BLOGSVC_DATABASE_URL": "mysql://root@localhost:99999/db"}, "BLOGSVC_DATABASE_URL"),
        ({"BLOGSVC_DATABASE_URL": "mysql://root@localhost:port/db"}, "BLOGSVC_DATABASE_URL"),
        ({"BLOGSVC_DATABASE_URL": "mysql:///db"}, "BLOGSVC_DATABASE_URL"),
        ({"BLOGSVC_DATABASE_URL": "not a url"}, "BLOGSVC_DATABASE_URL"),
    ],
    ids=lambda value: (
        ",".join(f"{k.removeprefix('BLOGSVC_')}={v[:20]}" for k, v in value.items())
        if isinstance(value, dict)
        else None
    ),
)
def test_a_bad_value_is_a_config_error_naming_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        from_env(env)


def blogsvc(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the command line with only these BLOGSVC_* variables set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BLOGSVC_")}
    return subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        [sys.executable, "-m", "blogsvc", *args],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", [["migrate"], ["migrate", "--rollback"], ["serve"]])
def test_cli_reports_a_bad_setting_in_one_line(command: list[str]) -> None:
    result = blogsvc(*command, BLOGSVC_POOL_MAX="abc")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "BLOGSVC_POOL_MAX" in lines[0]
    assert result.stdout == ""


def test_cli_rejects_a_bad_port_in_one_line() -> None:
    result = blogsvc("serve", "--port", "70000")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--port" in lines[0], result.stderr
