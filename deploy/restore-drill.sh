#!/usr/bin/env bash
# The backup-and-restore drill: the procedure of docs/operations.md ("Backup and restore"), run end to
# end on this machine and checked.
#
#   deploy/restore-drill.sh          (or: make restore-drill, which make test runs)
#
#  1. A new database on the server of BLOGSVC_DATABASE_URL (default root@127.0.0.1:3306), migrated and
#     served by `blogsvc serve`; `blogsvc relay` publishes it to a stream of its own on the NATS of
#     BLOGSVC_NATS_URL (default nats://127.0.0.1:4222), when one with JetStream answers there.
#  2. Users, articles, updates, deletes and tags loaded through the API, then writers that keep writing
#     through it, recording every acknowledged write and its answer (deploy/restore-drill.py write).
#  3. While they write: the backup (mariadb-dump --single-transaction), its point noted. Writes stop;
#     what the old database gave out is read from it (feed ids, user and article ids).
#  4. A throwaway mariadbd (mariadb-install-db; its own datadir under a temp dir, another port; as
#     mysql when run as root), the dump loaded into it, and the documented step after a restore
#     (feed numbering and ids moved past what the old database gave out).
#  5. `blogsvc serve` and `blogsvc relay` on the restored database, then the checks
#     (deploy/restore-drill.py check, stream): every write acknowledged before the backup began is
#     there as acknowledged and nothing sent after it ended is, /readyz is 200, the feed's ids are
#     contiguous up to its head (then go on past the old database's) and each resource's last event is
#     the resource, tags, counts and search agree, a key stored before the backup replays and a later one
#     runs again, a new write works; the stream holds the old feed, then the restored one's new events.
#
# Exit status 0 when every check passed, else 1 with what failed. Whatever happens, everything it
# started is stopped by pid (servers, relays, the writer) and removed (temp dir, database, stream).
# Needs mariadb-server's mariadbd, mariadb-install-db, mariadb-dump and mariadb, curl, and make's .venv.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$REPO/.venv/bin
URL=${BLOGSVC_DATABASE_URL:-mysql://root@127.0.0.1:3306/blogsvc}
NATS=${BLOGSVC_NATS_URL:-nats://127.0.0.1:4222}
MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
BEGUN=$(date +%s.%N)

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; } # seconds since $1
say() { echo "restore-drill: [$(since "$BEGUN") s] $*"; }
FAILURE=""
die() { # die MESSAGE [LOG...]: the last lines of each log, then the message; exit 1
    local log
    FAILURE=$1
    shift
    for log; do
        if [ -s "$log" ]; then echo "--- the last lines of $log:" >&2; tail -n 20 "$log" >&2; fi
    done
    echo "restore-drill: FAILED: $FAILURE" >&2
    exit 1
}
for tool in "$MARIADBD" mariadb-install-db mariadb-dump mariadb curl "$BIN/blogsvc"; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install mariadb-server curl; make .venv/.installed)"
done

# The source server, from the URL (the first host of a cluster); the drill's own database on it.
DB=blogsvc_drill_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
parsed=$("$BIN/python" - "$URL" "$DB" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1].split(",")[0])
user, password, host, port = u.unquote(p.username or "root"), u.unquote(p.password or ""), p.hostname or "127.0.0.1", p.port or 3306
login = u.quote(user, safe="") + (":" + u.quote(password, safe="") if password else "")
print(user, password, host, port, f"mysql://{login}@{host}:{port}/{sys.argv[2]}", sep="\n")
PY
)
{ IFS= read -r SRC_USER; IFS= read -r SRC_PASS; IFS= read -r SRC_HOST; IFS= read -r SRC_PORT; IFS= read -r SRC_URL; } <<<"$parsed"

free_port() { "$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DST_PORT=$(free_port)
DST_URL=mysql://root@127.0.0.1:$DST_PORT/$DB
src_sql() { MYSQL_PWD=$SRC_PASS mariadb --no-defaults --protocol=tcp -h "$SRC_HOST" -P "$SRC_PORT" -u "$SRC_USER" "$@"; }
dst_sql() { mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$DST_PORT" -u root "$@"; }

# What this run started, for the clean-up: pids, and whether the source database exists.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/blogsvc-restore-drill.XXXXXX")
SOURCE_SERVE="" TARGET_SERVE="" SOURCE_RELAY="" TARGET_RELAY="" WRITER="" INSTALL="" TARGET_DB="" MADE_DB="" STREAM=""

stop_pid() { # stop_pid PID [SECONDS]: SIGTERM, SIGKILL after SECONDS (default 15); returns once it is gone
    local pid=$1 end=$((SECONDS + ${2:-15}))
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= end)); then kill -KILL "$pid" 2>/dev/null || true; fi
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    set +e
    stop_pid "$WRITER"
    stop_pid "$INSTALL"
    stop_pid "$TARGET_RELAY"
    stop_pid "$SOURCE_RELAY"
    stop_pid "$TARGET_SERVE"
    stop_pid "$SOURCE_SERVE"
    stop_pid "$TARGET_DB" 60
    [ -n "$MADE_DB" ] && src_sql -e "DROP DATABASE IF EXISTS \`$DB\`"
    [ -n "$STREAM" ] && "$BIN/python" "$REPO/deploy/restore-drill.py" drop-stream --nats "$NATS" --stream "$STREAM"
    rm -rf -- "$TMP"
    if ((status == 0)); then say "passed; cleaned up"; else say "failed (status $status): ${FAILURE:-interrupted}; cleaned up" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME URL ARGS...: `blogsvc ARGS...` on the database at URL, in the background, logging to NAME.log;
# sets STARTED to its pid. Only the settings the drill means: a cheap hasher, no drain delay, and one
# secret for every server (idempotency fingerprints are keyed by it: a key replays only where it is the same).
start() {
    local name=$1 url=$2 unset=() v
    shift 2
    for v in $(compgen -e); do [[ $v == BLOGSVC_* ]] && unset+=(-u "$v"); done
    env "${unset[@]}" BLOGSVC_DATABASE_URL="$url" BLOGSVC_CURSOR_SECRET=restore-drill BLOGSVC_LOG_LEVEL=warning \
        BLOGSVC_DRAIN_DELAY=0 BLOGSVC_ARGON2_TIME_COST=1 BLOGSVC_ARGON2_MEMORY_KIB=1024 \
        "$BIN/blogsvc" "$@" </dev/null >"$TMP/$name.log" 2>&1 &
    STARTED=$!
}

# serve NAME URL PORT: `blogsvc serve` on URL; returns once it answers, its pid in STARTED.
serve() {
    local name=$1 port=$3 i
    start "$name" "$2" serve --host 127.0.0.1 --port "$port" --workers 1
    for i in $(seq 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
        kill -0 "$STARTED" 2>/dev/null || die "blogsvc serve ($name) exited" "$TMP/$name.log"
        sleep 0.1
    done
    die "blogsvc serve ($name) did not answer within 30 s" "$TMP/$name.log"
}

# relay NAME URL: `blogsvc relay` from the database at URL to the drill's stream, when a NATS answers;
# its pid in STARTED (empty without one).
relay() {
    STARTED=""
    if [ -n "$STREAM" ]; then start "$1" "$2" relay --nats "$NATS" --stream "$STREAM" --prefix "$STREAM"; fi
}

# The throwaway server's data directory is made meanwhile (it takes seconds): its own, as mysql when root.
AS_USER=()
mkdir "$TMP/db"
if [ "$(id -u)" = 0 ]; then
    AS_USER=(--user=mysql)
    chmod 711 "$TMP"
    chown mysql: "$TMP/db"
fi
mariadb-install-db --no-defaults "${AS_USER[@]}" --datadir="$TMP/db/data" --skip-test-db \
    --auth-root-authentication-method=normal </dev/null >"$TMP/install.log" 2>&1 &
INSTALL=$!

# 1. The source: a new database, migrated and served.
say "source: database $DB on $SRC_HOST:$SRC_PORT"
MADE_DB=1
BLOGSVC_DATABASE_URL=$SRC_URL "$BIN/blogsvc" migrate >"$TMP/migrate.log" 2>&1 || die "blogsvc migrate failed" "$TMP/migrate.log"
SOURCE_PORT=$(free_port)
serve source "$SRC_URL" "$SOURCE_PORT"
SOURCE_SERVE=$STARTED
if BLOGSVC_NATS_URL=$NATS "$REPO/deploy/local-nats.sh" ping; then
    STREAM=$DB
    relay relay-source "$SRC_URL"
    SOURCE_RELAY=$STARTED
    say "migrated; blogsvc serve on port $SOURCE_PORT, blogsvc relay to stream $STREAM at $NATS"
else
    say "migrated; blogsvc serve on port $SOURCE_PORT; no NATS with JetStream at $NATS, so no relay (make restore-drill starts one)"
fi

# 2. Data through the API, then writers that keep writing.
"$BIN/python" "$REPO/deploy/restore-drill.py" write --base "http://127.0.0.1:$SOURCE_PORT" \
    --journal "$TMP/journal.json" --ready "$TMP/writing" --stop "$TMP/stop" >"$TMP/writer.log" 2>&1 &
WRITER=$!
for i in $(seq 600); do
    [ -e "$TMP/writing" ] && break
    kill -0 "$WRITER" 2>/dev/null || die "the writer stopped before it was under way" "$TMP/writer.log" "$TMP/source.log"
    ((i < 600)) || die "the writer was not under way within 60 s" "$TMP/writer.log" "$TMP/source.log"
    sleep 0.1
done
say "data loaded through the API; writers writing"

# 3. The backup, while they write: one consistent snapshot (no locks on the tables), with the triggers
#    and routines; the binary log position (GTID) too when the server keeps a binary log.
position=()
if [ "$(src_sql -N -B -e 'SELECT @@log_bin')" = 1 ]; then position=(--master-data=2 --gtid); fi
began=$(date +%s.%N)
MYSQL_PWD=$SRC_PASS mariadb-dump --no-defaults --protocol=tcp -h "$SRC_HOST" -P "$SRC_PORT" -u "$SRC_USER" \
    --single-transaction --triggers --routines --events --hex-blob --default-character-set=utf8mb4 \
    "${position[@]}" "$DB" >"$TMP/backup.sql" 2>"$TMP/dump.log" || die "mariadb-dump failed" "$TMP/dump.log"
ended=$(date +%s.%N)
point=$(grep -E '^-- (CHANGE MASTER TO MASTER_LOG_FILE|SET GLOBAL gtid_slave_pos)' "$TMP/backup.sql" | sed 's/^-- //' | paste -sd ' ' || true)
say "backup: $(wc -c <"$TMP/backup.sql") bytes in $(awk -v a="$began" -v b="$ended" 'BEGIN { printf "%.2f", b - a }') s; binary log position: ${point:-none (the server keeps no binary log)}"

# Writes go on a moment after the backup (the checks want some it cannot hold), then stop.
sleep 1
touch "$TMP/stop"
wait "$WRITER" || { WRITER=""; die "a write failed during the drill" "$TMP/writer.log" "$TMP/source.log"; }
WRITER=""
say "writes stopped: $(tail -n 1 "$TMP/writer.log")"

# What the old database gave out, read from it as an operator would when it can still be read: the last
# feed id, and the next user and article ids. The service stops first, and the relay once it has published
# everything (its sequencer numbers what the service left unnumbered), so nothing moves meanwhile.
stop_pid "$SOURCE_SERVE"
SOURCE_SERVE=""
if [ -n "$STREAM" ]; then
    caught_up="SELECT (SELECT COUNT(*) FROM events WHERE feed_id IS NULL) = 0 AND relayed_through = last_feed_id
                 FROM event_sequencer JOIN event_relays WHERE stream = '$STREAM'"
    for i in $(seq 300); do
        [ "$(src_sql -N -B "$DB" -e "$caught_up")" = 1 ] && break
        ((i < 300)) || die "the relay did not publish the whole feed within 30 s" "$TMP/relay-source.log"
        sleep 0.1
    done
    stop_pid "$SOURCE_RELAY"
    SOURCE_RELAY=""
fi
read -r FEED_THROUGH USERS_NEXT ARTICLES_NEXT < <(src_sql -N -B "$DB" -e "
    SELECT (SELECT last_feed_id FROM event_sequencer),
           (SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users'),
           (SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'articles')")
[[ $FEED_THROUGH =~ ^[0-9]+$ && $USERS_NEXT =~ ^[0-9]+$ && $ARTICLES_NEXT =~ ^[0-9]+$ ]] ||
    die "could not read the old database's last feed id and next ids"

# 4. A throwaway server: its own datadir and port, as mysql when we are root.
wait "$INSTALL" || { INSTALL=""; die "mariadb-install-db failed" "$TMP/install.log"; }
INSTALL=""
"$MARIADBD" --no-defaults "${AS_USER[@]}" --datadir="$TMP/db/data" --port="$DST_PORT" --bind-address=127.0.0.1 \
    --socket="$TMP/db/mysqld.sock" --pid-file="$TMP/db/mysqld.pid" --log-error="$TMP/db/error.log" \
    --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=64M </dev/null >/dev/null 2>&1 &
TARGET_DB=$!
for i in $(seq 600); do
    dst_sql -e 'SELECT 1' >/dev/null 2>&1 && break
    kill -0 "$TARGET_DB" 2>/dev/null || die "the throwaway mariadbd exited" "$TMP/db/error.log"
    ((i < 600)) || die "the throwaway mariadbd did not answer within 60 s" "$TMP/db/error.log"
    sleep 0.1
done
say "throwaway MariaDB on 127.0.0.1:$DST_PORT, datadir $TMP/db/data"

# The restore: the database as `blogsvc migrate` makes it, then the dump (tables, rows, then triggers:
# loading the rows fires none).
restore_began=$(date +%s.%N)
dst_sql -e "CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
dst_sql --default-character-set=utf8mb4 "$DB" <"$TMP/backup.sql" 2>"$TMP/restore.log" || die "loading the dump failed" "$TMP/restore.log"
read -r LAST_FEED_ID HEAD UNNUMBERED CLAIMS < <(dst_sql -N -B "$DB" -e "
    SELECT last_feed_id, (SELECT IFNULL(MAX(feed_id), 0) FROM events), (SELECT COUNT(*) FROM events WHERE feed_id IS NULL),
           (SELECT COUNT(*) FROM idempotency_keys WHERE status IS NULL)
      FROM event_sequencer")
[[ $HEAD =~ ^[0-9]+$ && $UNNUMBERED =~ ^[0-9]+$ ]] || die "could not read the restored feed's head"
[ "$LAST_FEED_ID" = "$HEAD" ] || die "the restored sequencer says $LAST_FEED_ID, its events end at $HEAD"
# A dump made without the TRIGGER privilege lacks the triggers, and mariadb-dump does not say so.
triggers="SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
[ "$(dst_sql -N -B "$DB" -e "$triggers")" = "$(src_sql -N -B "$DB" -e "$triggers")" ] ||
    die "the restored database has $(dst_sql -N -B "$DB" -e "$triggers") triggers, the source $(src_sql -N -B "$DB" -e "$triggers")"
say "restored in $(since "$restore_began") s; backup point: feed through $HEAD (+$UNNUMBERED" \
    "committed, numbered on start), $CLAIMS unfinished idempotency claims; the old database gave out feed ids" \
    "through $FEED_THROUGH, user ids below $USERS_NEXT, article ids below $ARTICLES_NEXT"

# After a restore, before anything serves it (docs/operations.md): number the feed on past every id the
# old database gave out, and ids too, so that none is given out twice to different changes or resources.
dst_sql "$DB" -e "
    UPDATE event_sequencer SET last_feed_id = GREATEST(last_feed_id, $FEED_THROUGH) WHERE id = 1;
    ALTER TABLE users AUTO_INCREMENT = $USERS_NEXT;
    ALTER TABLE articles AUTO_INCREMENT = $ARTICLES_NEXT;"

# 5. Serve and relay the restored database, and check.
TARGET_PORT=$(free_port)
serve restored "$DST_URL" "$TARGET_PORT"
TARGET_SERVE=$STARTED
relay relay-restored "$DST_URL"
TARGET_RELAY=$STARTED
"$BIN/python" "$REPO/deploy/restore-drill.py" check --base "http://127.0.0.1:$TARGET_PORT" \
    --journal "$TMP/journal.json" --began "$began" --ended "$ended" --restored-head "$HEAD" \
    --unnumbered "$UNNUMBERED" --feed-through "$FEED_THROUGH" --users-next "$USERS_NEXT" \
    --articles-next "$ARTICLES_NEXT" || die "the restored service failed the checks above" "$TMP/restored.log"
say "the restored service passed"
if [ -n "$STREAM" ]; then
    "$BIN/python" "$REPO/deploy/restore-drill.py" stream --nats "$NATS" --stream "$STREAM" \
        --base "http://127.0.0.1:$TARGET_PORT" --restored-head "$HEAD" --feed-through "$FEED_THROUGH" ||
        die "the stream failed the checks above" "$TMP/relay-source.log" "$TMP/relay-restored.log"
fi
