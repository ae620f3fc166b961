# pg.sh: a private PostgreSQL 15 for tests and benchmarks: its own cluster in a
# temporary directory, listening on a unix socket there and on a loopback port,
# run as a non-root user (postgres refuses root).  Sourced; pg_start DIR sets
# PG_DIR, PG_SOCKDIR, PG_PORT and PG_CONNINFO, pg_stop ends it.

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_PORT=
PG_SOCKDIR=
PG_CONNINFO=

# pg_available: 0 when the PostgreSQL 15 server binaries are installed.
pg_available() {
	[ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] &&
	    [ -x "$PG_BINDIR/postgres" ]
}

# pg_as CMD...: run as the cluster's owner (root runs as the postgres user).
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_free_port: a loopback TCP port nothing listens on now.
pg_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# pg_start DIR [EXTRA_CONF_LINES [HBA_LINES]]: initdb in DIR/data and start the
# server; HBA_LINES replace the authentication rules (default: trust).
pg_start() {
	PG_DIR=$1
	PG_SOCKDIR=$PG_DIR/sock
	PG_PORT=$(pg_free_port)
	mkdir -p "$PG_DIR/data" "$PG_SOCKDIR"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R postgres "$PG_DIR"
		chmod 0755 "$PG_DIR"
	fi
	pg_as "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U netcrave -A trust \
	    --no-sync -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log"; return 1; }
	cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKDIR'
max_connections = 50
shared_buffers = 32MB
${2:-}
CONF
	if [ -n "${3:-}" ]; then
		printf '%s\n' "$3" >"$PG_DIR/data/pg_hba.conf"
	fi
	pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
	    -w -t 60 start >/dev/null || { cat "$PG_DIR/server.log"; return 1; }
	psql -h "$PG_SOCKDIR" -p "$PG_PORT" \
	    -U netcrave -d postgres -qc 'CREATE DATABASE netcrave' >/dev/null ||
	    return 1
	PG_CONNINFO="host=$PG_SOCKDIR port=$PG_PORT user=netcrave dbname=netcrave"
}

# pg_psql SQL: run SQL on the test database, print unaligned tuples.
pg_psql() {
	psql -h "$PG_SOCKDIR" -p "$PG_PORT" -U netcrave -d netcrave -qAtc "$1"
}

# pg_restart: stop the server (fast: every connection dropped) and start it.
pg_restart() {
	pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null &&
	pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
	    -w -t 60 start >/dev/null
}

# pg_stop: stop the server if it runs.
pg_stop() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] &&
	    pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop \
	    >/dev/null 2>&1
	return 0
}
