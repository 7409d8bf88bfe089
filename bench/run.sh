#!/usr/bin/env bash
# Load tests against a release build on PostgreSQL + Redis, with the machine's own limit for
# the same database work measured by pgbench in the same run. See bench/README.md.
#
#   bench/run.sh                 # 1,000,000 tickets (generated once), 64 connections, 20 s each
#   TICKETS=100000 DURATION=10 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TICKETS="${TICKETS:-1000000}"
CONNECTIONS="${CONNECTIONS:-64}"
DURATION="${DURATION:-20}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/test}"
DB="${BENCH_DB:-qiaomen_bench}"
PG_URL="${PG_ADMIN%/*}/$DB"
OUT="bench/out"
mkdir -p "$OUT"
export BENCH_OUT="$OUT"

export QIAOMEN_ENV=bench
export QIAOMEN_DATABASE_URL="$PG_URL"
export QIAOMEN_REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export QIAOMEN_REDIS__KEY_PREFIX="qmbench:"
export QIAOMEN_JWT_SECRET="${QIAOMEN_JWT_SECRET:-bench-secret-bench-secret-bench-secret-0123}"

# The load generator and pgbench.
if ! command -v wrk >/dev/null; then
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
fi
command -v pgbench >/dev/null || apt-get install -y -qq postgresql-contrib >/dev/null

cargo build --release -q -p qiaomen-api
BIN=target/release/qiaomen

# The data set, generated once per database.
if ! psql "$PG_ADMIN" -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
fi
if [ ! -s "$OUT/handles.json" ] || ! psql "$PG_URL" -Atc "SELECT count(*) FROM ticket" 2>/dev/null | grep -qv '^0$'; then
  echo "== generating $TICKETS tickets into $DB"
  /usr/bin/time -f "bench-data: %e s, peak RSS %M KB" \
    "$BIN" bench-data --tickets "$TICKETS" --handles "$OUT/handles.json"
  psql "$PG_URL" -qc "VACUUM ANALYZE"
fi
python3 bench/handles_to_lua.py "$OUT/handles.json" > "$OUT/handles.lua"
echo "tickets in $DB: $(psql "$PG_URL" -Atc "SELECT count(*) FROM ticket")"

# The server.
"$BIN" serve > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs http://127.0.0.1:18080/healthz >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs http://127.0.0.1:18080/readyz >/dev/null

report() { # scenario, wrk output file
  python3 bench/wrk_report.py "$1" "$2"
}

# Everything the run submits is removed at the end, so every run loads the same data set.
START="$(psql "$PG_URL" -Atc "SELECT now()")"

echo "== statistics, one request at a time"
python3 bench/stats.py "$OUT/handles.json"

# Reads first, submissions last: the submissions' open tickets would swell the inboxes.
for scenario in inbox timeline summary submit; do
  echo "== $scenario: wrk -t2 -c$CONNECTIONS -d${DURATION}s"
  SCENARIO=$scenario wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/wrk.lua \
    http://127.0.0.1:18080 > "$OUT/wrk-$scenario.txt" 2> "$OUT/wrk-$scenario.err" || true
  report "$scenario" "$OUT/wrk-$scenario.txt"
done
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MB"}')"

# The machine's limit for the same database work, without the server.
psql "$PG_URL" -q -f bench/pgbench/setup.sql
for script in submit inbox timeline; do
  echo "== pgbench $script: -c$CONNECTIONS -j2 -T$DURATION"
  pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" -D grids="$(psql "$PG_URL" -Atc 'SELECT count(*) FROM pgbench_sample')" \
    -f "bench/pgbench/$script.sql" "$PG_URL" 2>&1 | grep -E "^(tps|latency average|number of failed)" || true
done
# Leave the data set as generated: remove the run's tickets and pgbench's, recount the rollups.
kill $SERVER 2>/dev/null || true
wait $SERVER 2>/dev/null || true
# (Foreign-key triggers are skipped for the cleanup: checking ticket.duplicate_of, which has no
# index, would scan the million tickets once per deleted row.)
psql "$PG_URL" -q -v start="$START" <<'SQL'
SET session_replication_role = replica;
CREATE TEMP TABLE run_tickets AS
  SELECT id FROM ticket WHERE created_at >= :'start' OR number LIKE 'PB-%';
DELETE FROM notification_outbox WHERE ticket_id IN (SELECT id FROM run_tickets);
DELETE FROM attachment WHERE ticket_id IN (SELECT id FROM run_tickets);
DELETE FROM ticket_event WHERE ticket_id IN (SELECT id FROM run_tickets);
DELETE FROM ticket WHERE id IN (SELECT id FROM run_tickets);
DELETE FROM stat_day WHERE day > current_date + 1000;
DELETE FROM ticket_number_seq WHERE day = '29991231';
SQL
/usr/bin/time -f "rollups rebuilt in %e s" "$BIN" rebuild-rollups
