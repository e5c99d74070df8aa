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
# With EDGEMES_OLD set, a second daemon (that binary) runs at the same time on
# a copy of the seeded file (its own port, PORT + 1) and the requests
# alternate old, new, old, new ...: both see the same load on the box, and a
# median is printed for each.
#
#   bash tools/bench/run-oee.sh                     # 1000 machines, 8 h, 5 requests
#   MACHINES=100 HOURS=2 REPS=3 bash tools/bench/run-oee.sh
#   EDGEMES_OLD=/tmp/edgemes-main REPS=9 bash tools/bench/run-oee.sh   # old vs this build
#
# Environment: BUILD_DIR (<repo>/build), MACHINES (1000), HOURS (8), REPS (5),
# PORT (18080), EDGEMES (the edgemes binary to test: $BUILD_DIR/bin/edgemes),
# EDGEMES_OLD (a binary to compare with, interleaved), SEED_DIR (a KEEP=1
# directory of an earlier run: its oee.db, oee.json and seed.json are reused
# instead of seeding again — the seed takes minutes), QUIET=1 (the daemons
# poll each machine once an hour instead of every second: for CPU times on a
# busy box), KEEP=1 keeps the temp dir (the file, the config, each reply).
#
# Besides curl's wall time each request prints the daemon's CPU time for it:
# the sum over its threads of /proc/PID/task/*/schedstat (ns on a CPU), which
# other load on the box does not inflate — with QUIET=1 nearly all of it is
# the request's. Medians of both are printed.
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
build="${BUILD_DIR:-$root/build}"
machines="${MACHINES:-1000}"
hours="${HOURS:-8}"
reps="${REPS:-5}"
port="${PORT:-18080}"
edgemes="${EDGEMES:-$build/bin/edgemes}"
old="${EDGEMES_OLD:-}"
bench_tools run-oee jq
pids=()  # the daemons started below; stopped on exit
bench_tmp oee 'for p in "${pids[@]}"; do stop_pid "$p"; done'

if [[ -n "${SEED_DIR:-}" ]]; then
  echo "run-oee: reusing the seed in $SEED_DIR" >&2
  cp "$SEED_DIR/oee.db" "$out/oee.db"
  seed="$(cat "$SEED_DIR/seed.json")"
  jq --arg db "$out/oee.db" --argjson port "$port" '.database.path = $db | .api.port = $port' \
    "$SEED_DIR/oee.json" >"$out/oee.json"
else
  seed_cmd=("$build/bin/edgemes-bench" oee-seed --db "$out/oee.db" --config-out "$out/oee.json"
            --machines "$machines" --hours "$hours" --port "$port")
  echo "run-oee: ${seed_cmd[*]}" >&2
  seed="$("${seed_cmd[@]}")"
fi
echo "$seed" >"$out/seed.json"
echo "seed: $seed"
from="$(jq -r .from <<<"$seed")"
to="$(jq -r .to <<<"$seed")"
machines="$(jq -r .machines <<<"$seed")"

# start NAME BINARY DB PORT: a daemon on its own copy of the config.
declare -A pid_of=()
start() {
  local poll='.'
  [[ "${QUIET:-0}" == 1 ]] && poll='.lines[].machines[].poll_interval_ms = 3600000'
  jq --arg db "$3" --argjson port "$4" '.database.path = $db | .api.port = $port' \
    "$out/oee.json" | jq "$poll" >"$out/$1.json"
  "$2" run --config "$out/$1.json" 2>"$out/$1.log" &
  pids+=($!)
  pid_of[$1]=$!
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$4/api/v1/health" >/dev/null && return 0
    sleep 0.2
  done
  echo "run-oee: $1 ($2) did not answer on port $4" >&2
  exit 1
}

names=(new)
declare -A ports=([new]="$port")
if [[ -n "$old" ]]; then
  cp "$out/oee.db" "$out/oee-old.db"
  names=(old new)
  ports[old]=$((port + 1))
  start old "$old" "$out/oee-old.db" "${ports[old]}"
fi
start new "$edgemes" "$out/oee.db" "$port"

# CPU time of a process so far, in ns (all its threads).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d", s}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "run-oee: $(date -u +%FT%TZ) $(uptime)" >&2
declare -A times=() cpus=()
for name in "${names[@]}"; do
  url="http://127.0.0.1:${ports[$name]}/api/v1/oee?from=$from&to=$to"
  echo "run-oee: $name: curl '$url'" >&2
  curl -sf -o "$out/warm-$name.json" "$url"   # the first request warms SQLite's page cache
done
for i in $(seq 1 "$reps"); do
  for name in "${names[@]}"; do
    url="http://127.0.0.1:${ports[$name]}/api/v1/oee?from=$from&to=$to"
    reply="$out/reply-$name-$i.json"
    c0="$(cpu_ns "${pid_of[$name]}")"
    t="$(curl -sf -o "$reply" -w '%{time_total}' "$url")"
    c1="$(cpu_ns "${pid_of[$name]}")"
    cpu="$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')"
    times[$name]+="$t "
    cpus[$name]+="$cpu "
    n="$(jq '.machines | length' "$reply")"
    with_oee="$(jq '[.machines[] | select(.oee != null)] | length' "$reply")"
    echo "request $i $name: ${t}s (daemon CPU ${cpu}s), $n machines, $with_oee with an OEE, $(stat -c %s "$reply") bytes"
  done
done
if [[ -n "$old" ]] && ! cmp -s "$out/reply-old-1.json" "$out/reply-new-1.json"; then
  echo "run-oee: note: the old and new replies differ (see $out/reply-{old,new}-1.json)" >&2
fi
echo "run-oee: $(date -u +%FT%TZ) $(uptime)" >&2
hours=$(((to - from) / 3600000))
for name in "${names[@]}"; do
  # shellcheck disable=SC2086
  wall="$(printf '%s\n' ${times[$name]} | median)"
  # shellcheck disable=SC2086
  cpu="$(printf '%s\n' ${cpus[$name]} | median)"
  echo "median of $reps ($name: $([[ $name == new ]] && echo "$edgemes" || echo "$old")): ${wall}s wall, daemon CPU ${cpu}s, for $machines machines x ${hours} h"
done
