#!/usr/bin/env bash
# bench/backup_restore.sh: how long a backup and a restore of blogsvc's database take, by mariadb-dump
# and by mariabackup, for docs/operations.md ("Backup and restore").
#
#   bench/backup_restore.sh [ARTICLES]        # default 100000
#
# On throwaway servers only (their own datadirs under a temp dir, ports 47001-47003, as mysql when run as
# root; stopped and removed at the end): server A gets a database migrated by `blogsvc migrate` and
# 1,000 users and ARTICLES articles inserted through the triggers (so events, tags and counts are as the
# service makes them), its feed numbered. Then: mariadb-dump --single-transaction of it, and the dump
# loaded into a new database on server B; mariabackup --backup of A, --prepare, and --copy-back into an
# empty datadir C that a server then starts on. Each step's seconds are printed.
# Needs mariadb-server, mariadb-backup (apt-get install mariadb-backup) and the repository's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
BIN=$PWD/.venv/bin
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
command -v mariadb-backup >/dev/null || { echo "bench/backup_restore.sh: needs mariadb-backup" >&2; exit 1; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/blogsvc-backup-bench.XXXXXX")
AS_USER=()
if [ "$(id -u)" = 0 ]; then AS_USER=(--user=mysql) && chmod 711 "$DIR"; fi
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; done
    rm -rf -- "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
sql() { local port=$1; shift; mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -u root "$@"; }

server() { # server NAME PORT [empty]: start mariadbd on $DIR/NAME/data (made by mariadb-install-db unless it exists)
    local d=$DIR/$1
    mkdir -p "$d"
    if [ ! -d "$d/data" ]; then
        mariadb-install-db --no-defaults "${AS_USER[@]}" --datadir="$d/data" --skip-test-db \
            --auth-root-authentication-method=normal >"$d/install.log" 2>&1
    fi
    if [ ${#AS_USER[@]} -gt 0 ]; then chown -R mysql: "$d"; fi
    "$MARIADBD" --no-defaults "${AS_USER[@]}" --datadir="$d/data" --port="$2" --bind-address=127.0.0.1 \
        --socket="$d/mysqld.sock" --pid-file="$d/mysqld.pid" --log-error="$d/error.log" --skip-name-resolve \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --innodb-buffer-pool-size=256M \
        </dev/null >/dev/null 2>&1 &
    PIDS+=($!)
    until sql "$2" -e 'SELECT 1' >/dev/null 2>&1; do
        kill -0 "${PIDS[-1]}" 2>/dev/null || { tail -n 20 "$d/error.log" >&2; exit 1; }
        sleep 0.2
    done
}

server a 47001
BLOGSVC_DATABASE_URL=mysql://root@127.0.0.1:47001/blogsvc "$BIN/blogsvc" migrate >"$DIR/migrate.log" 2>&1
start=$(now)
sql 47001 blogsvc -e "
    INSERT INTO users (email, password_hash, first_name, created_at)
    SELECT CONCAT('u', seq, '@example.com'), 'x', CONCAT('User', seq), UTC_TIMESTAMP(6) FROM seq_1_to_1000;
    INSERT INTO articles (author_id, title, body, slug, status, published_at, tags, created_at)
    SELECT 1 + seq MOD 1000, CONCAT('Article number ', seq),
           REPEAT(CONCAT('Some words of article ', seq, ' on databases and their care. '), 8),
           CONCAT('article-', seq), 'published', UTC_TIMESTAMP(6),
           CONCAT('[\"', ELT(1 + seq MOD 7, 'a', 'b', 'c', 'd', 'e', 'f', 'g'), '\",\"t', seq MOD 50, '\"]'),
           UTC_TIMESTAMP(6)
      FROM seq_1_to_$N;
    SET @n = 0;
    UPDATE events SET feed_id = (@n := @n + 1) ORDER BY id;
    UPDATE event_sequencer SET last_feed_id = @n;"
echo "seeded: 1,000 users and $N articles in $(took "$start") s"
sql 47001 -N -B -e "
    SELECT CONCAT(table_name, ': ', table_rows, ' rows (estimated), ', ROUND((data_length + index_length) / 1048576), ' MiB')
      FROM information_schema.TABLES WHERE table_schema = 'blogsvc' AND data_length > 1048576 ORDER BY data_length DESC"

start=$(now)
mariadb-dump --no-defaults --protocol=tcp -h 127.0.0.1 -P 47001 -u root --single-transaction --triggers --routines \
    --events --hex-blob --default-character-set=utf8mb4 blogsvc >"$DIR/dump.sql"
echo "mariadb-dump: $(took "$start") s, $(du -m "$DIR/dump.sql" | cut -f1) MiB of SQL"
server b 47002
start=$(now)
sql 47002 -e "CREATE DATABASE blogsvc CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
sql 47002 --default-character-set=utf8mb4 blogsvc <"$DIR/dump.sql"
echo "loading the dump: $(took "$start") s"

start=$(now)
mariadb-backup --backup --target-dir="$DIR/backup" --host=127.0.0.1 --port=47001 --user=root \
    --datadir="$DIR/a/data" >"$DIR/backup.log" 2>&1
echo "mariabackup --backup: $(took "$start") s, $(du -sm "$DIR/backup" | cut -f1) MiB of files (the whole server)"
start=$(now)
mariadb-backup --prepare --target-dir="$DIR/backup" >"$DIR/prepare.log" 2>&1
echo "mariabackup --prepare: $(took "$start") s"
start=$(now)
mariadb-backup --copy-back --target-dir="$DIR/backup" --datadir="$DIR/c/data" >"$DIR/copy-back.log" 2>&1
server c 47003
echo "mariabackup --copy-back, and the server started on it: $(took "$start") s"

for port in 47002 47003; do
    counts=$(sql "$port" -N -B blogsvc -e "SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM events),
        (SELECT SUM(articles) FROM tags), (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'blogsvc')")
    echo "restored on port $port: articles, events, tag links, triggers: $counts"
done
