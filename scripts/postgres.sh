#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster and makes a test database for the
# server's PostgreSQL tests; prints the URL to use as FACECHECK_TEST_POSTGRES.
# Prints nothing (and returns 1) when it cannot, so callers can skip.
set -euo pipefail
command -v pg_lsclusters >/dev/null || { echo "postgres: not installed (apt-get install postgresql)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "postgres: starting the cluster needs root; skipping PostgreSQL tests" >&2; exit 1; }
read -r ver name port status _ < <(pg_lsclusters --no-header | head -1) || { echo "postgres: no cluster" >&2; exit 1; }
if [[ $status != online ]]; then
  pg_ctlcluster "$ver" "$name" start >&2
fi
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -p $port" && break
  sleep 1
done
su postgres -c "psql -q -p $port -tc \"SELECT 1 FROM pg_roles WHERE rolname='facecheck'\" | grep -q 1 || psql -q -p $port -c \"CREATE ROLE facecheck LOGIN PASSWORD 'facecheck'\"" >&2
su postgres -c "psql -q -p $port -tc \"SELECT 1 FROM pg_database WHERE datname='facecheck_test'\" | grep -q 1 || createdb -p $port -O facecheck facecheck_test" >&2
echo "postgres://facecheck:facecheck@127.0.0.1:$port/facecheck_test?sslmode=disable"
