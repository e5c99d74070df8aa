#!/usr/bin/env bash
# run-rss.sh: edgemes's resident memory over a long run (issue 4: RSS with 1000
# polled machines <= 100 MiB). One edgemes-sim serves N machines; one edgemes
# per value in READ_CACHES (database.read_cache_size_kib) polls all of them at
# POLL_MS, side by side, each with its own database. Every LOAD_EVERY s a
# wrk burst of LOAD_S s asks random machines for a metric over the last 24 h
# (and their status) on every daemon, so the query connections touch pages all
# over the file. RSS (VmRSS) is sampled every SAMPLE_S s; prints max and last
# per daemon, and the samples as CSV. Results: docs/BENCHMARKS.md.
#
#   bash tools/bench/run-rss.sh                             # 40 min, caches 64000 vs 8000 KiB
#   MINUTES=1440 READ_CACHES=8000 bash tools/bench/run-rss.sh   # the 24 h run
#
# Environment: N (1000), POLL_MS (1000), MINUTES (40), READ_CACHES ("64000 8000"),
# LOAD_EVERY (120), LOAD_S (20), CONNS (8), SAMPLE_S (30),
# BUILD_DIR (<repo>/build-bench), EDGEMES (another edgemes binary), KEEP=1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
n="${N:-1000}"
poll="${POLL_MS:-1000}"
minutes="${MINUTES:-40}"
caches="${READ_CACHES:-64000 8000}"
load_every="${LOAD_EVERY:-120}"
load_s="${LOAD_S:-20}"
conns="${CONNS:-8}"
sample_s="${SAMPLE_S:-30}"

# shellcheck source=bench-lib.sh
source "$here/bench-lib.sh"
# shellcheck source=procstat.sh
source "$here/procstat.sh"
bench_setup run-rss wrk jq curl python3

echo "run-rss: $(date -u +%FT%TZ) $(nproc) cores; N=$n poll ${poll} ms; ${minutes} min; read caches: $caches; $(uptime)" >&2
start_sim "$n"
declare -A pid port
for c in $caches; do
  mkdir -p "$out/c$c"
  em_port=$(free_port)
  edgemes_config "$n" "$out/c$c" "$em_port" "$poll"
  jq --argjson c "$c" '.database.read_cache_size_kib = $c' "$out/c$c/edgemes.json" >"$out/c$c/cfg.json"
  "${EDGEMES:-$build/bin/edgemes}" run --config "$out/c$c/cfg.json" >"$out/c$c/edgemes.log" 2>&1 &
  pid[$c]=$!
  port[$c]=$em_port
  bench_pids+=("${pid[$c]}")
  wait_http "http://127.0.0.1:$em_port/api/v1/health" 60
done

csv="$out/rss.csv"
echo "elapsed_s,read_cache_kib,rss_kib,samples_committed,dropped" >"$csv"
script="$out/load.lua"
cat "$here/wrk/random_machine.lua" >"$script"
start=$SECONDS
next_load=$((SECONDS + load_every))
next_sample=$SECONDS
while ((SECONDS - start < minutes * 60)); do
  if ((SECONDS >= next_sample)); then
    for c in $caches; do
      h=$(curl -fsS "http://127.0.0.1:${port[$c]}/api/v1/health" || echo '{}')
      echo "$((SECONDS - start)),$c,$(mem_kib "${pid[$c]}" VmRSS),$(jq '.writer.samples_committed' <<<"$h"),$(jq '.writer.dropped_samples' <<<"$h")" >>"$csv"
    done
    next_sample=$((next_sample + sample_s))
  fi
  if ((SECONDS >= next_load)); then
    wrk_pids=()
    for c in $caches; do
      wrk -t1 -c"$conns" -d"${load_s}s" -s "$script" "http://127.0.0.1:${port[$c]}" -- "$n" 86400 >"$out/wrk-c$c.txt" 2>&1 &
      wrk_pids+=($!)
    done
    wait "${wrk_pids[@]}" 2>/dev/null || true
    next_load=$((SECONDS + load_every))
  fi
  sleep 1
done
echo "run-rss: done $(date -u +%FT%TZ); $(uptime)" >&2

printf '\n%s min, N=%s machines polled every %s ms, wrk bursts of %s s every %s s (%s conns, random machine, 24 h range)\n' \
  "$minutes" "$n" "$poll" "$load_s" "$load_every" "$conns"
printf '%-16s | %12s | %12s | %12s\n' read_cache_kib "RSS max MiB" "RSS last MiB" dropped
for c in $caches; do
  awk -F, -v c="$c" 'NR > 1 && $2 == c { if ($3 > m) m = $3; last = $3; d = $5 }
    END { printf "%-16s | %12.1f | %12.1f | %12s\n", c, m / 1024, last / 1024, d }' "$csv"
done
echo
cat "$csv"
