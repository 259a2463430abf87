#!/usr/bin/env bash
# Run the tests against a throwaway 3-node MariaDB Galera cluster (make test-galera), then remove it.
#
#   deploy/galera-test.sh [pytest arguments]     default: the whole suite, cluster tests included
#
# The cluster comes from deploy/galera.sh (needs mariadb-server, galera-4 and rsync; run as root,
# this script installs galera-4 and rsync if they are missing; about 10 s and 280 MB).
# BLOGSVC_DATABASE_URL names all three nodes, so the suite runs on the cluster, with node 1
# current; tests/resilience/test_galera.py, skipped elsewhere, kills a node under load. Environment:
#   GALERA_SH     the cluster script (default $REPO/deploy/galera.sh)
#   GALERA_DIR    where the nodes live (default a new /tmp/blogsvc-galera.XXXXXX, removed afterwards)
#   GALERA_BASE   base port (default the first free block from 24000 below the ephemeral range: SQL
#                 ports base+1..base+3, group, IST and SST ports base+101.., base+201.., base+301..)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GALERA_SH=${GALERA_SH:-$REPO/deploy/galera.sh}
if ! dpkg -s galera-4 >/dev/null 2>&1 || ! command -v rsync >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "galera-test: installing galera-4 and rsync" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q galera-4 rsync || { apt-get update -q && apt-get install -y -q galera-4 rsync; }
    else
        echo "galera-test: the cluster needs galera-4 and rsync; install them (Debian: apt-get install galera-4 rsync)" >&2
        exit 1
    fi
fi
[ -x "$GALERA_SH" ] || { echo "galera-test: no cluster script at $GALERA_SH (set GALERA_SH)" >&2; exit 1; }
GALERA_SH=$(cd "$(dirname "$GALERA_SH")" && pwd)/$(basename "$GALERA_SH")
export GALERA_DIR=${GALERA_DIR:-$(mktemp -d /tmp/blogsvc-galera.XXXXXX)}

# Not in the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default): there a
# killed node's ports are free for any outgoing connection to take, and one that did, or closed in the
# last 60 s (TIME-WAIT), keeps the node from binding it on restart ("Failed to open IST listener at
# tcp://127.0.0.1:34202 ... Address already in use", then "Will never receive state. Need to abort").
free_base() { # the first base port from $1 (in steps of 400) whose twelve ports are all free
    python3 - "$1" <<'PY'
import socket, sys
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low, high = map(int, f.read().split())
except OSError:
    low, high = 32768, 60999
def free(port):
    if low <= port <= high:
        return False
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
for base in range(int(sys.argv[1]), 65000, 400):
    if all(free(base + offset + node) for offset in (0, 100, 200, 300) for node in (1, 2, 3)):
        print(base)
        break
PY
}

trap '"$GALERA_SH" clean >/dev/null' EXIT
BASE=${GALERA_BASE:-$(free_base 24000)}
# A node now and then fails to join on a busy machine; one more try, on other ports, before giving up.
if ! "$GALERA_SH" start 3 "$BASE"; then
    [ -z "${GALERA_BASE:-}" ] || exit 1
    BASE=$(free_base $((BASE + 400)))
    echo "galera-test: the cluster did not start; once more on ports from $BASE" >&2
    "$GALERA_SH" start 3 "$BASE"
fi
export BLOGSVC_DATABASE_URL="mysql://root@127.0.0.1:$((BASE + 1)),127.0.0.1:$((BASE + 2)),127.0.0.1:$((BASE + 3))/blogsvc"
export BLOGSVC_GALERA_SH=$GALERA_SH
echo "galera-test: BLOGSVC_DATABASE_URL=$BLOGSVC_DATABASE_URL"
cd "$REPO"
.venv/bin/pytest "$@"
