#!/usr/bin/env bash
# run-prometheus.sh: edgemes against Prometheus 2.42 polling the same simulated
# machines at 1 s. For each N, one edgemes-sim serves N
# machines; edgemes (N http_json machines on /machines/{id}/status) and
# Prometheus (N static targets on /machines/{id}/metrics, scrape_interval 1s)
# run ONE AFTER THE OTHER against it, each from an empty temp dir, the order
# alternating per repetition so background load hits both alike. Each run:
# WARMUP s, then a DURATION s window measuring CPU (utime+stime of the daemon
# from /proc), RSS, samples stored/s, missed polls, bytes on disk per sample and
# bytes WRITTEN per stored sample (write_bytes of /proc/PID/io over the window:
# WAL, checkpoints, compaction — what wears flash); then FSYNC_S s of strace
# counting fsync/fdatasync calls; then WRK_SECONDS of wrk on a one-hour range
# query of one metric while polling goes on. Results and method: docs/BENCHMARKS.md.
#
#   bash tools/bench/run-prometheus.sh                         # N=200 and 1000, 3 reps, 180 s
#   NS=200 REPS=1 DURATION=30 bash tools/bench/run-prometheus.sh   # quick check
#   NS=1000 REPS=1 DURATION=1200 PROM_BLOCK=10m bash tools/bench/run-prometheus.sh
#       # Prometheus's compacted size: with blocks of 10 min (hidden flags
#       # --storage.tsdb.{min,max}-block-duration) the head is compacted after
#       # 15 min; compacted_bytes_per_sample = bytes of the persisted blocks /
#       # their meta.json numSamples. The default 2 h blocks need a > 3 h run.
#
# Environment: FSYNC_S (20; 0 = skip), NS ("200 1000"), SYSTEMS ("edgemes prometheus"; add edgemes-exp
# with EXP_EDGEMES=binary and/or EXP_JQ=jq-filter-on-its-config to compare an
# experimental build or setting in the same run), REPS (3), DURATION (180), WARMUP (15),
# WRK_SECONDS (20), WRK_CONNS (50), WRK_THREADS (2), BUILD_DIR
# (<repo>/build-bench), BUILD_TYPE (RelWithDebInfo), EDGEMES (another edgemes
# binary, e.g. an experimental build), KEEP=1 keeps the temp dir.
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

ns="${NS:-200 1000}"
reps="${REPS:-3}"
duration="${DURATION:-180}"
warmup="${WARMUP:-15}"
wrk_s="${WRK_SECONDS:-20}"
wrk_c="${WRK_CONNS:-50}"
wrk_t="${WRK_THREADS:-2}"
fsync_s="${FSYNC_S:-20}"
read -r -a systems <<<"${SYSTEMS:-edgemes prometheus}"
# edgemes-exp = the same harness on another edgemes binary ($EXP_EDGEMES)
declare -A bin=([edgemes]="${EDGEMES:-}" [edgemes-exp]="${EXP_EDGEMES:-}")
metric=head_temp_c  # m0001 is a placer; a gauge that changes every poll
step_s=20           # = edgemes /series default for one hour (180 buckets, on 10 s rollups)

bench_setup run-prometheus prometheus wrk jq curl python3 strace
results="$out/results.jsonl"

prometheus_config() {  # N DIR
  local n=$1 i id
  {
    printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1m\n'
    printf 'scrape_configs:\n  - job_name: sim\n    static_configs:\n'
    for ((i = 1; i <= n; i++)); do
      id=$(machine_id "$i")
      # Same address for every target: the path tells them apart, and the
      # instance label keeps Prometheus's own up/scrape_* series distinct.
      printf '      - targets: ["127.0.0.1:%d"]\n' "$sim_port"
      printf '        labels: {__metrics_path__: "/machines/%s/metrics", instance: "%s"}\n' "$id" "$id"
    done
  } >"$2/prometheus.yml"
}

prom_counter() {  # PORT NAME: a metric of Prometheus itself, summed over its labels
  curl -fsS "http://127.0.0.1:$1/metrics" |
    awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }'
}

# measure SYSTEM N REP: one run; appends a JSON line to $results.
# The steps of measure below. Each reads and sets measure's locals (bash
# scoping is dynamic): sys, n, dir, pid, port and the window's counters.

# start_system: starts $sys (edgemes, edgemes-exp or prometheus) for $n
# machines in $dir; sets pid and port once it is up.
start_system() {
  if [[ $sys == edgemes* ]]; then
    local jq_filter=""
    [[ $sys == edgemes-exp ]] && jq_filter=${EXP_JQ:-}
    EDGEMES=${bin[$sys]} EDGEMES_JQ=$jq_filter start_edgemes "$n" "$dir" 1000
    pid=$em_pid port=$em_port
  else
    port=$(free_port)
    prometheus_config "$n" "$dir"
    prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
      ${PROM_BLOCK:+--storage.tsdb.min-block-duration="$PROM_BLOCK" --storage.tsdb.max-block-duration="$PROM_BLOCK"} \
      --web.listen-address="127.0.0.1:$port" >"$dir/prometheus.log" 2>&1 &
    pid=$!
    bench_pids+=("$pid")
    wait_http "http://127.0.0.1:$port/-/ready" 60
  fi
}

# count_polls: successful polls in the window and the polls missed (sets okc,
# missed; for edgemes also ok1, dm1). Missed polls: per machine, successful
# polls in the window short of floor(window) - 1 (one of slack for where the
# window cuts the schedule).
count_polls() {
  if [[ $sys == edgemes* ]]; then
    ok1=$(oks); dm1=$(daemon_missed)
    read -r okc missed < <(jq -rn --argjson a "$ok0" --argjson b "$ok1" --argjson w "$wi" \
      '[$b | to_entries[] | .value - $a[.key]] as $d
       | "\($d | add) \([$d[] | ($w - 1 - .) | if . > 0 then . else 0 end] | add)"')
  else
    read -r okc missed < <(curl -fsS "http://127.0.0.1:$port/api/v1/query" \
      --data-urlencode "query=sum_over_time(up[${wi}s])" --data-urlencode "time=$t1" |
      jq -r --argjson w "$wi" --argjson n "$n" '[.data.result[] | .value[1] | tonumber] as $d
       | "\($d | add) \([$d[] | ($w - 1 - .) | if . > 0 then . else 0 end] | add + ($n - ($d | length)) * ($w - 1))"')
  fi
}

# disk_usage: bytes on disk (sets disk), and for Prometheus its persisted
# (compacted) blocks only: their bytes and samples (adds to blocks_bytes,
# blocks_samples).
disk_usage() {
  local b
  if [[ $sys == edgemes* ]]; then disk=$(du -sb "$dir"/edgemes.db* | awk '{ s += $1 } END { print s }')
  else disk=$(du -sb "$dir/tsdb" | awk '{ print $1 }'); fi
  if [[ $sys == prometheus ]]; then
    for b in "$dir"/tsdb/01*/; do
      [[ -f "$b/meta.json" ]] || continue
      blocks_bytes=$((blocks_bytes + $(du -sb "$b" | awk '{ print $1 }')))
      blocks_samples=$((blocks_samples + $(jq '.stats.numSamples' "$b/meta.json")))
    done
  fi

}

# range_query: the one-hour range query of one metric of one machine, once
# (sets q, its points) and under wrk load (sets q2, wrk's report).
range_query() {
  if [[ $sys == edgemes* ]]; then
    q=$(curl -fsS "http://127.0.0.1:$port/api/v1/machines/m0001/series?metric=$metric&step_ms=$((step_s * 1000))" |
        jq '.points | length')
    q2=$(WRK_REQUEST= wrk_json -t"$wrk_t" -c"$wrk_c" -d"${wrk_s}s" --latency \
      "http://127.0.0.1:$port/api/v1/machines/m0001/series?metric=$metric&step_ms=$((step_s * 1000))")
  else
    local now; now=$(date +%s)
    q=$(curl -fsS "http://127.0.0.1:$port/api/v1/query_range" \
        --data-urlencode "query=avg_over_time(edgemes_sim_${metric}{machine=\"m0001\"}[${step_s}s])" \
        --data-urlencode "start=$((now - 3600))" --data-urlencode "end=$now" --data-urlencode "step=$step_s" |
        jq '.data.result[0].values | length')
    q2=$(WRK_REQUEST="$here/wrk/prom_range.lua" wrk_json -t"$wrk_t" -c"$wrk_c" -d"${wrk_s}s" --latency \
      "http://127.0.0.1:$port" -- "avg_over_time(edgemes_sim_${metric}{machine=\"m0001\"}[${step_s}s])" "$step_s")
  fi
}

measure() {
  local sys=$1 n=$2 rep=$3 dir pid port t0 t1 c0 c1 s0 s1 ok0 ok1 rss_max=0 rss hwm disk total q
  dir="$out/$sys-$n-$rep"; mkdir -p "$dir"
  start_system
  sleep "$warmup"

  samples() {
    if [[ $sys == edgemes* ]]; then
      curl -fsS "http://127.0.0.1:$port/api/v1/health" | jq '.writer.samples_committed'
    else
      prom_counter "$port" prometheus_tsdb_head_samples_appended_total
    fi
  }
  oks() {  # edgemes: per-machine polls.ok so far
    curl -fsS "http://127.0.0.1:$port/api/v1/machines" | jq -c '[.machines[] | {(.id): .polls.ok}] | add'
  }
  daemon_missed() {  # edgemes: schedule slots its pollers counted as missed
    curl -fsS "http://127.0.0.1:$port/api/v1/health" | jq '.pollers.missed_polls // 0'
  }
  local dm0=0 dm1=0
  [[ $sys == edgemes* ]] && { ok0=$(oks); dm0=$(daemon_missed); }
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid"); s0=$(samples); local wb0 wb1; wb0=$(io_write_bytes "$pid")
  local end=$((SECONDS + duration))
  while ((SECONDS < end)); do
    rss=$(mem_kib "$pid" VmRSS); ((rss > rss_max)) && rss_max=$rss
    sleep 2
  done
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid"); s1=$(samples); wb1=$(io_write_bytes "$pid")
  local fsyncs=0
  ((fsync_s > 0)) && fsyncs=$(fsync_calls "$pid" "$fsync_s")
  local w; w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  local wi; wi=$(awk -v w="$w" 'BEGIN { printf "%d", w }')
  local missed okc
  count_polls
  rss=$(mem_kib "$pid" VmRSS); hwm=$(mem_kib "$pid" VmHWM)
  total=$(samples)
  local blocks_bytes=0 blocks_samples=0
  disk_usage

  # One-hour range query of one metric of one machine, under wrk load.
  local c2 c3
  c2=$(cpu_ticks "$pid")
  range_query
  c3=$(cpu_ticks "$pid")
  local hwm2; hwm2=$(mem_kib "$pid" VmHWM)
  stop_pid "$pid"

  jq -nc --arg sys "$sys" --argjson n "$n" --argjson rep "$rep" --argjson w "$w" \
    --argjson cores "$(cores "$c0" "$c1" "$w")" --argjson rss "$rss" --argjson rss_max "$rss_max" \
    --argjson hwm "$hwm" --argjson hwm_end "$hwm2" \
    --argjson sps "$(awk -v a="$s0" -v b="$s1" -v w="$w" 'BEGIN { printf "%.1f", (b - a) / w }')" \
    --argjson ok "$okc" --argjson missed "$missed" --argjson expected "$((n * wi))" \
    --argjson daemon_missed "$([[ $sys == edgemes* ]] && echo $((dm1 - dm0)) || echo null)" \
    --argjson disk "$disk" --argjson total "$total" --argjson points "${q:-0}" --argjson wrk "$q2" \
    --argjson bb "$blocks_bytes" --argjson bs "$blocks_samples" \
    --argjson wrk_cores "$(cores "$c2" "$c3" "$wrk_s")" \
    --argjson written "$((wb1 - wb0))" --argjson stored "$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.0f", b - a }')" \
    --argjson fsyncs "$fsyncs" --argjson fsync_s "$fsync_s" \
    '{system: $sys, n: $n, rep: $rep, window_s: $w, cores: $cores, rss_kib: $rss, rss_max_kib: $rss_max,
      hwm_kib: $hwm, hwm_end_kib: $hwm_end, samples_per_s: $sps, polls_ok: $ok, polls_expected: $expected,
      missed: $missed, daemon_missed: $daemon_missed, disk_bytes: $disk, samples_total: $total, bytes_per_sample: ($disk / $total),
      written_bytes: $written, written_bytes_per_s: ($written / $w),
      written_bytes_per_sample: (if $stored > 0 then $written / $stored else null end),
      fsyncs_per_s: (if $fsync_s > 0 then $fsyncs / $fsync_s else null end),
      compacted_bytes: $bb, compacted_samples: $bs,
      compacted_bytes_per_sample: (if $bs > 0 then $bb / $bs else null end),
      query_points: $points, query: $wrk, cores_under_query: $wrk_cores}' | tee -a "$results" >&2
}

echo "run-prometheus: $(date -u +%FT%TZ) $(nproc) cores; $(uptime)" >&2
for n in $ns; do
  start_sim "$n"
  sim_c0=$(cpu_ticks "$sim_pid")
  for ((r = 1; r <= reps; r++)); do
    # rotate the systems by one per repetition
    order=("${systems[@]:$(((r - 1) % ${#systems[@]}))}" "${systems[@]:0:$(((r - 1) % ${#systems[@]}))}")
    for sys in "${order[@]}"; do
      echo "run-prometheus: N=$n rep $r/$reps $sys ($(uptime | sed 's/.*load/load/'))" >&2
      measure "$sys" "$n" "$r"
    done
  done
  stop_pid "$sim_pid"
done
echo "run-prometheus: done $(date -u +%FT%TZ); $(uptime); results in $out/results.jsonl" >&2

# Table of medians per (N, system).
m() { jq -s --argjson n "$1" --arg s "$2" "[.[] | select(.n == \$n and .system == \$s) | $3] | $jq_median" "$results"; }
f() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "null" || v == "") print "-"; else printf "%.*f", d, v }'; }
printf '\nmedians of %s repetition(s), %s s windows; query = one-hour range, wrk -t%s -c%s -d%ss\n' \
  "$reps" "$duration" "$wrk_t" "$wrk_c" "$wrk_s"
printf '%-5s %-11s | %6s | %8s | %8s | %9s | %7s | %7s | %6s | %8s | %7s | %8s | %8s | %8s\n' \
  N system cores "RSS MiB" "HWM MiB" samples/s missed "d.miss" "B/smp" "wr B/smp" fsync/s "q req/s" "q p50 ms" "q p99 ms"
for n in $ns; do
  for sys in "${systems[@]}"; do
    printf '%-5s %-11s | %6s | %8s | %8s | %9s | %7s | %7s | %6s | %8s | %7s | %8s | %8s | %8s\n' "$n" "$sys" \
      "$(f "$(m "$n" $sys .cores)" 3)" "$(f "$(m "$n" $sys '.rss_kib / 1024')" 1)" \
      "$(f "$(m "$n" $sys '.hwm_kib / 1024')" 1)" "$(f "$(m "$n" $sys .samples_per_s)")" \
      "$(f "$(m "$n" $sys .missed)")" "$(f "$(m "$n" $sys '.daemon_missed // null')")" "$(f "$(m "$n" $sys .bytes_per_sample)" 1)" \
      "$(f "$(m "$n" $sys .written_bytes_per_sample)" 1)" "$(f "$(m "$n" $sys '.fsyncs_per_s // null')" 1)" \
      "$(f "$(m "$n" $sys .query.rps)")" "$(f "$(m "$n" $sys .query.p50_ms)" 2)" \
      "$(f "$(m "$n" $sys .query.p99_ms)" 2)"
  done
done
