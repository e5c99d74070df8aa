#!/usr/bin/env bash
# tools/bench/run-seed.sh: the seed's workload ("500 concurrent read queries
# against 10 simultaneous background writes") on SQLite WAL, SQLite rollback
# journal, through edgemes (HTTP API + writer actor) and on a throwaway
# PostgreSQL 15 cluster (default and synchronous_commit=off), interleaved per
# repetition; plus time from nothing to serving. Results: docs/BENCHMARKS.md.
#
#   bash tools/bench/run-seed.sh                      # full: 3 reps, 500/5000 reads, 4/50 readers
#   REPS=1 READS=500 READERS=4 TICKS=300 bash tools/bench/run-seed.sh   # quick look
#
# Environment: REPS (3), READS ("500 5000"), READERS ("4 50"), TICKS (2500:
# 100 machines x 20 metrics x 2500 s = 5 M samples, 250 000 rows), MAX_S (60,
# a run stops issuing reads after this), SYSTEMS (all seven below), BUILD
# (build-seed), OUT (JSON lines, $BUILD/seed-results.jsonl).
# Everything runs in a temp dir; the PostgreSQL cluster listens on 127.0.0.1
# only and is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
REPS=${REPS:-3}
READS=${READS:-"500 5000"}
READERS=${READERS:-"4 50"}
TICKS=${TICKS:-2500}
MAX_S=${MAX_S:-60}
SYSTEMS=${SYSTEMS:-"sqlite-wal sqlite-delete edgemes edgemes-nodelay edgemes-max pg pg-syncoff"}
BUILD=${BUILD:-$root/build-seed}
OUT=${OUT:-$BUILD/seed-results.jsonl}
PGBIN=/usr/lib/postgresql/15/bin

bash "$here/setup-bench.sh"
cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target edgemes-seed -j2 >/dev/null
seed=$BUILD/bin/edgemes-seed

tmp=$(mktemp -d /tmp/edgemes-seed.XXXXXX)
chmod 755 "$tmp"
pgdir=$tmp/pg
cleanup() {
  for d in "$tmp"/pg*; do
    [ -f "$d/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # exit runs the EXIT trap

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts a fresh cluster in $1 on port $2 (initdb + start, -w waits until it accepts).
pg_up() {
  mkdir -p "$1" && chown postgres:postgres "$1"
  runuser -u postgres -- "$PGBIN/initdb" -D "$1" -U postgres --auth=trust -E UTF8 >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$1" -l "$1/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $2 -k $1" start >/dev/null
}
pg_down() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null; }
ms() { date +%s%N | cut -c1-13; }

gcc -shared -fPIC -O2 -o "$tmp/nodelay.so" "$here/nodelay_shim.c" -ldl

{
  echo "# $(date -u) $(nproc) cores, $(uname -r); $(uptime)"
} | tee -a "$OUT"

# Time from nothing to serving, 3 each: SQLite (open + schema + first query)
# and PostgreSQL (initdb + start + connect + schema + first query).
for i in 1 2 3; do
  "$seed" first-serve --db "$tmp/fs$i.db" | tee -a "$OUT"
  port=$(free_port)
  t0=$(ms)
  pg_up "$tmp/pgfs$i" "$port"
  runuser -u postgres -- psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c \
    "CREATE TABLE telemetry(machine_id int NOT NULL, ts bigint NOT NULL, v jsonb NOT NULL, PRIMARY KEY(machine_id, ts)); SELECT count(*) FROM telemetry" >/dev/null
  t1=$(ms)
  echo "{\"system\": \"pg\", \"first_serve_ms\": $((t1 - t0))}" | tee -a "$OUT"
  pg_down "$tmp/pgfs$i"; rm -rf "$tmp/pgfs$i"
done

"$seed" prefill --db "$tmp/base.db" --ticks "$TICKS" | tee -a "$OUT"
last_ts=$(python3 -c "import sqlite3; print(sqlite3.connect('$tmp/base.db').execute('select max(ts) from telemetry').fetchone()[0])")

port=$(free_port)
pg_up "$pgdir" "$port"
conn="host=127.0.0.1 port=$port user=postgres dbname=postgres"
"$seed" pg-load --pg "$conn" --db "$tmp/base.db" | tee -a "$OUT"
pg_reset() {  # back to the prefill: drop what the writers added
  runuser -u postgres -- psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c \
    "DELETE FROM telemetry WHERE ts > $last_ts" -c "VACUUM ANALYZE telemetry" -c "CHECKPOINT" >/dev/null
}

one() {  # system readers reads rep
  local sys=$1 readers=$2 reads=$3 rep=$4 line=
  local common=(--readers "$readers" --reads "$reads" --max-s "$MAX_S" --seed "$rep")
  case $sys in
    sqlite-wal|sqlite-delete)
      cp "$tmp/base.db" "$tmp/run.db"
      line=$("$seed" sqlite --db "$tmp/run.db" --journal "${sys#sqlite-}" "${common[@]}") ;;
    edgemes)
      cp "$tmp/base.db" "$tmp/run.db"
      line=$("$seed" edgemes --db "$tmp/run.db" --interval-ms 10 "${common[@]}") ;;
    edgemes-nodelay)
      cp "$tmp/base.db" "$tmp/run.db"
      line=$(LD_PRELOAD=$tmp/nodelay.so "$seed" edgemes --db "$tmp/run.db" --interval-ms 10 "${common[@]}")
      line=${line/\"system\":\"edgemes\"/\"system\":\"edgemes-nodelay\"} ;;
    edgemes-max)  # pollers every 1 ms: 200 000 samples/s offered, the writer actor's ceiling
      cp "$tmp/base.db" "$tmp/run.db"
      line=$(LD_PRELOAD=$tmp/nodelay.so "$seed" edgemes --db "$tmp/run.db" --interval-ms 1 "${common[@]}")
      line=${line/\"system\":\"edgemes\"/\"system\":\"edgemes-max\"} ;;
    pg)
      pg_reset
      line=$("$seed" pg --pg "$conn" --label pg "${common[@]}") ;;
    pg-syncoff)
      pg_reset
      line=$("$seed" pg --pg "$conn options='-c synchronous_commit=off'" --label pg-syncoff "${common[@]}") ;;
  esac
  rm -f "$tmp/run.db" "$tmp/run.db-wal" "$tmp/run.db-shm" "$tmp/run.db-journal"
  [ -n "$line" ] || return 1
  local load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "${line%\}}, \"rep\": $rep, \"loadavg\": \"$load\"}" | tee -a "$OUT"
}

for rep in $(seq 1 "$REPS"); do
  for reads in $READS; do
    for readers in $READERS; do
      for sys in $SYSTEMS; do
        one "$sys" "$readers" "$reads" "$rep" || echo "run-seed: $sys $readers/$reads failed" >&2
      done
    done
  done
done
echo "# done $(date -u); $(uptime)" | tee -a "$OUT"
python3 "$here/seed_table.py" "$OUT"
