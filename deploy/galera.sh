#!/usr/bin/env bash
# A throwaway MariaDB Galera cluster on 127.0.0.1 for blogsvc's tests (deploy/galera-test.sh,
# tests/resilience/test_galera.py).
#
#   deploy/galera.sh start N BASEPORT   start N nodes in $GALERA_DIR (node 1 bootstraps), each Synced
#   deploy/galera.sh status             a line per node: "node<i> port P pid X: wsrep_cluster_size=3
#                                       Primary state=Synced ready=ON", "... not answering" or "...: down"
#   deploy/galera.sh port I             node I's SQL port
#   deploy/galera.sh kill I             kill -9 node I
#   deploy/galera.sh restart I          (re)start node I and wait until it is Synced again
#   deploy/galera.sh sql I [ARGS...]    the mariadb client, as root, on node I
#   deploy/galera.sh stop | clean       stop every node (and, clean, remove the cluster's files)
#
# Node i (1..N) listens on 127.0.0.1 only: SQL BASEPORT+i, group BASEPORT+100+i, IST BASEPORT+200+i,
# SST (rsync) BASEPORT+300+i: keep them below the ephemeral range (deploy/galera-test.sh says why).
# root has an empty password. Run as root, the nodes run as mysql.
# Only the nodes recorded in $GALERA_DIR are ever signalled, by pid, after checking their command line.
# Needs mariadb-server, galera-4 and rsync (Debian: apt-get install mariadb-server galera-4 rsync).
# Environment: GALERA_DIR (default /tmp/blogsvc-galera), GALERA_TIMEOUT (seconds for a node to
# reach Synced, default 180).
set -euo pipefail

DIR=${GALERA_DIR:-/tmp/blogsvc-galera}
TIMEOUT=${GALERA_TIMEOUT:-180}
PROVIDER=/usr/lib/galera/libgalera_smm.so
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
AS_USER=() # as root, run as mysql: mariadbd refuses root, rsync SST would drop to nobody
if [ "$(id -u)" = 0 ]; then AS_USER=(--user=mysql); fi

die() { echo "galera.sh: $*" >&2; exit 1; }

load() {
    [ -r "$DIR/cluster.env" ] || die "no cluster in $DIR (start one: $0 start N BASEPORT)"
    # shellcheck source=/dev/null
    . "$DIR/cluster.env" # N and BASE
}
check_node() { if ! [[ $1 =~ ^[1-9][0-9]*$ ]] || (($1 > N)); then die "no node '$1' (1..$N)"; fi; }
port() { echo $((BASE + $1 + ${2:-0})); } # port I [100 group | 200 IST | 300 SST]

pid_of() { # the pid of node I if it is alive and really our mariadbd (not a recycled pid)
    local d=$DIR/node$1 pid
    pid=$(cat "$d/pid" 2>/dev/null) || return 1
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -xF -- "--defaults-file=$d/my.cnf" >/dev/null && echo "$pid"
}

sql() { # sql I [mariadb ARGS...]
    local i=$1
    shift
    mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$(port "$i")" -uroot "$@"
}

wsrep() { # "wsrep_cluster_size=3 Primary state=Synced ready=ON" of node I, or fail
    sql "$1" -N -B --connect-timeout=2 -e "SHOW GLOBAL STATUS LIKE 'wsrep%'" 2>/dev/null |
        awk -F'\t' '{ v[$1] = $2 } END { printf "wsrep_cluster_size=%s %s state=%s ready=%s\n",
            v["wsrep_cluster_size"], v["wsrep_cluster_status"], v["wsrep_local_state_comment"], v["wsrep_ready"] }'
}

write_config() { # write_config I
    local i=$1 d=$DIR/node$1 j peers=""
    for ((j = 1; j <= N; j++)); do peers+="${peers:+,}127.0.0.1:$(port "$j" 100)"; done
    cat >"$d/my.cnf" <<EOF
[mysqld]
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
bind-address=127.0.0.1
port=$(port "$i")
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
# small, and durable enough for tests
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
innodb_flush_log_at_trx_commit=2
performance_schema=OFF
# Galera
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$PROVIDER
wsrep_cluster_name=blogsvc-test
wsrep_cluster_address=gcomm://$peers
wsrep_node_name=node$i
wsrep_node_address=127.0.0.1
wsrep_node_incoming_address=127.0.0.1:$(port "$i")
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$(port "$i" 300)
# Group and IST ports of its own (the defaults would collide). A dead node is evicted after about
# 5 s instead of 15: tests/resilience/test_galera.py allows 503s only that long after a kill.
wsrep_provider_options="base_host=127.0.0.1;base_port=$(port "$i" 100);gmcast.listen_addr=tcp://127.0.0.1:$(port "$i" 100);ist.recv_addr=127.0.0.1:$(port "$i" 200);gcache.size=32M;evs.keepalive_period=PT1S;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT5S;evs.inactive_check_period=PT0.5S"
EOF
}

launch() { # launch I [mariadbd OPTIONS...]: start node I in the background, record its pid
    local d=$DIR/node$1
    shift
    # setsid: the node outlives the caller's process group; it execs in place, so $! is mariadbd.
    setsid "$MARIADBD" --defaults-file="$d/my.cnf" "${AS_USER[@]}" "$@" </dev/null >>"$d/stdout.log" 2>&1 &
    echo $! >"$d/pid"
}

wait_synced() { # wait_synced I
    local i=$1 end=$((SECONDS + TIMEOUT)) st=""
    until st=$(wsrep "$i") && [[ $st == *" Primary state=Synced ready=ON" ]]; do
        if ! pid_of "$i" >/dev/null || ((SECONDS >= end)); then
            tail -n 20 "$DIR/node$i/error.log" >&2 || true
            die "node $i did not reach Synced (${st:-no answer}); log: $DIR/node$i/error.log"
        fi
        sleep 0.2
    done
    echo "node$i synced: port $(port "$i"), $st"
}

stop_nodes() { # stop_nodes I...: SIGTERM, SIGKILL after 60 s; returns once they are gone
    local i pid end=$((SECONDS + 60))
    for i; do
        if pid=$(pid_of "$i"); then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for i; do
        while pid=$(pid_of "$i"); do
            if ((SECONDS >= end)); then kill -KILL "$pid" 2>/dev/null || true; fi
            sleep 0.2
        done
    done
}

all_nodes() { # the numbers of the node directories in $DIR
    local d
    for d in "$DIR"/node*/; do
        if [ -d "$d" ]; then basename "$d" | tr -dc 0-9 && echo; fi
    done
}

stop_all() {
    local nodes
    mapfile -t nodes < <(all_nodes)
    stop_nodes "${nodes[@]}"
}

cmd_clean() { # stop, then remove only what start made ($DIR itself if that leaves it empty)
    [[ $DIR == /?* ]] || die "GALERA_DIR must be an absolute path, not '$DIR'"
    stop_all
    rm -rf -- "$DIR"/node* "$DIR/cluster.env"
    rmdir -- "$DIR" 2>/dev/null || true
}

cmd_start() {
    [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] || die "usage: $0 start N BASEPORT"
    N=$1 BASE=$2
    ((N >= 1 && N <= 99 && BASE >= 1024 && BASE + 300 + N <= 65535)) || die "N must be 1..99, BASEPORT 1024..$((65235 - N))"
    [ -x "$MARIADBD" ] || die "no mariadbd (apt-get install mariadb-server)"
    [ -r "$PROVIDER" ] || die "no $PROVIDER (apt-get install galera-4)"
    command -v rsync >/dev/null || die "no rsync (apt-get install rsync)"
    if [ -d "$DIR" ] && [ ! -e "$DIR/cluster.env" ] && [ -n "$(ls -A "$DIR")" ]; then
        die "$DIR is not empty and holds no cluster; set GALERA_DIR to an empty or new directory"
    fi
    cmd_clean
    local i p
    for ((i = 1; i <= N; i++)); do
        for p in $(port "$i") $(port "$i" 100) $(port "$i" 200) $(port "$i" 300); do
            [ -z "$(ss -Hltn "sport = :$p")" ] || die "port $p is already in use"
        done
    done

    mkdir -p "$DIR"
    chmod go+x "$DIR" # the nodes (mysql) must reach their directories, even in a mktemp -d
    printf 'N=%d\nBASE=%d\n' "$N" "$BASE" >"$DIR/cluster.env"
    for ((i = 1; i <= N; i++)); do
        mkdir "$DIR/node$i"
        write_config "$i"
    done
    mariadb-install-db --no-defaults "${AS_USER[@]}" --datadir="$DIR/node1/data" --skip-test-db \
        --auth-root-authentication-method=normal --innodb-log-file-size=32M >"$DIR/node1/install.log" 2>&1 ||
        { cat "$DIR/node1/install.log" >&2; die "mariadb-install-db failed"; }
    for ((i = 2; i <= N; i++)); do cp -a "$DIR/node1/data" "$DIR/node$i/"; done # SST replaces it
    if [ ${#AS_USER[@]} -gt 0 ]; then chown -R mysql: "$DIR"/node*; fi

    # If a node does not come up, stop the others (the files stay, for the logs).
    trap 'echo "galera.sh: start failed; logs in $DIR" >&2; stop_all' EXIT
    launch 1 --wsrep-new-cluster
    wait_synced 1
    for ((i = 2; i <= N; i++)); do # one at a time: a donor serves one rsync SST at a time
        launch "$i"
        wait_synced "$i"
    done
    trap - EXIT
}

cmd_kill() {
    local pid
    pid=$(pid_of "$1") || die "node $1 is not running"
    kill -KILL "$pid"
    while pid_of "$1" >/dev/null; do sleep 0.1; done
    echo "node$1 (pid $pid) killed"
}

# After a crash grastate.dat says seqno -1: print the position InnoDB committed, as
# --wsrep-start-position=UUID:SEQNO, so that node I can rejoin by IST (what galera_recovery does).
# The run needs only the redo log applied, so no purge (--innodb-force-recovery=2): the run stops as
# soon as it has the position, and a purge then at work on a table with indexed virtual columns
# (articles) fails to open it during that shutdown ("Incorrect information in file: .../articles.frm")
# and retries for ever: the run never ended, growing by 100 MB/s (MariaDB 10.11.19; 5 runs of 6 on
# one killed node's files). The node's own start purges. No TCP port either (it is the node's). And
# bounded (60 s, then killed, as a crash): with the position printed by then the node still rejoins
# by IST, without it by a full copy (SST).
recovered_position() {
    local d=$DIR/node$1
    grep -qE '^seqno: +-1' "$d/data/grastate.dat" 2>/dev/null || return 0
    rm -f -- "$d/recover.log" # mariadbd appends: an earlier recovery's position is not this one's
    timeout --foreground -s KILL 60 "$MARIADBD" --defaults-file="$d/my.cnf" "${AS_USER[@]}" --wsrep-recover \
        --innodb-force-recovery=2 --skip-networking --log-error="$d/recover.log" </dev/null >/dev/null 2>&1 ||
        echo "galera.sh: node $1's position recovery failed or was killed after 60 s; log: $d/recover.log" >&2
    grep -aoE 'Recovered position: *[0-9a-f-]+:[0-9]+' "$d/recover.log" 2>/dev/null |
        tail -n 1 | sed 's/.*position: */--wsrep-start-position=/' || true
}

cmd_restart() {
    local i=$1 j alive=() primary=0 pos
    stop_nodes "$i"
    for ((j = 1; j <= N; j++)); do
        if ((j != i)) && pid_of "$j" >/dev/null; then
            alive+=("$j")
            if [[ $(wsrep "$j" || true) == *" Primary "* ]]; then primary=1; fi
        fi
    done
    pos=$(recovered_position "$i")
    if [ ${#alive[@]} = 0 ]; then # nobody left: a new cluster from this node's own data
        sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$DIR/node$i/data/grastate.dat" 2>/dev/null || true
        launch "$i" --wsrep-new-cluster ${pos:+"$pos"}
    else
        if ((!primary)); then # the survivors lost quorum (two of three killed): make them primary again
            echo "no primary component left; bootstrapping it again on node${alive[0]}"
            sql "${alive[0]}" -e "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"
        fi
        launch "$i" ${pos:+"$pos"} # joins by IST, or by SST if the donor's gcache lost the gap
    fi
    wait_synced "$i"
}

cmd_status() {
    local i pid st
    for ((i = 1; i <= N; i++)); do
        if ! pid=$(pid_of "$i"); then
            echo "node$i port $(port "$i"): down"
        elif st=$(wsrep "$i"); then
            echo "node$i port $(port "$i") pid $pid: $st"
        else
            echo "node$i port $(port "$i") pid $pid: not answering"
        fi
    done
}

cmd=${1:-}
node=${2:-}
case $cmd in
start) cmd_start "${2:-}" "${3:-}" ;;
stop) stop_all ;;
clean) cmd_clean ;;
status) load; cmd_status ;;
port) load; check_node "$node"; port "$node" ;;
kill) load; check_node "$node"; cmd_kill "$node" ;;
restart) load; check_node "$node"; cmd_restart "$node" ;;
sql) load; check_node "$node"; shift 2; sql "$node" "$@" ;;
*) awk 'NR > 1 { if (!/^#/) exit; sub(/^# ?/, ""); print }' "$0" >&2; exit 2 ;;
esac
