"""What uvicorn.run() does for `blogsvc serve`, but SIGHUP re-reads instead of restarting: with several
workers, uvicorn's supervisor answers SIGHUP by replacing every worker one by one (12 s for two here, and a
connection reset mid-request); this one passes SIGHUP on to each serving worker, whose app re-reads its token
file (security/token_file.py) and goes on serving. With one worker there is no supervisor: the app's own
handler takes SIGHUP once it has started, and until then SIGHUP is ignored rather than fatal."""

from __future__ import annotations

import logging
import os
import signal

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

log = logging.getLogger("uvicorn.error")


class Supervisor(Multiprocess):
    """uvicorn's multiprocess supervisor (it calls handle_<signal> for each signal it received)."""

    def handle_hup(self) -> None:
        # A worker still starting has no handler yet (SIGHUP would kill it); it reads the file as it starts.
        for process in self.processes:
            if process.pid is not None and process.is_ready(timeout=1):
                os.kill(process.pid, signal.SIGHUP)
        log.info("Received SIGHUP, passed on to the workers.")


def run(config: uvicorn.Config) -> int:
    """Serve until stopped; the exit status (uvicorn's STARTUP_FAILURE if a single worker could not start)."""
    if config.workers > 1:
        Supervisor(config, sockets=[config.bind_socket()]).run()
        return 0
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else STARTUP_FAILURE
