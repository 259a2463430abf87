"""A real `blogsvc serve` process for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from blogsvc.config import DatabaseURL, Settings

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def service_env(url: DatabaseURL) -> dict[str, str]:
    """The environment of a blogsvc process on `url`, with a cheap hasher and no stray BLOGSVC_* or OTEL_*
    settings (traces stay off unless a test turns them on)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOGSVC_", "OTEL_"))}
    return env | {
        "BLOGSVC_DATABASE_URL": url.to_url(),
        "BLOGSVC_ARGON2_TIME_COST": "1",
        "BLOGSVC_ARGON2_MEMORY_KIB": "1024",
        "BLOGSVC_ARGON2_PARALLELISM": "1",
        "BLOGSVC_LOG_LEVEL": "warning",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A `blogsvc serve` subprocess; its output goes to a log file read back on failure."""

    def __init__(self, settings: Settings, log: Path, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
                [sys.executable, "-m", "blogsvc", "serve", "--port", str(self.port), "--workers", str(workers)],
                env=service_env(settings.database) | env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited early:\n{self.output()}"
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"/healthz did not answer within {START_TIMEOUT:g} s:\n{self.output()}")

    def stop(self) -> int | None:
        """SIGTERM, then the exit code, or None if it took longer than STOP_TIMEOUT (then it is killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
