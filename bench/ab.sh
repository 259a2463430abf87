#!/usr/bin/env bash
# bench/ab.sh: two checkouts of blogsvc side by side, for measuring one change (A before, B after).
#
#   git worktree add /tmp/before <rev>
#   python3 bench/run.py --quick --only read --keep-db       # once: leaves the bench_blogsvc data
#   bench/ab.sh /tmp/before . [rounds] [lua script]           # default: 5 rounds, bench/lua/read.lua
#
# Serves each tree's package (with this repository's .venv, 1 worker, on :8098 and :8099) on the
# bench data, then runs wrk (-t2 -c32, 5 s) against A, B, A, B ... and prints each round's req/s and
# the server's CPU time per request (user + system, from /proc). CPU per request moves less than
# req/s when the machine's speed changes between rounds. Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$(realpath "$1") B=$(realpath "$2") ROUNDS=${3:-5} LUA=${4:-bench/lua/read.lua}
PYTHON=$PWD/.venv/bin/python
export BENCH_LUA_DIR=$PWD/bench/lua BLOGSVC_LOG_LEVEL=warning
export BLOGSVC_DATABASE_URL=${BLOGSVC_DATABASE_URL:-mysql://root@127.0.0.1:3306/bench_blogsvc}

serve() {  # tree port
    (cd "$1" && PYTHONPATH=$1 exec "$PYTHON" -m blogsvc serve --port "$2" --workers 1 >/dev/null 2>&1) &
    echo $!
}
PA=$(serve "$A" 8098) PB=$(serve "$B" 8099)
trap 'kill $PA $PB 2>/dev/null' EXIT
for port in 8098 8099; do
    for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.2; done
    # A full bench run drops the data at its end: without it every request would be a fast error.
    curl -sf -o /dev/null "http://127.0.0.1:$port/articles/1" \
        || { echo "GET /articles/1 on :$port failed: load the data with bench/run.py --keep-db (see above)" >&2; exit 1; }
    wrk -t2 -c32 -d2s -s "$LUA" "http://127.0.0.1:$port" >/dev/null  # warm-up
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
round() {  # port pid -> "req/s cpu_us_per_request"
    local before after out
    before=$(ticks "$2")
    out=$(wrk -t2 -c32 -d5s -s "$LUA" "http://127.0.0.1:$1")
    after=$(ticks "$2")
    echo "$out" | awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
        '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {printf "%d %.0f\n", r, t / hz * 1e6 / n}'
}
for i in $(seq "$ROUNDS"); do
    echo "round $i  A $(round 8098 "$PA")  B $(round 8099 "$PB")   (req/s, CPU µs per request)"
done
