#!/usr/bin/env bash
# run-rss.sh: edgemes's resident memory over a long run (target: RSS with 1000
# polled machines <= 100 MiB). One edgemes-sim serves N machines; one edgemes
# per entry of VARIANTS (a jq filter applied to the generated config) polls all
# of them at POLL_MS, side by side, each with its own database. Every LOAD_EVERY s a
# wrk burst of LOAD_S s asks random machines for a metric over the last 24 h
# (and their status) on every daemon, so the query connections touch pages all
# over the file. RSS (VmRSS) is sampled every SAMPLE_S s; prints max and last
# per daemon, and the samples as CSV. Results: docs/BENCHMARKS.md.
#
#   bash tools/bench/run-rss.sh                 # 40 min: no SQLite memory cap vs the default
#   MINUTES=1440 VARIANTS='.' bash tools/bench/run-rss.sh   # the 24 h run, defaults only
#   VARIANTS='.database.read_cache_size_kib = 64000;.' bash tools/bench/run-rss.sh
#   VARIANTS='.;.;.' ENVS='-;MALLOC_CONF=narenas:1;-' EDGEMES_BINS='-;-;build-glibc/bin/edgemes' \
#     bash tools/bench/run-rss.sh        # allocator settings side by side
#
# Environment: N (1000), POLL_MS (1000), MINUTES (40),
# VARIANTS ('.database.memory_limit_kib = 0;.': ';'-separated jq filters, '.' = defaults),
# LOAD_EVERY (120), LOAD_S (20), CONNS (8), SAMPLE_S (30),
# BUILD_DIR (<repo>/build-bench), EDGEMES (another edgemes binary), KEEP=1,
# ENVS (';'-separated, one per variant: an environment assignment for that
# daemon, e.g. jemalloc's MALLOC_CONF=...; '-' = none), EDGEMES_BINS (';'-separated,
# one per variant: its edgemes binary; '-' = EDGEMES or the build's).
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

n="${N:-1000}"
poll="${POLL_MS:-1000}"
minutes="${MINUTES:-40}"
IFS=';' read -r -a variants <<<"${VARIANTS:-.database.memory_limit_kib = 0;.}"
IFS=';' read -r -a envs <<<"${ENVS:-}"
IFS=';' read -r -a bins <<<"${EDGEMES_BINS:-}"
load_every="${LOAD_EVERY:-120}"
load_s="${LOAD_S:-20}"
conns="${CONNS:-8}"
sample_s="${SAMPLE_S:-30}"

bench_setup run-rss wrk jq curl python3

echo "run-rss: $(date -u +%FT%TZ) $(nproc) cores; N=$n poll ${poll} ms; ${minutes} min; variants: ${variants[*]}; $(uptime)" >&2
start_sim "$n"
declare -A pid port
vs=$(seq 0 $((${#variants[@]} - 1)))
for v in $vs; do
  mkdir -p "$out/v$v"
  em_port=$(free_port)
  edgemes_config "$n" "$out/v$v" "$em_port" "$poll"
  jq "${variants[$v]}" "$out/v$v/edgemes.json" >"$out/v$v/cfg.json"
  bin="${bins[$v]:--}"
  [[ "$bin" == - ]] && bin="${EDGEMES:-$build/bin/edgemes}"
  assign="${envs[$v]:--}"
  [[ "$assign" == - ]] && assign="EDGEMES_RSS_VARIANT=$v"
  echo "run-rss: variant $v: ${variants[$v]} | $assign | $bin" >&2
  env "$assign" "$bin" run --config "$out/v$v/cfg.json" >"$out/v$v/edgemes.log" 2>&1 &
  pid[$v]=$!
  port[$v]=$em_port
  bench_pids+=("${pid[$v]}")
  wait_http "http://127.0.0.1:$em_port/api/v1/health" 60
done

csv="$out/rss.csv"
echo "elapsed_s,variant,rss_kib,sqlite_bytes,samples_committed,dropped" >"$csv"
script="$out/load.lua"
cat "$here/wrk/random_machine.lua" >"$script"
start=$SECONDS
next_load=$((SECONDS + load_every))
next_sample=$SECONDS
while ((SECONDS - start < minutes * 60)); do
  if ((SECONDS >= next_sample)); then
    for v in $vs; do
      h=$(curl -fsS "http://127.0.0.1:${port[$v]}/api/v1/health" || echo '{}')
      echo "$((SECONDS - start)),$v,$(mem_kib "${pid[$v]}" VmRSS),$(jq '.memory.sqlite_bytes' <<<"$h"),$(jq '.writer.samples_committed' <<<"$h"),$(jq '.writer.dropped_samples' <<<"$h")" >>"$csv"
    done
    next_sample=$((next_sample + sample_s))
  fi
  if ((SECONDS >= next_load)); then
    wrk_pids=()
    for v in $vs; do
      wrk -t1 -c"$conns" -d"${load_s}s" -s "$script" "http://127.0.0.1:${port[$v]}" -- "$n" 86400 >"$out/wrk-v$v.txt" 2>&1 &
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
printf '%-40s | %11s | %12s | %14s | %7s\n' variant "RSS max MiB" "RSS last MiB" "SQLite max MiB" dropped
for v in $vs; do
  awk -F, -v v="$v" -v name="${variants[$v]} ${envs[$v]:-} ${bins[$v]:-}" 'NR > 1 && $2 == v { if ($3 > m) m = $3; if ($4 > q) q = $4; last = $3; d = $6 }
    END { printf "%-40s | %11.1f | %12.1f | %14.1f | %7s\n", name, m / 1024, last / 1024, q / 1048576, d }' "$csv"
done
echo
cat "$csv"
