#!/usr/bin/env bash
# run-dashboard.sh: what the floor dashboard costs the daemon. edgemes
# polls N in-process sim machines (10 lines); the script measures the daemon's
# CPU for SECONDS with no page open, then opens PAGES dashboard pages (one
# headless Chromium, PAGES tabs on the floor view) and measures again, counting
# the API requests the pages cause from /api/v1/health's api.requests. Results:
# docs/BENCHMARKS.md, "Dashboard cost".
#
#   bash tools/bench/run-dashboard.sh                  # 200 machines, 10 pages, 60 s each
#   SECONDS_EACH=10 bash tools/bench/run-dashboard.sh  # a quick check
#   VIEW='#/machine/m0001?range=1h' bash tools/bench/run-dashboard.sh   # the machine view
#
# Environment: N (200), PAGES (10), SECONDS_EACH (60), WARMUP (10), POLL_MS (1000), VIEW (#/),
# BUILD_DIR (<repo>/build-bench), EDGEMES (a different edgemes binary), KEEP=1.
# Needs node, chromium and tests/web/node_modules (bash tools/setup.sh build).
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

n="${N:-200}"
pages="${PAGES:-10}"
view="${VIEW:-#/}"
secs="${SECONDS_EACH:-60}"
warmup="${WARMUP:-10}"
poll="${POLL_MS:-1000}"

bench_tools run-dashboard node curl jq
[ -x /usr/bin/chromium ] && [ -d "$root/tests/web/node_modules/playwright-core" ] ||
  { echo "run-dashboard: needs chromium and tests/web/node_modules: bash tools/setup.sh build" >&2; exit 1; }

edgemes="${EDGEMES:-}"
if [ -z "$edgemes" ]; then
  bench_build run-dashboard edgemes
  edgemes="$build/bin/edgemes"
fi

bench_tmp dashboard

port=$(free_port)
types=(placer printer reflow aoi)
{
  printf '{"site":"bench","database":{"path":"%s/edgemes.db"},\n' "$out"
  printf ' "api":{"bind":"127.0.0.1","port":%d},\n "lines":[\n' "$port"
  per_line=$(( (n + 9) / 10 ))
  i=0
  for ((l = 1; i < n; l++)); do
    ((l > 1)) && printf ',\n'
    printf '  {"id":"line%02d","name":"Line %d","machines":[' "$l" "$l"
    sep=""
    for ((k = 0; k < per_line && i < n; k++, i++)); do
      printf '%s\n   {"id":"m%04d","type":"%s","poll_interval_ms":%d,"source":{"adapter":"sim"}}' \
        "$sep" "$i" "${types[i % 4]}" "$poll"
      sep=","
    done
    printf ']}'
  done
  printf '\n ]}\n'
} >"$out/edgemes.json"

"$edgemes" run --config "$out/edgemes.json" >"$out/edgemes.log" 2>&1 &
daemon=$!
bench_pids+=("$daemon")
base="http://127.0.0.1:$port"
wait_http "$base/api/v1/health" 30
echo "run-dashboard: $n machines polled every $poll ms; warming up ${warmup} s" >&2
sleep "$warmup"

requests() { curl -fsS "$base/api/v1/health" | jq '.api.requests'; }

# measure LABEL: daemon CPU and API requests over SECONDS_EACH. Each health
# read counts itself, so the window's own reads are taken off (one).
measure() {
  local r0 r1 t0 t1 s0 s1
  r0=$(requests); t0=$(cpu_ticks "$daemon"); s0=$(date +%s.%N)
  sleep "$secs"
  r1=$(requests); t1=$(cpu_ticks "$daemon"); s1=$(date +%s.%N)
  awk -v l="$1" -v r=$((r1 - r0 - 1)) -v t=$((t1 - t0)) -v s0="$s0" -v s1="$s1" -v hz="$procstat_hz" \
    'BEGIN { s = s1 - s0; printf "%-36s %8.1f s %10.1f req/s %8.1f %% CPU (of one core)\n", l, s, r / s, 100 * t / hz / s }'
}

idle=$(measure "no page")
echo "$idle" >&2

node "$here/dashboard-pages.mjs" "$base/$view" "$pages" $((secs + 120)) >"$out/pages.log" 2>&1 &
pages_pid=$!
bench_pids+=("$pages_pid")
deadline=$((SECONDS + 90))
until grep -q '^ready' "$out/pages.log"; do
  kill -0 "$pages_pid" 2>/dev/null || { cat "$out/pages.log" >&2; exit 1; }
  ((SECONDS < deadline)) || { echo "run-dashboard: pages not ready after 90 s" >&2; cat "$out/pages.log" >&2; exit 1; }
  sleep 0.5
done
loaded=$(measure "$pages pages ($view)")
echo "$loaded" >&2
stop_pid "$pages_pid"

echo
echo "dashboard cost: $n sim machines, $(nproc) cores, ${secs} s per window"
echo "$idle"
echo "$loaded"
grep -i 'page error' "$out/pages.log" && { echo "run-dashboard: the pages logged errors" >&2; exit 1; }
exit 0
