#!/usr/bin/env bash
# run-api-load.sh: the HTTP API under ingest. edgemes polls
# N machines of one edgemes-sim over http_json while wrk loads
# /api/v1/machines/{id} and /api/v1/machines/{id}/series (one hour, default
# step) at each connection count in CONNS, REPS times (the four loads
# interleaved in each repetition). Prints req/s and p50/p99 medians, the ingest
# rate during the loads, and edgemes's CPU and RSS. Results: docs/BENCHMARKS.md.
#
#   bash tools/bench/run-api-load.sh                      # 1000 machines at 1 s (~7 500 samples/s)
#   POLL_MS=375 bash tools/bench/run-api-load.sh          # ~20 000 samples/s, the API-under-ingest target load
#
# Environment: N (1000), POLL_MS (1000), CONNS ("50 500"), REPS (3),
# WRK_SECONDS (20), WRK_THREADS (2), WARMUP (20), BUILD_DIR (<repo>/build-bench),
# BUILD_TYPE (RelWithDebInfo), EDGEMES (a different edgemes binary to test), KEEP=1.
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

n="${N:-1000}"
poll="${POLL_MS:-1000}"
conns="${CONNS:-50 500}"
reps="${REPS:-3}"
wrk_s="${WRK_SECONDS:-20}"
wrk_t="${WRK_THREADS:-2}"
warmup="${WARMUP:-20}"

bench_setup run-api-load wrk jq curl python3
results="$out/results.jsonl"

echo "run-api-load: $(date -u +%FT%TZ) $(nproc) cores; N=$n poll ${poll} ms; $(uptime)" >&2
start_sim "$n"
mkdir -p "$out/edgemes"
start_edgemes "$n" "$out/edgemes" "$poll"
sleep "$warmup"
api="http://127.0.0.1:$em_port/api/v1"
declare -A urls=([machine]="$api/machines/m0001" [series]="$api/machines/m0001/series?metric=head_temp_c")
committed() { curl -fsS "$api/health" | jq '.writer.samples_committed'; }
dropped() { curl -fsS "$api/health" | jq '.writer.dropped_samples'; }

for ((r = 1; r <= reps; r++)); do
  for c in $conns; do
    for ep in machine series; do
      echo "run-api-load: rep $r/$reps $ep c=$c ($(uptime | sed 's/.*load/load/'))" >&2
      s0=$(committed); c0=$(cpu_ticks "$em_pid"); t0=$(date +%s.%N)
      w=$(WRK_REQUEST= wrk_json -t"$wrk_t" -c"$c" -d"${wrk_s}s" --latency --timeout 10s "${urls[$ep]}")
      t1=$(date +%s.%N); c1=$(cpu_ticks "$em_pid"); s1=$(committed)
      secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
      jq -nc --arg ep "$ep" --argjson c "$c" --argjson rep "$r" --argjson wrk "$w" \
        --argjson ingest "$(awk -v a="$s0" -v b="$s1" -v s="$secs" 'BEGIN { printf "%.0f", (b - a) / s }')" \
        --argjson cores "$(cores "$c0" "$c1" "$secs")" --argjson rss "$(mem_kib "$em_pid" VmRSS)" \
        '{endpoint: $ep, conns: $c, rep: $rep, wrk: $wrk, ingest_per_s: $ingest, cores: $cores, rss_kib: $rss}' |
        tee -a "$results" >&2
    done
  done
done
echo "run-api-load: done $(date -u +%FT%TZ); $(uptime); dropped samples $(dropped); results in $results" >&2

m() { jq -s --arg e "$1" --argjson c "$2" "[.[] | select(.endpoint == \$e and .conns == \$c) | $3] | $jq_median" "$results"; }
f() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "null" || v == "") print "-"; else printf "%.*f", d, v }'; }
printf '\nmedians of %s repetition(s); N=%s machines polled every %s ms; wrk -t%s -d%ss --latency\n' \
  "$reps" "$n" "$poll" "$wrk_t" "$wrk_s"
printf '%-8s %5s | %8s | %8s | %8s | %8s | %6s | %9s | %5s | %7s\n' \
  endpoint conns req/s "p50 ms" "p99 ms" "max ms" errors ingest/s cores "RSS MiB"
for c in $conns; do
  for ep in machine series; do
    printf '%-8s %5s | %8s | %8s | %8s | %8s | %6s | %9s | %5s | %7s\n' "$ep" "$c" \
      "$(f "$(m $ep "$c" .wrk.rps)")" "$(f "$(m $ep "$c" .wrk.p50_ms)" 2)" "$(f "$(m $ep "$c" .wrk.p99_ms)" 2)" \
      "$(f "$(m $ep "$c" .wrk.max_ms)" 1)" "$(f "$(m $ep "$c" .wrk.errors)")" \
      "$(f "$(m $ep "$c" .ingest_per_s)")" "$(f "$(m $ep "$c" .cores)" 2)" "$(f "$(m $ep "$c" '.rss_kib / 1024')" 1)"
  done
done
