"""An OTLP/HTTP endpoint that takes every export and keeps nothing, for measuring what traces cost blogsvc
(docs/benchmarks.md, "Traces"): its work is a collector's, so it does as little as one can.

    .venv/bin/python bench/otlp_sink.py [port]      # default 4318; prints the exports and bytes taken on exit
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 bench/ab.sh /tmp/before . 6
"""

from __future__ import annotations

import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

taken = {"exports": 0, "bytes": 0}


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporter's session expects

    def do_POST(self) -> None:
        taken["bytes"] += len(self.rfile.read(int(self.headers["Content-Length"])))
        taken["exports"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 4318), Sink)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        print(f"otlp_sink: {taken['exports']} exports, {taken['bytes']} bytes", flush=True)


if __name__ == "__main__":
    main()
