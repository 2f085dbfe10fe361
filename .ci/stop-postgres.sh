#!/usr/bin/env bash
# Stops a cluster started by .ci/start-postgres.sh and removes its directory.
# Usage: bash .ci/stop-postgres.sh "$ESCALATOR_PG_DIR"
set -uo pipefail
DIR="${1:-${ESCALATOR_PG_DIR:-}}"
case "$DIR" in
    /tmp/escalator-pg.*) ;;
    *) echo "stop-postgres: not a directory of start-postgres.sh: '$DIR'" >&2; exit 1 ;;
esac
PG_BIN="${ESCALATOR_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [ -d "$DIR/data" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        su postgres -s /bin/sh -c "'$PG_BIN/pg_ctl' -D '$DIR/data' -m fast -w stop" >/dev/null
    else
        "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
    fi
fi
rm -rf "$DIR"
