#!/usr/bin/env bash
# bench/ab.sh: two checkouts of blogsvc side by side, for measuring one change (A before, B after).
#
#   git worktree add /tmp/before <rev>
#   python3 bench/run.py --quick --only read --keep-db       # once: leaves the bench_blogsvc data
#   bench/ab.sh /tmp/before . [rounds] [lua script]           # default: 5 rounds, bench/lua/read.lua
#   AB_OWN_DATABASES=1 bench/ab.sh /tmp/before . 4 bench/lua/create_article.lua
#
# Serves each tree's package (with this repository's .venv, 1 worker, on :8098 and :8099) on the
# bench data, then runs wrk (-t2 -c32, 5 s) against A, B, A, B ... and prints each round's req/s and
# the server's and MariaDB's CPU time per request (user + system, from /proc). CPU per request moves
# less than req/s when the machine's speed changes between rounds. With AB_OWN_DATABASES=1 each tree
# gets a database of its own, migrated by its own code (ab_a, ab_b: 100 users, 100,000 articles,
# dropped afterwards), for changes to the schema or the triggers. Linux only; MariaDB's Sequence engine.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$(realpath "$1") B=$(realpath "$2") ROUNDS=${3:-5} LUA=${4:-bench/lua/read.lua}
PYTHON=$PWD/.venv/bin/python
export BENCH_LUA_DIR=$PWD/bench/lua BLOGSVC_LOG_LEVEL=warning
export BLOGSVC_DATABASE_URL=${BLOGSVC_DATABASE_URL:-mysql://root@127.0.0.1:3306/bench_blogsvc}

serve() {  # tree port database_url
    (cd "$1" && PYTHONPATH=$1 BLOGSVC_DATABASE_URL=$3 exec "$PYTHON" -m blogsvc serve --port "$2" --workers 1 >/dev/null 2>&1) &
    echo $!
}
own_database() {  # tree name -> BLOGSVC_DATABASE_URL of a fresh database migrated by that tree
    mariadb -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $2"
    (cd "$1" && PYTHONPATH=$1 BLOGSVC_DATABASE_URL=mysql://root@127.0.0.1:3306/$2 "$PYTHON" -m blogsvc migrate >/dev/null)
    mariadb -h127.0.0.1 -uroot "$2" -e "
        INSERT INTO users (email, password_hash, created_at) SELECT CONCAT('u', seq, '@example.com'), 'x', NOW(6) FROM seq_1_to_100;
        INSERT INTO articles (author_id, title, body, created_at) SELECT 1 + seq MOD 100, CONCAT('t', seq), 'b', NOW(6) FROM seq_1_to_100000;
        ANALYZE TABLE articles, users;" >/dev/null
    echo "mysql://root@127.0.0.1:3306/$2"
}
DB_A=$BLOGSVC_DATABASE_URL DB_B=$BLOGSVC_DATABASE_URL
if [ -n "${AB_OWN_DATABASES:-}" ]; then DB_A=$(own_database "$A" ab_a) DB_B=$(own_database "$B" ab_b); fi
PA=$(serve "$A" 8098 "$DB_A") PB=$(serve "$B" 8099 "$DB_B")
trap 'kill $PA $PB 2>/dev/null; [ -z "${AB_OWN_DATABASES:-}" ] || mariadb -h127.0.0.1 -uroot -e "DROP DATABASE ab_a; DROP DATABASE ab_b"' EXIT
for port in 8098 8099; do
    for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.2; done
    # A full bench run drops the data at its end: without it every request would be a fast error.
    curl -sf -o /dev/null "http://127.0.0.1:$port/articles/1" \
        || { echo "GET /articles/1 on :$port failed: load the data with bench/run.py --keep-db (see above)" >&2; exit 1; }
    wrk -t2 -c32 -d2s -s "$LUA" "http://127.0.0.1:$port" >/dev/null  # warm-up
done

DB_PID=$(pgrep -o mariadbd || echo "$$")
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
round() {  # port pid -> "req/s app_us db_us" (CPU per request)
    local before db_before after db_after out
    before=$(ticks "$2") db_before=$(ticks "$DB_PID")
    out=$(wrk -t2 -c32 -d5s -s "$LUA" "http://127.0.0.1:$1")
    after=$(ticks "$2") db_after=$(ticks "$DB_PID")
    echo "$out" | awk -v t=$((after - before)) -v d=$((db_after - db_before)) -v hz="$(getconf CLK_TCK)" \
        '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {printf "%d %.0f %.0f\n", r, t / hz * 1e6 / n, d / hz * 1e6 / n}'
}
for i in $(seq "$ROUNDS"); do
    echo "round $i  A $(round 8098 "$PA")  B $(round 8099 "$PB")   (req/s, app and MariaDB CPU µs per request)"
done
