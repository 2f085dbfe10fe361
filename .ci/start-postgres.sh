#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the tests, on loopback only, and prints the
# lines to evaluate in the caller's shell:
#
#     eval "$(bash .ci/start-postgres.sh)"    # sets ESCALATOR_TEST_DATABASE and ESCALATOR_PG_DIR
#     ...                                     # make test, pytest, benches
#     bash .ci/stop-postgres.sh "$ESCALATOR_PG_DIR"
#
# It uses the server binaries of Debian's `postgresql` package (/usr/lib/postgresql/N/bin,
# or PG_BIN). initdb will not run as root: as root the cluster belongs to the `postgres` user
# the package creates. The cluster is tuned for tests (no fsync): never keep data in it.
# Exits 3 (and prints nothing on stdout) when no PostgreSQL server is installed.
set -euo pipefail

PG_BIN="${PG_BIN:-}"
if [ -z "$PG_BIN" ]; then
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
fi
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "start-postgres: no PostgreSQL server binaries (apt-get install postgresql)" >&2
    exit 3
fi

PORT="${PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
DIR="$(mktemp -d /tmp/escalator-pg.XXXXXX)"
USER_NAME="escalator"
PASSWORD="escalator-test"

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        # The data directory must belong to a user that is not root.
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$DIR"
fi
printf '%s\n' "$PASSWORD" > "$DIR/pwfile"
chmod 600 "$DIR/pwfile"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/pwfile"

as_owner "'$PG_BIN/initdb' -D '$DIR/data' -U $USER_NAME --pwfile='$DIR/pwfile' \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >'$DIR/initdb.log' 2>&1" \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
rm -f "$DIR/pwfile"

# Loopback only; the socket lives in the temp dir, not in /var/run/postgresql.
as_owner "'$PG_BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -t 60 start -o \
    \"-p $PORT -c listen_addresses=127.0.0.1 -k '$DIR' -c max_connections=300 \
      -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
      -c shared_buffers=64MB\" >/dev/null" \
    || { cat "$DIR/server.log" >&2; exit 1; }

URL="postgresql+asyncpg://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/postgres"
echo "export ESCALATOR_TEST_DATABASE='$URL'"
echo "export ESCALATOR_PG_DIR='$DIR'"
echo "export ESCALATOR_PG_BIN='$PG_BIN'"
echo "start-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($DIR)" >&2
