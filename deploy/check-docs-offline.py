#!/usr/bin/env python3
"""Check that /docs (Swagger UI) and /redoc (ReDoc) work with no internet, in a real browser.

Starts `blogsvc serve` on a free port against a throwaway database (created with `blogsvc
migrate`, dropped at the end), then loads each page in Debian's headless Chromium with every host
name but 127.0.0.1 made unresolvable, so anything the pages tried to fetch from elsewhere fails.
It checks that:
  - every script, style sheet and icon the HTML names is a path on the service, and answers 200
    with a long cache lifetime (and so does every font those style sheets name);
  - the rendered page shows every operation of /openapi.json (Swagger UI: its opblock, by
    operationId, method and path; ReDoc: its operation section and path) and no error;
  - Chromium's network log holds no request to any other address.
It leaves a screenshot and the rendered DOM of each page in --out (default .local/docs-check/).

    .venv/bin/python deploy/check-docs-offline.py            # the whole check
    .venv/bin/python deploy/check-docs-offline.py --base-url http://127.0.0.1:8000
                                                             # a server already running

Chromium comes from Debian's package `chromium`; when it is missing and we are root, this runs
`apt-get update` and `apt-get install -y chromium` (unless --no-install). The database server is
the one of $BLOGSVC_DATABASE_URL (default mysql://root@127.0.0.1:3306/blogsvc).
"""

from __future__ import annotations

import argparse
import contextlib
import html.parser
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = "mysql://root@127.0.0.1:3306/blogsvc"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WAIT_MS = 15000
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
PAGE_ERRORS = {
    "docs": ("Failed to load API definition", "Unable to render this definition", "Could not render"),
    "redoc": ("Something went wrong", "Error downloading", "Invalid definition"),
}


class CheckFailed(Exception):
    pass


def log(msg: str) -> None:
    print(f"check-docs-offline: {msg}", flush=True)


# --- the server under test ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def blogsvc_command() -> list[str]:
    script = Path(sys.executable).parent / "blogsvc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "blogsvc"]


def get(url: str, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - our own http://127.0.0.1 URLs
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


@contextlib.contextmanager
def throwaway_server(out: Path) -> Iterator[str]:
    """`blogsvc migrate` and `blogsvc serve` on a fresh database; yields the base URL; drops it after."""
    import pymysql

    base = urllib.parse.urlsplit(os.environ.get("BLOGSVC_DATABASE_URL", DEFAULT_DB_URL))
    db_name = f"blogsvc_docs_{secrets.token_hex(4)}"
    env = dict(os.environ)
    env.update(
        BLOGSVC_DATABASE_URL=urllib.parse.urlunsplit(base._replace(path=f"/{db_name}")),
        BLOGSVC_WORKERS="1",
        BLOGSVC_LOG_LEVEL="warning",
    )
    port = free_port()
    server_log = out / "server.log"
    proc = None
    try:
        log(f"database {db_name} on {base.hostname}:{base.port or 3306}: blogsvc migrate")
        run = subprocess.run([*blogsvc_command(), "migrate"], env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if run.returncode != 0:
            raise CheckFailed(f"blogsvc migrate failed:\n{run.stdout}{run.stderr}")
        log(f"blogsvc serve on 127.0.0.1:{port} (log: {server_log})")
        with server_log.open("wb") as f:
            proc = subprocess.Popen(  # noqa: S603
                [*blogsvc_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                env=env,
                stdout=f,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise CheckFailed(f"blogsvc serve exited with {proc.returncode}:\n{server_log.read_text()}")
            with contextlib.suppress(OSError):
                if get(f"{url}/healthz", timeout=1)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise CheckFailed(f"blogsvc serve did not answer /healthz within 30 s:\n{server_log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with contextlib.suppress(Exception):
            conn = pymysql.connect(
                host=base.hostname or "127.0.0.1",
                port=base.port or 3306,
                user=urllib.parse.unquote(base.username or "root"),
                password=urllib.parse.unquote(base.password or ""),
            )
            with conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{db_name}`")
            log(f"dropped database {db_name}")


# --- what the HTML asks for ----------------------------------------------------------------


class _Refs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"] or "")
        elif tag == "link" and a.get("href"):
            self.refs.append(a["href"] or "")
        elif tag in ("img", "iframe", "source") and a.get("src"):
            self.refs.append(a["src"] or "")


def check_assets(base: str, page: str) -> list[str]:
    """Every resource the page's HTML names is ours and answers well; returns the URLs fetched."""
    status, headers, body = get(f"{base}/{page}")
    if status != 200 or "text/html" not in headers.get("content-type", ""):
        raise CheckFailed(f"/{page}: {status} {headers.get('content-type')}")
    text = body.decode()
    parser = _Refs()
    parser.feed(text)
    if not parser.refs:
        raise CheckFailed(f"/{page}: the HTML names no script or style sheet")
    foreign = [r for r in parser.refs if urllib.parse.urlsplit(r).netloc or r.startswith("//")]
    if foreign:
        raise CheckFailed(f"/{page} loads from elsewhere: {foreign}")
    # Outside the embedded OpenAPI document, nothing in the page should name another host.
    head = text.split("<body", 1)[0]
    absolute = re.findall(r"https?://[^\s\"'<>)]+", head)
    if absolute:
        raise CheckFailed(f"/{page}: absolute URLs in <head>: {absolute}")
    fetched = []
    queue = [urllib.parse.urljoin(f"{base}/{page}", r) for r in parser.refs]
    while queue:
        url = queue.pop(0)
        if url in fetched:
            continue
        fetched.append(url)
        status, headers, body = get(url)
        cache = headers.get("cache-control", "")
        if status != 200 or not body:
            raise CheckFailed(f"/{page}: {url} answered {status}")
        if "max-age=31536000" not in cache:
            raise CheckFailed(f"/{page}: {url} has cache-control {cache!r}")
        if url.endswith(".css"):
            for ref in CSS_URL.findall(body.decode()):
                if ref.startswith("data:"):
                    continue
                if urllib.parse.urlsplit(ref).netloc:
                    raise CheckFailed(f"/{page}: {url} loads {ref}")
                queue.append(urllib.parse.urljoin(url, ref))
    return fetched


# --- the browser ---------------------------------------------------------------------------


def find_chromium(install: bool) -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        raise CheckFailed("no chromium: apt-get install -y chromium (Debian's package)")
    log("installing Debian's chromium")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)  # noqa: S607
    subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=True, env=env)  # noqa: S607
    path = shutil.which("chromium")
    if not path:
        raise CheckFailed("apt-get installed chromium, but it is not on PATH")
    return path


def chromium(browser: str, url: str, action: list[str], netlog: Path) -> tuple[str, str]:
    """One headless run with a fresh profile and no name resolution but 127.0.0.1: (stdout, stderr)."""
    with tempfile.TemporaryDirectory(prefix="blogsvc-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter",
            "--enable-logging=stderr",
            "--v=0",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--log-net-log={netlog}",
            f"--virtual-time-budget={WAIT_MS}",
            *action,
            url,
        ]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if run.returncode != 0:
        raise CheckFailed(f"chromium exited with {run.returncode} on {url}:\n{run.stderr[-3000:]}")
    return run.stdout, run.stderr


def requested_urls(netlog: Path, page_url: str) -> tuple[set[str], set[str]]:
    """The URLs in Chromium's network log: (those the page asked for, those the browser itself did).

    Every request the page makes (a script, a style sheet, a font, an image, a fetch, a worker's,
    whatever host it names) carries the page's origin as its initiator; the page itself is the
    navigation. Chromium's own (update checks, account look-ups) have none. Both fail here
    anyway: no host name but 127.0.0.1 resolves.
    """
    try:
        log_json = json.loads(netlog.read_text())
    except (OSError, ValueError) as exc:
        raise CheckFailed(f"cannot read Chromium's network log {netlog}: {exc}") from exc
    start_job = log_json["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    parts = urllib.parse.urlsplit(page_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    page: set[str] = set()
    browser: set[str] = set()
    for event in log_json["events"]:
        params = event.get("params") or {}
        if event["type"] != start_job or "url" not in params:
            continue
        ours = params["url"] == page_url or params.get("initiator") == origin
        (page if ours else browser).add(params["url"])
    return page, browser


def blocked_by_csp(console: str) -> set[str]:
    """What the page's Content-Security-Policy kept it from loading, from Chromium's console log."""
    blocked = set()
    for line in console.splitlines():
        if "CONSOLE" in line and "Content Security Policy" in line:
            m = re.search(r"'((?:https?:|wss?:)?//[^']+)'", line)
            blocked.add(m.group(1) if m else line.split('"', 1)[-1][:200])
    return blocked


def script_errors(console: str) -> list[str]:
    """Uncaught exceptions the page's scripts logged to the console."""
    return [line.split('"', 1)[-1][:300] for line in console.splitlines() if "CONSOLE" in line and "Uncaught" in line]


def foreign(urls: set[str], base: str) -> list[str]:
    origin = urllib.parse.urlsplit(base)
    return sorted(
        u for u in urls if urllib.parse.urlsplit(u)[:2] != origin[:2] and not u.startswith(("data:", "blob:"))
    )


# --- what the pages show -------------------------------------------------------------------


def operations(base: str) -> list[dict[str, Any]]:
    status, _, body = get(f"{base}/openapi.json")
    if status != 200:
        raise CheckFailed(f"/openapi.json answered {status}")
    doc = json.loads(body)
    ops = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                ops.append({"method": method, "path": path, "id": op.get("operationId"), "tags": op.get("tags", [])})
    if not ops:
        raise CheckFailed("/openapi.json has no operations")
    return ops


def missing_in_swagger(dom: str, ops: list[dict[str, Any]]) -> list[str]:
    # Each operation is <div class="opblock opblock-METHOD ..." id="operations-TAG-OPERATIONID"> holding
    # <span class="opblock-summary-path" data-path="PATH">.
    blocks = re.findall(r'<div class="opblock opblock-(\w+)[^"]*" id="operations-([^"]*)"(.*?)</button>', dom, re.S)
    seen = set()
    for method, block_id, rest in blocks:
        path = re.search(r'data-path="([^"]*)"', rest)
        seen.add((method, block_id, path.group(1) if path else None))
    missing = []
    for op in ops:
        hit = any(
            m == op["method"]
            and p == html_escape(op["path"])
            and (op["id"] is None or block_id.endswith(f"-{op['id']}"))
            for m, block_id, p in seen
        )
        if not hit:
            missing.append(f"{op['method'].upper()} {op['path']} ({op['id']})")
    return missing


def missing_in_redoc(dom: str, ops: list[dict[str, Any]]) -> list[str]:
    # Each operation is a section with data-section-id="tag/TAG/operation/OPERATIONID" (or
    # "operation/OPERATIONID" when untagged) showing its method and path.
    sections = set(re.findall(r'data-section-id="([^"]*operation/[^"]*)"', dom))
    missing = []
    for op in ops:
        wanted = f"operation/{op['id']}" if op["id"] else None
        if (wanted and not any(s.endswith(wanted) for s in sections)) or html_escape(op["path"]) not in dom:
            missing.append(f"{op['method'].upper()} {op['path']} ({op['id']})")
    return missing


def html_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def check_page(browser: str, base: str, page: str, ops: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    url = f"{base}/{page}"
    fetched = check_assets(base, page)
    dom, dom_log = chromium(browser, url, ["--dump-dom"], out / f"{page}.dom.netlog.json")
    (out / f"{page}.dom.html").write_text(dom)
    shot = out / f"{page}.png"
    shot.unlink(missing_ok=True)
    _, shot_log = chromium(
        browser, url, [f"--screenshot={shot}", "--window-size=1280,2000"], out / f"{page}.png.netlog.json"
    )
    (out / f"{page}.chromium.log").write_text(dom_log + shot_log)
    if not shot.is_file() or shot.stat().st_size < 10_000:
        raise CheckFailed(f"/{page}: no screenshot, or an empty one ({shot})")
    uncaught = script_errors(dom_log + shot_log)
    if uncaught:
        raise CheckFailed(f"/{page}: script errors in the browser: {uncaught}")
    errors = [e for e in PAGE_ERRORS[page] if e in dom]
    if errors:
        raise CheckFailed(f"/{page} shows an error: {errors} (see {out / f'{page}.dom.html'})")
    missing = (missing_in_swagger if page == "docs" else missing_in_redoc)(dom, ops)
    if missing:
        raise CheckFailed(f"/{page} does not show {len(missing)} of {len(ops)} operations: {missing}")
    page_requests: set[str] = set()
    browser_requests: set[str] = set()
    for netlog in (out / f"{page}.dom.netlog.json", out / f"{page}.png.netlog.json"):
        ours, browsers = requested_urls(netlog, url)
        page_requests |= ours
        browser_requests |= browsers
    if url not in page_requests:
        raise CheckFailed(f"/{page}: the network log does not show the page itself; is --log-net-log working?")
    elsewhere = foreign(page_requests, base)
    if elsewhere:
        raise CheckFailed(f"/{page}: the page asked for other hosts: {elsewhere}")
    return {
        "operations": len(ops),
        "assets": len(fetched),
        "requests": sorted(page_requests),
        "browser_own": sorted({urllib.parse.urlsplit(u).hostname or u for u in browser_requests}),
        "blocked": sorted(blocked_by_csp(dom_log + shot_log)),
        "screenshot": str(shot),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--base-url", help="check a server already running there instead of starting one")
    ap.add_argument("--out", type=Path, default=REPO / ".local" / "docs-check", help="screenshots and DOMs")
    ap.add_argument("--no-install", action="store_true", help="never apt-get install chromium")
    args = ap.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        browser = find_chromium(install=not args.no_install)
        with contextlib.ExitStack() as stack:
            base = args.base_url.rstrip("/") if args.base_url else stack.enter_context(throwaway_server(out))
            ops = operations(base)
            log(f"{len(ops)} operations in {base}/openapi.json")
            for page in ("docs", "redoc"):
                result = check_page(browser, base, page, ops, out)
                log(
                    f"/{page}: all {result['operations']} operations rendered; {result['assets']} assets from the "
                    f"service; the page made {len(result['requests'])} requests, all to {base}; "
                    f"screenshot {result['screenshot']}"
                )
                for u in result["requests"]:
                    log(f"    {u}")
                for u in result["blocked"]:
                    log(f"    (blocked by the page's Content-Security-Policy, never requested: {u})")
                if result["browser_own"]:
                    log(
                        f"    (Chromium's own background requests, not the page's, unresolved: {result['browser_own']})"
                    )
    except CheckFailed as exc:
        log(f"FAILED: {exc}")
        return 1
    log("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
