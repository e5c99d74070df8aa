#!/usr/bin/env bash
# run-modbus.sh: edgemes polling N simulated machines over Modbus TCP next to
# edgemes polling the same N machines over http_json, side by side in one run
# (issue 13's measure: 0 missed polls, CPU <= the http_json figure). One
# edgemes-sim serves both protocols; two daemons, each with its own database,
# poll it at POLL_MS. After WARMUP s each daemon's CPU (utime+stime), RSS and
# committed samples are measured over WINDOW s; missed and failed polls come
# from the daemon's own /health and /machines. REPS repetitions, each with
# fresh daemons; prints every repetition and the medians. Results:
# docs/BENCHMARKS.md, "Modbus TCP vs http_json".
#
#   bash tools/bench/run-modbus.sh                  # N=1000, 1 s polls, 3 x 60 s
#   N=200 WINDOW=20 REPS=1 bash tools/bench/run-modbus.sh
#
# Environment: N (1000), POLL_MS (1000), WARMUP (20), WINDOW (60), REPS (3),
# BUILD_DIR (<repo>/build-bench), KEEP=1 keeps the temp dir.
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

n="${N:-1000}"
poll="${POLL_MS:-1000}"
warmup="${WARMUP:-20}"
window="${WINDOW:-60}"
reps="${REPS:-3}"

bench_setup run-modbus jq curl python3

echo "run-modbus: $(date -u +%FT%TZ) $(nproc) cores; N=$n poll ${poll} ms; warm-up ${warmup} s, window ${window} s, ${reps} reps; $(uptime)" >&2

# One simulator serving HTTP and Modbus TCP (machine i: unit 1 + i % 247 on
# port modbus_port + i / 247).
sim_port=$(free_port)
modbus_port=$(python3 -c 'import socket
for _ in range(50):
    ports = []
    try:
        base = socket.socket(); base.bind(("127.0.0.1", 0)); p = base.getsockname()[1]; base.close()
        for k in range(5):
            s = socket.socket(); s.bind(("127.0.0.1", p + k)); ports.append(s)
        print(p); break
    except OSError:
        pass
    finally:
        for s in ports: s.close()')
"$build/bin/edgemes-sim" --port "$sim_port" --modbus-port "$modbus_port" --machines "$n" \
  --keep-alive-s 0 >"$out/sim.log" 2>&1 &
sim_pid=$!
bench_pids+=("$sim_pid")
wait_http "http://127.0.0.1:$sim_port/machines" 30

# The Modbus config as the simulator prints it, with this run's database, API
# port and poll interval.
modbus_config() {
  local dir=$1 port=$2
  "$build/bin/edgemes-sim" --print-config modbus --modbus-port "$modbus_port" --machines "$n" |
    jq --arg db "$dir/edgemes.db" --argjson port "$port" --argjson poll "$poll" \
      '.database.path = $db | .api = {"bind": "127.0.0.1", "port": $port}
       | .lines[].machines[].poll_interval_ms = $poll' >"$dir/edgemes.json"
}

health() { curl -fsS "http://127.0.0.1:$1/api/v1/health"; }
failed_polls() { curl -fsS "http://127.0.0.1:$1/api/v1/machines" | jq '[.machines[].polls.failed] | add'; }

results=()
for ((r = 1; r <= reps; r++)); do
  declare -A pid=() port=()
  for proto in http modbus; do
    dir="$out/$proto-$r"
    mkdir -p "$dir"
    if [[ $proto == http ]]; then
      start_edgemes "$n" "$dir" "$poll"
      pid[$proto]=$em_pid port[$proto]=$em_port
    else
      port[$proto]=$(free_port)
      modbus_config "$dir" "${port[$proto]}"
      "$build/bin/edgemes" run --config "$dir/edgemes.json" >"$dir/edgemes.log" 2>&1 &
      pid[$proto]=$!
      bench_pids+=("${pid[$proto]}")
      wait_http "http://127.0.0.1:${port[$proto]}/api/v1/health" 60
    fi
  done
  sleep "$warmup"
  declare -A t0=() s0=()
  for proto in http modbus; do
    t0[$proto]=$(cpu_ticks "${pid[$proto]}")
    s0[$proto]=$(health "${port[$proto]}" | jq '.writer.samples_committed')
  done
  sleep "$window"
  for proto in http modbus; do
    t1=$(cpu_ticks "${pid[$proto]}")
    h=$(health "${port[$proto]}")
    s1=$(jq '.writer.samples_committed' <<<"$h")
    results+=("$(jq -cn --arg proto "$proto" --argjson rep "$r" \
      --argjson cores "$(cores "${t0[$proto]}" "$t1" "$window")" \
      --argjson rss "$(mem_kib "${pid[$proto]}" VmRSS)" \
      --argjson samples "$(( (s1 - s0[$proto]) / window ))" \
      --argjson missed "$(jq '.pollers.missed_polls' <<<"$h")" \
      --argjson dropped "$(jq '.writer.dropped_samples' <<<"$h")" \
      --argjson failed "$(failed_polls "${port[$proto]}")" \
      '{rep: $rep, proto: $proto, cores: $cores, rss_mib: ($rss / 1024 * 10 | round / 10),
        samples_per_s: $samples, missed_polls: $missed, failed_polls: $failed, dropped: $dropped}')")
    echo "run-modbus: ${results[-1]}" >&2
  done
  for proto in http modbus; do stop_pid "${pid[$proto]}"; done
done

printf '%s\n' "${results[@]}" >"$out/results.jsonl"
echo
echo "protocol | cores (median) | RSS MiB (median) | samples/s (median) | missed polls (max) | failed polls (max) | dropped (max)"
for proto in http modbus; do
  jq -rs --arg proto "$proto" "
    def median: $jq_median;
    map(select(.proto == \$proto)) as \$r
    | \"\(\$proto) | \(\$r | map(.cores) | median) | \(\$r | map(.rss_mib) | median) | \(\$r | map(.samples_per_s) | median) | \(\$r | map(.missed_polls) | max) | \(\$r | map(.failed_polls) | max) | \(\$r | map(.dropped) | max)\"" \
    "$out/results.jsonl"
done
echo "modbus/http cores, same repetition: $(jq -rs '[group_by(.rep)[] | (map(select(.proto == "modbus"))[0].cores / map(select(.proto == "http"))[0].cores)] | map(. * 100 | round / 100) | join(" / ")' "$out/results.jsonl")"
