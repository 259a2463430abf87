#!/usr/bin/env bash
# Build the blogsvc image with podman, run it against the local MariaDB and smoke-test the API
# through it; what `make image-test` runs (not part of `make test`: it needs podman).
#
#   deploy/image-smoke.sh
#
# Steps: build the image; `blogsvc migrate` in a one-off container into a throwaway database;
# `blogsvc serve` in a detached container (--network host, read-only root filesystem with tmpfs
# /tmp like the Kubernetes manifests, 2 workers, cheap argon2); then with curl: /healthz, a user
# (201, 200 + ETag, 304), an article (201, 200), the user read back through asyncmy in a one-off
# container, /openapi.json, /docs and /redoc with their assets, /readyz and /metrics, a non-root
# uid, PID 1 is tini, the image HEALTHCHECK passes, no dev packages in the image, /readyz turns 503
# on SIGTERM, and `podman stop` ends the container with exit code 0 within the grace period. The
# container and the throwaway database are removed whatever happened.
#
# Environment (all optional):
#   IMAGE                 tag to build and test (default localhost/blogsvc:image-test)
#   BASE_IMAGE            base image (default the Dockerfile's own, python:3.11-slim-bookworm, when
#                         podman has it or can pull it; else localhost/python:bookworm, a local stand-in
#                         for machines that cannot pull from Docker Hub, when it exists)
#   HOST_CA_BUNDLE        host CA bundle mounted for pip during the build (default
#                         /etc/ssl/certs/ca-certificates.crt when present; set it empty for none)
#   SKIP_BUILD=1          test an already built IMAGE
#   BLOGSVC_DATABASE_URL  server to use (default mysql://root@127.0.0.1:3306/blogsvc); its user
#                         must be able to create and drop databases; the database name is
#                         replaced by a throwaway blogsvc_image_<random>
#   IMAGE_TEST_PORT       port to serve on (default 18080, or a free one when 18080 is taken)
#   STOP_TIMEOUT          seconds `podman stop` waits before SIGKILL (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/blogsvc:image-test}
DEFAULT_BASE=$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)
if [ -z "${BASE_IMAGE:-}" ]; then
    if podman image exists "$DEFAULT_BASE" || timeout 300 podman pull -q "$DEFAULT_BASE" >/dev/null 2>&1; then
        BASE_IMAGE=$DEFAULT_BASE
    elif podman image exists localhost/python:bookworm; then
        echo "image-smoke: cannot pull $DEFAULT_BASE; building on the local stand-in localhost/python:bookworm"
        BASE_IMAGE=localhost/python:bookworm
    fi
fi
HOST_CA_BUNDLE=${HOST_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}
BASE_URL_DB=${BLOGSVC_DATABASE_URL:-mysql://root@127.0.0.1:3306/blogsvc}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
SUFFIX=$(python3 -c 'import secrets; print(secrets.token_hex(4))')
DB_NAME=blogsvc_image_$SUFFIX
DB_URL=${BASE_URL_DB%/*}/$DB_NAME
NAME=blogsvc-image-test-$SUFFIX
PORT=${IMAGE_TEST_PORT:-$(python3 - <<'PY'
import socket
for port in (18080, 0):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(s.getsockname()[1])
        break
PY
)}
URL=http://127.0.0.1:$PORT
WORK=$(mktemp -d)
passed=0
failed=0
db_touched=0

say() { echo "image-smoke: $*"; }
ok() { passed=$((passed + 1)); say "ok   $*"; }
bad() { failed=$((failed + 1)); say "FAIL $*"; }
die() { bad "$*"; exit 1; }
check() { # check WHAT COMMAND...: ok when COMMAND succeeds
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# shellcheck disable=SC2329 # run by the EXIT trap
cleanup() {
    status=$?
    set +e
    if podman container exists "$NAME"; then
        if [ "$status" != 0 ] || [ "$failed" != 0 ]; then
            say "last lines of the container's log:"
            if [ -s "$WORK/container.log" ]; then tail -n 40 "$WORK/container.log"; else podman logs --tail 40 "$NAME" 2>&1; fi |
                sed 's/^/    /'
        fi
        podman rm -f -t 0 "$NAME" >/dev/null 2>&1
    fi
    podman rm -f -t 0 "$NAME-migrate" >/dev/null 2>&1
    if [ "$db_touched" = 1 ]; then
        # The image has PyMySQL, so the host needs no database client.
        if podman run --rm --network host --no-healthcheck -e "DB_URL=$DB_URL" "$IMAGE" python3 -c '
import os, urllib.parse as u, pymysql
p = u.urlsplit(os.environ["DB_URL"])
db = u.unquote(p.path.lstrip("/"))
c = pymysql.connect(host=p.hostname or "127.0.0.1", port=p.port or 3306,
                    user=u.unquote(p.username or "root"), password=u.unquote(p.password or ""))
c.cursor().execute("DROP DATABASE IF EXISTS `%s`" % db)
' >/dev/null 2>&1; then
            say "dropped database $DB_NAME"
        else
            say "could not drop database $DB_NAME: drop it by hand"
            [ "$status" = 0 ] && status=1
        fi
    fi
    rm -rf "$WORK"
    echo "image-smoke: $passed passed, $failed failed"
    [ "$failed" = 0 ] || [ "$status" != 0 ] || status=1
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ---------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-}" != 1 ]; then
    build=(podman build --format docker -t "$IMAGE")
    [ -n "${BASE_IMAGE:-}" ] && build+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
    if [ -n "$HOST_CA_BUNDLE" ] && [ -f "$HOST_CA_BUNDLE" ]; then
        build+=(-v "$HOST_CA_BUNDLE:/etc/ssl/certs/host-ca.crt:ro" --build-arg PIP_CERT=/etc/ssl/certs/host-ca.crt)
    fi
    say "building $IMAGE${BASE_IMAGE:+ on $BASE_IMAGE}"
    "${build[@]}" . >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log"; die "podman build"; }
    size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
    base_size=$(podman image inspect --format '{{.Size}}' "${BASE_IMAGE:-$DEFAULT_BASE}")
    ok "podman build ($(awk -v s="$size" -v b="$base_size" 'BEGIN {printf "%.0f MB, %.0f MB over the base", s / 1e6, (s - b) / 1e6}'))"
fi

# --- migrate, then serve -------------------------------------------------------------------
env_args=(
    -e "BLOGSVC_DATABASE_URL=$DB_URL"
    -e "BLOGSVC_PORT=$PORT"
    -e BLOGSVC_WORKERS=2
    -e BLOGSVC_ARGON2_TIME_COST=1 -e BLOGSVC_ARGON2_MEMORY_KIB=8192 -e BLOGSVC_ARGON2_PARALLELISM=1
    -e "BLOGSVC_CURSOR_SECRET=image-smoke-$SUFFIX"
    -e BLOGSVC_DRAIN_DELAY=3 -e BLOGSVC_SHUTDOWN_TIMEOUT=10
)
db_touched=1
say "migrating throwaway database $DB_NAME"
podman run --rm --name "$NAME-migrate" --network host --read-only --no-healthcheck "${env_args[@]}" \
    "$IMAGE" blogsvc migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; die "blogsvc migrate"; }
ok "blogsvc migrate: $(tail -n 1 "$WORK/migrate.log")"

# podman without systemd logs (harmless) errors about health-check timers: keep them in a file.
podman run -d --name "$NAME" --network host --read-only "${env_args[@]}" "$IMAGE" \
    >"$WORK/run.log" 2>&1 || { cat "$WORK/run.log"; die "podman run"; }
say "serving at $URL (container $NAME)"

# --- HTTP ------------------------------------------------------------------------------------
# req METHOD PATH [JSON] [extra curl args...]: sets CODE; the body is in $WORK/body, the headers in $WORK/headers.
req() {
    local method=$1 path=$2 data=${3:-}
    shift $(($# < 3 ? $# : 3))
    local args=(-sS -X "$method" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 10 "$@")
    [ -n "$data" ] && args+=(-H 'content-type: application/json' --data "$data")
    CODE=$(curl "${args[@]}" "$URL$path" 2>"$WORK/curl.err") || CODE=000
}
expect() { # expect CODE WHAT
    if [ "$CODE" = "$1" ]; then ok "$2 -> $CODE"; else bad "$2 -> $CODE, wanted $1: $(head -c 300 "$WORK/body" 2>/dev/null)"; fi
}
json() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/body" "$1"; }
header() { tr -d '\r' <"$WORK/headers" | awk -v h="$(echo "$1" | tr '[:upper:]' '[:lower:]')" -F': ' 'tolower($1) == h {print $2}' | tail -n 1; }

for i in $(seq 60); do
    req GET /healthz
    [ "$CODE" = 200 ] && break
    [ "$(podman inspect --format '{{.State.Running}}' "$NAME")" = true ] || die "the container exited before /healthz answered"
    [ "$i" = 60 ] && die "/healthz did not answer 200 within 60 s (last: $CODE)"
    sleep 1
done
ok "GET /healthz -> 200 after ${i} tries"

req POST /users "{\"email\": \"smoke-$SUFFIX@example.com\", \"password\": \"correct horse battery\", \"first_name\": \"Ada\"}"
expect 201 "POST /users"
[ "$CODE" = 201 ] || exit 1
user_id=$(json id)

req GET "/users/$user_id"
expect 200 "GET /users/$user_id"
etag=$(header etag)
if [ -n "$etag" ]; then ok "GET /users/$user_id has ETag $etag"; else bad "GET /users/$user_id has no ETag"; fi
req GET "/users/$user_id" "" -H "If-None-Match: $etag"
expect 304 "GET /users/$user_id with If-None-Match"

req POST "/users/$user_id/articles" '{"title": "Hello from the image", "body": "smoke"}'
expect 201 "POST /users/$user_id/articles"
[ "$CODE" = 201 ] || exit 1
article_id=$(json id)
req GET "/articles/$article_id"
expect 200 "GET /articles/$article_id"
author=$(json author)
check "article author is '$author'" [ "$author" = "smoke-$SUFFIX@example.com" ]

# The optional compiled driver (BLOGSVC_DB_DRIVER=asyncmy): its stripped extension modules load and
# talk to the server (pool, connection, protocol, cursor, converters).
email=$(podman run --rm --network host --read-only --no-healthcheck -e "DB_URL=$DB_URL" -e "USER_ID=$user_id" \
    "$IMAGE" python3 -c '
import asyncio, os, urllib.parse as u, asyncmy
async def main():
    p = u.urlsplit(os.environ["DB_URL"])
    pool = await asyncmy.create_pool(host=p.hostname or "127.0.0.1", port=p.port or 3306, minsize=1, maxsize=1,
                                     user=u.unquote(p.username or "root"), password=u.unquote(p.password or ""),
                                     db=u.unquote(p.path.lstrip("/")))
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT email FROM users WHERE id = %s", (int(os.environ["USER_ID"]),))
        print((await cur.fetchone())[0])
    pool.close()
    await pool.wait_closed()
asyncio.run(main())
' 2>"$WORK/asyncmy.err") || email="error: $(tail -n 1 "$WORK/asyncmy.err")"
check "asyncmy reads the user back ($email)" [ "$email" = "smoke-$SUFFIX@example.com" ]

req GET /openapi.json
expect 200 "GET /openapi.json"
version=$(json openapi)
case $version in 3.1*) ok "OpenAPI $version" ;; *) bad "OpenAPI version '$version'" ;; esac

# /docs and /redoc load their scripts and styles from the service itself (the docs-assets stage).
for page in /docs /redoc; do
    req GET "$page"
    expect 200 "GET $page"
    grep -o -E "(src|href)=[\"']/[^\"']+" "$WORK/body" | sed -E "s/^[a-z]+=[\"']//" | sort -u >"$WORK/assets"
    while read -r asset; do
        req GET "$asset"
        expect 200 "GET $asset"
    done <"$WORK/assets"
done

req GET /readyz
expect 200 "GET /readyz"
req GET /metrics
expect 200 "GET /metrics"
check "/metrics has blogsvc_* series" grep -q '^blogsvc_' "$WORK/body"

# --- the container ---------------------------------------------------------------------------
uid=$(podman exec "$NAME" id -u)
check "runs as a non-root uid ($uid)" [ "$uid" != 0 ]
pid1=$(podman exec "$NAME" cat /proc/1/comm)
check "PID 1 is tini ($pid1)" [ "$pid1" = tini ]
if podman healthcheck run "$NAME" >"$WORK/health.log" 2>&1; then ok "image HEALTHCHECK passes"; else bad "image HEALTHCHECK: $(cat "$WORK/health.log")"; fi
dev=$(podman exec "$NAME" python3 -c 'import importlib.util as u; print(" ".join(m for m in ("pytest", "mypy", "ruff", "hadolint", "pip") if u.find_spec(m)))')
check "no test or dev packages in the image${dev:+ (found: $dev)}" [ -z "$dev" ]

# --- graceful stop ---------------------------------------------------------------------------
start=$(date +%s.%N)
podman stop -t "$STOP_TIMEOUT" "$NAME" >/dev/null 2>"$WORK/stop.log" &
stop_pid=$!
# SIGTERM reached the workers through tini and uvicorn: for BLOGSVC_DRAIN_DELAY (3 s) they still
# accept, but /readyz says 503 so that load balancers stop sending traffic.
draining=0
for _ in $(seq 25); do
    req GET /readyz
    [ "$CODE" = 503 ] && { draining=1; break; }
    sleep 0.1
done
check "GET /readyz -> 503 once SIGTERM arrived (last: $CODE)" [ "$draining" = 1 ]
wait "$stop_pid" || { cat "$WORK/stop.log"; die "podman stop"; }
took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
if [ "$exit_code" = 0 ]; then
    ok "podman stop: exit code 0 after ${took} s (grace period ${STOP_TIMEOUT} s)"
else
    bad "podman stop: exit code $exit_code after ${took} s (137 means SIGKILL after the ${STOP_TIMEOUT} s grace period)"
fi
podman logs "$NAME" >"$WORK/container.log" 2>&1
if grep -q -E 'Traceback|Exception in ASGI' "$WORK/container.log"; then bad "tracebacks in the container's log"; else ok "no tracebacks in the container's log"; fi
exit 0
