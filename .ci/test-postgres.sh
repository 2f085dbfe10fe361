#!/usr/bin/env bash
# The PostgreSQL half of `make test`: the whole suite again, each test on a database of its
# own on a real PostgreSQL server. Usage: bash .ci/test-postgres.sh PYTEST [ARGS...]
#
#  - ESCALATOR_TEST_DATABASE set (postgresql+asyncpg://user:password@host:port/postgres, a
#    user that may CREATE DATABASE): runs on that server;
#  - else, with PostgreSQL's server binaries installed: starts a throw-away cluster
#    (.ci/start-postgres.sh), runs, and stops it;
#  - else: says clearly that the half was skipped and how to run it; under CI (CI=true) that
#    is a failure, never a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
    echo "usage: $0 PYTEST [ARGS...]" >&2
    exit 64
fi

if [ -z "${ESCALATOR_TEST_DATABASE:-}" ]; then
    started="$(bash .ci/start-postgres.sh)"
    status=$?
    if [ "$status" -ne 0 ]; then
        if [ "${CI:-}" = "true" ]; then
            echo "test-postgres: FAILED: could not start PostgreSQL, and CI never skips the PostgreSQL half" >&2
            exit 1
        fi
        cat >&2 <<'MSG'

==> PostgreSQL half SKIPPED: no PostgreSQL server to run on (only the SQLite half ran).
    To run it: install PostgreSQL's server (Debian: apt-get install postgresql) and run
    `make test` again, or point the suite at a server of yours:
        ESCALATOR_TEST_DATABASE=postgresql+asyncpg://USER:PASSWORD@HOST:PORT/postgres make test
    (USER must be allowed to CREATE DATABASE; each test gets a database of its own.)

MSG
        exit 0
    fi
    eval "$started"
    trap 'bash .ci/stop-postgres.sh "$ESCALATOR_PG_DIR"' EXIT
fi

echo "==> PostgreSQL half: the suite on ${ESCALATOR_TEST_DATABASE%%://*}://…@${ESCALATOR_TEST_DATABASE##*@}"
"$@"
