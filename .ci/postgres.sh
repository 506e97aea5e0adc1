#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the search tests (Debian's postgresql package),
# listening on 127.0.0.1 only, and print the storage URL for INFOMORPHIC_TEST_POSTGRES.
# initdb refuses to run as root, so the cluster belongs to the postgres user.
# `bash .ci/postgres.sh stop URL` stops the server of that URL and deletes its files.
set -euo pipefail
if [ "${1:-}" = stop ]; then
    PORT="${2##*:}"
    PORT="${PORT%%/*}"
    for DATA in /tmp/infomorphic-pg-"$PORT".*; do
        [ -d "$DATA" ] || continue
        BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
        su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DATA -m fast -w stop >/dev/null" || true
        rm -rf "$DATA"
    done
    exit 0
fi
# A free port on the loopback interface, unless one is given.
PORT="${INFOMORPHIC_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
fi
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
DATA="$(mktemp -d /tmp/infomorphic-pg-"$PORT".XXXXXX)"
chown postgres:postgres "$DATA"
su postgres -s /bin/sh -c "$BIN/initdb -D $DATA -U postgres --auth=trust -E UTF8 >/dev/null"
su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DATA -l $DATA/log -w -o '-c listen_addresses=127.0.0.1 -p $PORT -k $DATA' start >/dev/null"
su postgres -s /bin/sh -c "$BIN/createdb -h 127.0.0.1 -p $PORT -U postgres infomorphic_test"
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/infomorphic_test"
