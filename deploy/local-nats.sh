#!/usr/bin/env bash
# Make sure a NATS server with JetStream answers, for the change feed's relay and its tests.
#
#   deploy/local-nats.sh ensure   use the server at BLOGSVC_NATS_URL, or start a private one
#   deploy/local-nats.sh stop     stop the private server started by `ensure`
#   deploy/local-nats.sh ping     exit 0 if a server with JetStream answers at BLOGSVC_NATS_URL
#
# The private server keeps its JetStream files in its own directory; it needs no root and no system
# service. When nats-server is missing and this runs as root on Debian, it installs Debian's package.
#   BLOGSVC_NATS_URL        nats://host:port (default nats://127.0.0.1:4222)
#   BLOGSVC_LOCAL_NATS_DIR  the private server's directory (default $REPO/.local/nats)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
URL=${BLOGSVC_NATS_URL:-nats://127.0.0.1:4222}
NATS_DIR=${BLOGSVC_LOCAL_NATS_DIR:-$REPO/.local/nats}
hostport=${URL#nats://}
HOST=${hostport%:*}
PORT=${hostport##*:}

say() { echo "local-nats: $*"; }

# A NATS server greets with INFO {...}; JetStream is on when that says "jetstream":true.
ping_nats() {
    python3 - "$HOST" "$PORT" 2>/dev/null <<'PY'
import json, socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as s:
    line = s.makefile("rb").readline()
if not line.startswith(b"INFO "):
    sys.exit(1)
sys.exit(0 if json.loads(line[5:]).get("jetstream") else 3)
PY
}

nats_server() { command -v nats-server || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; }; }

private_pid() {
    local pid
    pid=$(cat "$NATS_DIR/nats-server.pid" 2>/dev/null) || return 1
    [ -r "/proc/$pid/cmdline" ] && tr '\0' '\n' <"/proc/$pid/cmdline" | grep -xF -- "$NATS_DIR/jetstream" >/dev/null && echo "$pid"
}

start_private() {
    local server pid i
    server=$(nats_server) || {
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "installing nats-server"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q nats-server >/dev/null ||
                { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nats-server >/dev/null; }
            server=$(nats_server)
        else
            say "no NATS answers at $HOST:$PORT and nats-server is not installed (Debian: apt-get install nats-server)" >&2
            exit 1
        fi
    }
    mkdir -p "$NATS_DIR/jetstream" && NATS_DIR=$(cd "$NATS_DIR" && pwd)
    setsid nohup "$server" -a "$HOST" -p "$PORT" -js -sd "$NATS_DIR/jetstream" -P "$NATS_DIR/nats-server.pid" \
        -l "$NATS_DIR/nats-server.log" </dev/null >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 30); do
        ping_nats && break
        kill -0 "$pid" 2>/dev/null || { say "nats-server exited; $NATS_DIR/nats-server.log says:" >&2; tail -n 20 "$NATS_DIR/nats-server.log" >&2; exit 1; }
        [ "$i" = 30 ] && { say "nats-server did not answer within 15 s" >&2; exit 1; }
        sleep 0.5
    done
    say "started a private NATS with JetStream in $NATS_DIR on $HOST:$PORT (stop it with deploy/local-nats.sh stop)"
}

case "${1:-}" in
ping) ping_nats ;;
ensure)
    status=0
    ping_nats || status=$?
    if [ "$status" = 0 ]; then
        say "using the server at $HOST:$PORT"
    elif [ "$status" = 3 ]; then
        say "the NATS server at $HOST:$PORT runs without JetStream; start it with -js" >&2
        exit 1
    elif [[ $HOST != 127.0.0.1 && $HOST != localhost ]]; then
        say "no NATS answers at $HOST:$PORT; start one with JetStream, or set BLOGSVC_NATS_URL" >&2
        exit 1
    else
        start_private
    fi ;;
stop)
    if pid=$(private_pid); then
        kill -TERM "$pid"
        say "stopped the private NATS in $NATS_DIR"
    else
        say "no private NATS runs from $NATS_DIR; nothing to stop"
    fi ;;
*) echo "usage: $0 ensure|stop|ping" >&2; exit 2 ;;
esac
