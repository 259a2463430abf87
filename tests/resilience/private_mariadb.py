"""A private MariaDB for tests that kill their database: its own data directory and port, started
from the installed server binaries by deploy/local-mariadb.sh, never the shared server."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pymysql
import pytest

from blogsvc.config import DatabaseURL
from tests.e2e_server import ROOT, free_port

if TYPE_CHECKING:
    from collections.abc import Mapping

SCRIPT = ROOT / "deploy" / "local-mariadb.sh"


class PrivateMariaDB:
    """One mariadbd on 127.0.0.1:<free port> with its data in `datadir`."""

    def __init__(self, datadir: Path, database: str) -> None:
        self.datadir = datadir
        self.url = DatabaseURL(user="root", password="", host="127.0.0.1", port=free_port(), database=database)

    def _script(self, command: str) -> None:
        env: Mapping[str, str] = os.environ | {
            "BLOGSVC_DATABASE_URL": self.url.to_url(),
            "BLOGSVC_LOCAL_DB_DIR": str(self.datadir),
        }
        done = subprocess.run([str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            pytest.fail(f"local-mariadb.sh {command} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        """Start it (initialising the data directory the first time); returns once it answers."""
        self._script("ensure")

    def stop(self) -> None:
        self._script("stop")

    def pid(self) -> int | None:
        """The pid of our mariadbd, if it runs (checked against its command line, not just the pid file)."""
        try:
            pid = int((self.datadir / "mariadbd.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        return pid if f"--datadir={self.datadir}".encode() in cmdline else None

    def kill(self) -> None:
        """kill -9, and wait until the process is gone."""
        pid = self.pid()
        assert pid is not None, "the private MariaDB is not running"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    def connect(self) -> pymysql.connections.Connection:
        url = self.url
        return pymysql.connect(
            host=url.host, port=url.port, user=url.user, password=url.password, database=url.database, autocommit=True
        )
