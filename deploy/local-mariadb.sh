#!/usr/bin/env bash
# Make sure a MariaDB server answers for local development and tests.
#
#   deploy/local-mariadb.sh ensure   use the server at BLOGSVC_DATABASE_URL, or start a private one
#   deploy/local-mariadb.sh stop     stop the private server started by `ensure`
#   deploy/local-mariadb.sh ping     exit 0 if a server answers at BLOGSVC_DATABASE_URL
#
# The private server lives in its own data directory and port, so it needs no root, no
# system service and no change to any system MariaDB.  Environment:
#   BLOGSVC_DATABASE_URL   mysql://user[:password]@host[:port]/db (default mysql://root@127.0.0.1:3306/blogsvc)
#   BLOGSVC_LOCAL_DB_DIR   data directory of the private server (default $REPO/.local/mariadb)
#   MARIADBD, MARIADB_INSTALL_DB   server binaries (default: found on PATH or in /usr/sbin)
#   MARIADB_ADMIN          client used to ping (default mariadb-admin); set it empty to ping with python3 only
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
URL=${BLOGSVC_DATABASE_URL:-mysql://root@127.0.0.1:3306/blogsvc}
DB_DIR=${BLOGSVC_LOCAL_DB_DIR:-$REPO/.local/mariadb}
MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
MARIADB_INSTALL_DB=${MARIADB_INSTALL_DB:-$(command -v mariadb-install-db || echo /usr/bin/mariadb-install-db)}
MARIADB_ADMIN=${MARIADB_ADMIN-$(command -v mariadb-admin || command -v mysqladmin || true)}

# urllib.parse copes with percent-escapes and missing parts; one field per line.
parsed=$(python3 - "$URL" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.unquote(p.username or "root"), u.unquote(p.password or ""), p.hostname or "127.0.0.1", p.port or 3306, sep="\n")
PY
)
{ IFS= read -r DB_USER; IFS= read -r DB_PASS; IFS= read -r DB_HOST; IFS= read -r DB_PORT; } <<<"$parsed"

say() { echo "local-mariadb: $*"; }

# "Answers" means a MariaDB handshake, not just an open port.  `mariadb-admin ping` exits 0 even
# on "access denied", but not on "host not allowed" (1130), so then also read the server greeting
# ourselves: protocol 10, or an error packet, both mean a server answers.  python3 is always there.
ping_db() {
    if [ -n "$MARIADB_ADMIN" ] && MYSQL_PWD=$DB_PASS "$MARIADB_ADMIN" --no-defaults --protocol=tcp \
        -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" --connect-timeout=2 ping >/dev/null 2>&1; then
        return 0
    fi
    python3 - "$DB_HOST" "$DB_PORT" 2>/dev/null <<'PY'
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as s:
    head = s.makefile("rb").read(5)
sys.exit(0 if len(head) == 5 and head[4] in (10, 0xFF) else 1)
PY
}

# The pid file alone could be stale or recycled: only trust a live mariadbd on our datadir.
private_pid() {
    local pid
    pid=$(cat "$DB_DIR/mariadbd.pid" 2>/dev/null) || return 1
    [ -r "/proc/$pid/cmdline" ] && tr '\0' '\n' <"/proc/$pid/cmdline" | grep -xF -- "--datadir=$DB_DIR" >/dev/null && echo "$pid"
}

start_private() {
    # mariadbd refuses to run as root unless told to.
    local as_user=() pid i
    [ "$(id -u)" = 0 ] && as_user=(--user=root)
    mkdir -p "$DB_DIR" && DB_DIR=$(cd "$DB_DIR" && pwd)
    if [ ! -d "$DB_DIR/mysql" ]; then
        "$MARIADB_INSTALL_DB" --no-defaults --datadir="$DB_DIR" --auth-root-authentication-method=normal \
            "${as_user[@]}" >"$DB_DIR/install.log" 2>&1 || { cat "$DB_DIR/install.log" >&2; exit 1; }
    fi
    # setsid + nohup: the server must outlive this script and its terminal.
    setsid nohup "$MARIADBD" --no-defaults --datadir="$DB_DIR" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --socket="$DB_DIR/mysqld.sock" --pid-file="$DB_DIR/mariadbd.pid" --log-error="$DB_DIR/error.log" \
        --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        "${as_user[@]}" </dev/null >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 30); do
        ping_db && break
        kill -0 "$pid" 2>/dev/null || { say "mariadbd exited; see $DB_DIR/error.log:" >&2; tail -n 20 "$DB_DIR/error.log" >&2; exit 1; }
        [ "$i" = 30 ] && { say "mariadbd did not answer within 30 s; see $DB_DIR/error.log" >&2; exit 1; }
        sleep 1
    done
    # install-db creates root@127.0.0.1 but no other user; with --skip-name-resolve a TCP login
    # from 127.0.0.1 never matches user@localhost, so give the URL's user a 127.0.0.1 account.
    if ! MYSQL_PWD=$DB_PASS mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$DB_PORT" -u "$DB_USER" -e 'select 1' >/dev/null 2>&1; then
        local u=${DB_USER//\'/\'\'} p=${DB_PASS//\\/\\\\}
        p=${p//\'/\'\'}
        mariadb --no-defaults --socket="$DB_DIR/mysqld.sock" -u root -e \
            "CREATE USER IF NOT EXISTS '$u'@'127.0.0.1' IDENTIFIED BY '$p'; GRANT ALL ON *.* TO '$u'@'127.0.0.1' WITH GRANT OPTION;"
    fi
    say "started a private MariaDB in $DB_DIR on 127.0.0.1:$DB_PORT (stop it with deploy/local-mariadb.sh stop)"
}

case "${1:-}" in
ping) ping_db ;;
ensure)
    if ping_db; then
        say "using the server at $DB_HOST:$DB_PORT"
    elif [[ $DB_HOST != 127.0.0.1 && $DB_HOST != localhost ]]; then  # a private server only helps on this machine
        say "no MariaDB answers at $DB_HOST:$DB_PORT; start it, or set BLOGSVC_DATABASE_URL to a server you have (or to 127.0.0.1 for a private one)" >&2
        exit 1
    elif [ -x "$MARIADBD" ] && [ -x "$MARIADB_INSTALL_DB" ]; then
        start_private
    else
        say "no MariaDB answers at $DB_HOST:$DB_PORT and no mariadbd is installed; install one (Debian: apt-get install mariadb-server) or set BLOGSVC_DATABASE_URL to a server you have" >&2
        exit 1
    fi ;;
stop)
    [ -d "$DB_DIR" ] && DB_DIR=$(cd "$DB_DIR" && pwd)
    if pid=$(private_pid); then
        kill -TERM "$pid"
        for _ in $(seq 60); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
        [ -d "/proc/$pid" ] && { say "mariadbd $pid is still running after 30 s" >&2; exit 1; }
        say "stopped the private MariaDB in $DB_DIR"
    else
        say "no private MariaDB runs from $DB_DIR; nothing to stop"
    fi ;;
*) echo "usage: $0 ensure|stop|ping" >&2; exit 2 ;;
esac
