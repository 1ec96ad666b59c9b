# Copyright (C) 2026 The ngx_http_attachments_module authors

# Private PostgreSQL clusters for tests, benchmarks and `make run`.
# Sourced by bash scripts: pg_start DIR SCHEMA [PORT], pg_stop DIR, free_port.
# initdb refuses to run as root, so as root the cluster belongs to the
# unprivileged "postgres" user (created by Debian's postgresql package).

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg_start DIR SCHEMA [PORT]: creates (once) and starts a cluster in DIR,
# database and role "attachments", SCHEMA loaded; sets PG_CONNINFO
pg_start() {
    local dir=$1 schema=$2 port=${3:-}

    [ -n "$PG_BIN" ] || { echo "PostgreSQL server binaries not found" >&2; return 1; }

    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
        chmod 755 "$(dirname "$dir")"
    fi

    if [ -f "$dir/port" ]; then
        port=$(cat "$dir/port")
    else
        port=${port:-$(free_port)}
    fi

    if [ ! -f "$dir/data/PG_VERSION" ]; then
        pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres \
            -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; return 1; }
        echo "$port" | pg_as_owner tee "$dir/port" >/dev/null
        local fresh=1
    fi

    if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off" \
            start >/dev/null \
            || { cat "$dir/server.log" >&2; return 1; }
    fi

    PG_CONNINFO="host=$dir port=$port dbname=attachments user=attachments"
    PG_ADMIN=(psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres)

    if [ -n "${fresh:-}" ]; then
        "${PG_ADMIN[@]}" -d postgres -c "CREATE ROLE attachments LOGIN" \
            -c "CREATE DATABASE attachments OWNER attachments" >/dev/null
        PGOPTIONS="-c client_min_messages=warning" \
            psql -X -q -v ON_ERROR_STOP=1 "$PG_CONNINFO" -f "$schema" >/dev/null
    fi
}

pg_stop() {
    local dir=$1
    [ -f "$dir/data/PG_VERSION" ] || return 0
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# pgbouncer_start DIR "BACKEND CONNINFO" [POOL_SIZE]: PgBouncer in
# transaction mode on 127.0.0.1, in front of a backend of pg_start (its
# database "attachments" as user "attachments"), as operators run it; sets
# PGBOUNCER_CONNINFO
pgbouncer_start() {
    local dir=$1 backend=$2 pool=${3:-2} port
    port=$(free_port)

    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"

    pg_as_owner tee "$dir/pgbouncer.ini" >/dev/null <<INI
[databases]
attachments = $backend

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = $pool
max_client_conn = 500
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI

    pg_as_owner /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini" \
        || { cat "$dir/pgbouncer.log" >&2; return 1; }

    # ready when a statement goes through it to the backend
    local i
    for i in $(seq 50); do
        PGCONNECT_TIMEOUT=2 timeout 5 psql -X -q -t -c 'SELECT 1' \
            "host=127.0.0.1 port=$port dbname=attachments user=attachments" \
            >/dev/null 2>&1 && break
        sleep 0.1
    done
    if [ "$i" = 50 ]; then
        echo "pgbouncer_start: no statement went through" >&2
        cat "$dir/pgbouncer.log" >&2
        pgbouncer_stop "$dir"
        return 1
    fi

    PGBOUNCER_CONNINFO="host=127.0.0.1 port=$port dbname=attachments user=attachments"
}

pgbouncer_stop() {
    local dir=$1
    [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null
    return 0
}
