#!/usr/bin/env bash
# run-oee.sh: the OEE benchmark of issue 14 — an 8-hour shift's OEE of 1 000
# machines in one request. Seeds a file with HOURS of history of MACHINES
# simulated machines (edgemes-bench oee-seed: the sim models' polls through
# storage::writer, compactions and counter_hours as the daemon leaves them),
# starts the daemon on it (which keeps polling the same 1 000 sim machines
# meanwhile), then times GET /api/v1/oee over the seeded whole hours with curl,
# REPS times, and prints the median. Results: docs/BENCHMARKS.md, "OEE of 1 000
# machines".
#
#   bash tools/bench/run-oee.sh                     # 1000 machines, 8 h, 5 requests
#   MACHINES=100 HOURS=2 REPS=3 bash tools/bench/run-oee.sh
#
# Environment: BUILD_DIR (<repo>/build), MACHINES (1000), HOURS (8), REPS (5),
# PORT (18080), KEEP=1 keeps the temp dir (the file, the config, each reply).
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
build="${BUILD_DIR:-$root/build}"
machines="${MACHINES:-1000}"
hours="${HOURS:-8}"
reps="${REPS:-5}"
port="${PORT:-18080}"
bench_tools run-oee jq
daemon=""  # set below; stopped on exit
bench_tmp oee 'stop_pid "$daemon"'

seed_cmd=("$build/bin/edgemes-bench" oee-seed --db "$out/oee.db" --config-out "$out/oee.json"
          --machines "$machines" --hours "$hours" --port "$port")
echo "run-oee: ${seed_cmd[*]}" >&2
seed="$("${seed_cmd[@]}")"
echo "seed: $seed"
from="$(jq -r .from <<<"$seed")"
to="$(jq -r .to <<<"$seed")"

"$build/bin/edgemes" run --config "$out/oee.json" 2>"$out/edgemes.log" &
daemon=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
  sleep 0.2
done

url="http://127.0.0.1:$port/api/v1/oee?from=$from&to=$to"
echo "run-oee: curl '$url'" >&2
curl -sf -o "$out/warm.json" "$url"   # the first request warms SQLite's page cache
times=()
for i in $(seq 1 "$reps"); do
  t="$(curl -sf -o "$out/reply$i.json" -w '%{time_total}' "$url")"
  times+=("$t")
  n="$(jq '.machines | length' "$out/reply$i.json")"
  with_oee="$(jq '[.machines[] | select(.oee != null)] | length' "$out/reply$i.json")"
  echo "request $i: ${t}s, $n machines, $with_oee with an OEE, $(stat -c %s "$out/reply$i.json") bytes"
done
median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
echo "median of $reps: ${median}s for $machines machines x ${hours} h"
