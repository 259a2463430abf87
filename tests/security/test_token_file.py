"""BLOGSVC_API_TOKENS_FILE: read at start like BLOGSVC_API_TOKENS, then re-read while the app runs
(security/token_file.py), on real files: a change, a bad file, an empty one, a Kubernetes-style symlink swap."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import time
from typing import TYPE_CHECKING

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from blogsvc.app import create_app
from blogsvc.config import ConfigError, from_env, parse_tokens
from blogsvc.security.token_file import TokenFileWatcher
from blogsvc.security.tokens import TokenTable
from tests.e2e_server import service_env
from tests.test_config import blogsvc

if TYPE_CHECKING:
    from pathlib import Path

    from blogsvc.config import Settings

TOKEN_A = secrets.token_urlsafe(32)
TOKEN_B = secrets.token_urlsafe(32)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ---- at start ----


def test_the_file_holds_what_the_variable_would(tmp_path: Path) -> None:
    digest = hashlib.sha256(TOKEN_B.encode()).hexdigest()
    text = f"write:{TOKEN_A}\nread:sha256:{digest}\n"
    settings = from_env({"BLOGSVC_API_TOKENS_FILE": str(write(tmp_path / "tokens", text))})
    assert settings.api_tokens == parse_tokens(text) == from_env({"BLOGSVC_API_TOKENS": text}).api_tokens
    assert len(settings.api_tokens) == 2
    assert settings.api_tokens_file == str(tmp_path / "tokens")


def test_both_variables_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BLOGSVC_API_TOKENS and BLOGSVC_API_TOKENS_FILE are both set"):
        from_env(
            {
                "BLOGSVC_API_TOKENS": f"write:{TOKEN_A}",
                "BLOGSVC_API_TOKENS_FILE": str(write(tmp_path / "tokens", f"write:{TOKEN_B}")),
            }
        )


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "cannot read .*: No such file or directory"),
        (b"", "cannot read .*: Is a directory"),
        (f"write:{TOKEN_A}\nadmin:{TOKEN_B}\n".encode(), "entry 2 must start with read: or write:"),
        (f"write:{TOKEN_B[:20]}".encode(), "entry 1: a token must be 32 to 512 characters"),
        (b"write:\xff" + TOKEN_B.encode(), ".* is not UTF-8 text"),
    ],
    ids=["missing", "directory", "bad-scope", "short", "not-utf8"],
)
def test_a_bad_file_stops_start_up_without_quoting_it(tmp_path: Path, content: bytes | None, why: str) -> None:
    path = tmp_path / "tokens"
    if content == b"":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=f"^BLOGSVC_API_TOKENS_FILE: {why}") as raised:
        from_env({"BLOGSVC_API_TOKENS_FILE": str(path)})
    assert TOKEN_A[:16] not in str(raised.value) and TOKEN_B[:16] not in str(raised.value)


def test_serve_with_a_bad_file_exits_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "tokens", f"write:{TOKEN_A} root:{TOKEN_B}")
    done = blogsvc("serve", BLOGSVC_API_TOKENS_FILE=str(path), BLOGSVC_ENV="production")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "blogsvc: BLOGSVC_API_TOKENS_FILE: entry 2 must start with read: or write:"
    ]
    assert TOKEN_A not in done.stderr + done.stdout and TOKEN_B not in done.stderr + done.stdout


def test_an_empty_file_satisfies_production(tmp_path: Path) -> None:
    """Auth stays on with an empty file (every token is refused), so production does not refuse to start."""
    settings = from_env({"BLOGSVC_ENV": "production", "BLOGSVC_API_TOKENS_FILE": str(write(tmp_path / "t", "\n"))})
    assert settings.api_tokens == ()
    with pytest.raises(ConfigError, match="refusing to run open"):
        from_env({"BLOGSVC_ENV": "production", "BLOGSVC_API_TOKENS_FILE": ""})


def test_migrate_needs_no_token_file(settings: Settings, tmp_path: Path) -> None:
    """The migration Job and the relay do not mount the tokens: they leave the file unread."""
    missing = str(tmp_path / "not-mounted")
    assert (
        from_env({"BLOGSVC_ENV": "production", "BLOGSVC_API_TOKENS_FILE": missing}, read_tokens=False).api_tokens == ()
    )
    env = service_env(settings.database) | {"BLOGSVC_ENV": "production", "BLOGSVC_API_TOKENS_FILE": missing}
    done = blogsvc("migrate", **{k: v for k, v in env.items() if k.startswith("BLOGSVC_")})
    assert done.returncode == 0, done.stderr
    assert "applied nothing" in done.stdout
    assert blogsvc("settings", BLOGSVC_API_TOKENS_FILE=missing).returncode == 2  # serve and settings do read it


# ---- the watcher ----


@pytest.fixture
def table() -> TokenTable:
    return TokenTable(parse_tokens(f"write:{TOKEN_A}"))


def reloads(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "api tokens reloaded"]


def test_a_changed_file_replaces_the_tokens(
    tmp_path: Path, table: TokenTable, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "tokens", f"write:{TOKEN_A}")
    watcher = TokenFileWatcher(str(path), table)
    with caplog.at_level(logging.INFO, "blogsvc.security"):
        assert not watcher.check()  # the tokens config.py read: nothing to replace, nothing logged
        assert not watcher.check()
        assert reloads(caplog) == []
        write(path, f"write:{TOKEN_A} read:{TOKEN_B}")
        assert watcher.check()
        assert table.find(TOKEN_B.encode()) is not None and table.find(TOKEN_A.encode()) is not None
        write(path, f"read:{TOKEN_B}")  # A revoked
        assert watcher.check()
        assert table.find(TOKEN_A.encode()) is None
        assert [r.__dict__["count"] for r in reloads(caplog)] == [2, 1]
        assert watcher.check(force=True)  # SIGHUP: re-read though nothing changed
    assert TOKEN_A not in caplog.text and TOKEN_B not in caplog.text


def test_a_bad_file_keeps_the_last_tokens(tmp_path: Path, table: TokenTable, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path / "tokens", f"write:{TOKEN_A}")
    watcher = TokenFileWatcher(str(path), table)
    watcher.check()
    with caplog.at_level(logging.INFO, "blogsvc.security"):
        write(path, f"write:{TOKEN_A}, write:{TOKEN_B[:31]}")
        assert not watcher.check()
        assert not watcher.check()  # logged once per change, not once a second
        path.unlink()
        assert not watcher.check()
        assert not watcher.check()
        assert table.find(TOKEN_A.encode()) is not None
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert [r.__dict__["reason"] for r in errors] == [
            "entry 2: a token must be 32 to 512 characters of A-Z a-z 0-9 - . _ ~ + / "
            "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')",
            f"cannot read {path}: No such file or directory",
        ]
        write(path, f"write:{TOKEN_B}")
        assert watcher.check()
        assert table.find(TOKEN_B.encode()) is not None and table.find(TOKEN_A.encode()) is None
    assert TOKEN_A not in caplog.text and TOKEN_B[:31] not in caplog.text


def test_an_empty_file_refuses_every_token(tmp_path: Path, table: TokenTable) -> None:
    path = write(tmp_path / "tokens", f"write:{TOKEN_A}")
    watcher = TokenFileWatcher(str(path), table)
    watcher.check()
    write(path, "")
    assert watcher.check()
    assert table.tokens == ()
    assert table.find(TOKEN_A.encode()) is None


def test_a_kubernetes_symlink_swap_is_seen(tmp_path: Path, table: TokenTable) -> None:
    """A Secret volume: tokens -> ..data/tokens, ..data -> ..<timestamp>/. An update writes a new directory
    and renames a new ..data link over the old one. Here the new file has the same size and mtime as the
    old, so only its resolved path and inode tell them apart."""

    def version(name: str, text: str) -> Path:
        (tmp_path / name).mkdir()
        return write(tmp_path / name / "tokens", text)

    old = version("..2026_12_03_10_00_00.1", f"write:{TOKEN_A}")
    os.symlink(old.parent.name, tmp_path / "..data")
    os.symlink("..data/tokens", tmp_path / "tokens")
    watcher = TokenFileWatcher(str(tmp_path / "tokens"), table)
    assert not watcher.check()
    new = version("..2026_12_03_10_05_00.2", f"write:{TOKEN_B}")
    os.utime(new, ns=(old.stat().st_atime_ns, old.stat().st_mtime_ns))
    assert (new.stat().st_size, new.stat().st_mtime_ns) == (old.stat().st_size, old.stat().st_mtime_ns)
    assert not watcher.check()  # not swapped yet
    os.symlink(new.parent.name, tmp_path / "..data_tmp")
    os.rename(tmp_path / "..data_tmp", tmp_path / "..data")
    assert watcher.check()
    assert table.find(TOKEN_B.encode()) is not None and table.find(TOKEN_A.encode()) is None


# ---- in the app ----


async def test_the_app_follows_the_file(settings: Settings, tmp_path: Path) -> None:
    """An empty file: every protected route refused, the open ones open; then a token written to the file
    works within a couple of polls, without a restart."""
    path = write(tmp_path / "tokens", "")
    app = create_app(msgspec.structs.replace(settings, api_tokens=(), api_tokens_file=str(path)))
    bearer = {"Authorization": f"Bearer {TOKEN_A}"}
    async with AsyncTestClient(app) as client:
        assert (await client.get("/users")).status_code == 401
        assert (await client.get("/users", headers=bearer)).status_code == 401
        assert (await client.get("/healthz")).status_code == 200
        write(path, f"read:{TOKEN_A}")
        deadline = time.monotonic() + 3
        while (status := (await client.get("/users", headers=bearer)).status_code) == 401:
            assert time.monotonic() < deadline, "the new token was not accepted within 3 s"
            await asyncio.sleep(0.05)
        assert status == 200
        assert (await client.post("/users", json={}, headers=bearer)).status_code == 403
