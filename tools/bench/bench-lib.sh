# bench-lib.sh: shared pieces of the tools/bench/run-*.sh scripts (all but
# run-seed.sh), each of which sources it first:
#   source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
# It sets $here (tools/bench), $root (the repository) and $build (BUILD_DIR,
# default <repo>/build-bench), sources procstat.sh, and gives the set-up
# (tools, build, temp dir $out, EXIT trap), free ports, starting edgemes-sim /
# edgemes on 127.0.0.1 in $out, waiting for them with deadlines, and stopping
# every process the script started (bench_cleanup).

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
# shellcheck source=procstat.sh
source "$here/procstat.sh"

bench_pids=()

# bench_tools NAME TOOL...: exits with a hint unless each TOOL is installed.
bench_tools() {
  local name=$1 cmd
  shift
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null || { echo "$name: needs $cmd: sudo bash $here/setup-bench.sh" >&2; exit 1; }
  done
}

# bench_build NAME TARGET...: configures $build (BUILD_TYPE, default
# RelWithDebInfo) and builds the TARGETs there.
bench_build() {
  local name=$1
  shift
  echo "$name: building $* in $build" >&2
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build "$build" --target "$@" -j2 >/dev/null
}

# bench_tmp NAME [COMMAND]: makes the temp dir $out (/tmp/edgemes-NAME.XXXXXX)
# and an EXIT trap that runs COMMAND (e.g. stopping a process the script
# tracks itself), stops every process in bench_pids and removes $out (kept
# with KEEP=1, and said so).
bench_tmp() {
  out="$(mktemp -d "/tmp/edgemes-$1.XXXXXX")"
  bench_tmp_exit=${2:-}
  trap 'eval "$bench_tmp_exit"; bench_cleanup
        if [[ "${KEEP:-0}" == 1 ]]; then echo "$(basename "$0" .sh): kept $out" >&2; else rm -rf "$out"; fi' EXIT
}

# bench_setup NAME TOOL...: checks that each TOOL is installed, raises the
# open-file limit, builds edgemes and edgemes-sim in $build (BUILD_TYPE,
# default RelWithDebInfo), makes the temp dir $out and an EXIT trap that stops
# every started process and removes $out (kept with KEEP=1).
bench_setup() {
  local name=$1
  shift
  bench_tools "$name" "$@"
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  bench_build "$name" edgemes edgemes-sim
  bench_tmp "$name"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_http URL SECONDS: until URL answers 2xx, or fail.
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "bench: $1 not up after $2 s" >&2; return 1; }
    sleep 0.2
  done
}

# stop_pid PID: SIGTERM, wait up to 30 s, then SIGKILL.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do stop_pid "$pid"; done
}

# start_sim N: edgemes-sim with N machines (m0001.., cycling placer, printer,
# reflow, aoi); sets sim_pid and sim_port. SIM_KEEP_ALIVE_S (default 0: one
# connection per poll): with keep-alive every open connection holds a sim
# thread that wakes ~90 times a second (cpp-httplib 0.11), and at 1000
# machines the simulator alone took 1.3 cores, starving what it was measuring.
start_sim() {
  sim_port=$(free_port)
  "$build/bin/edgemes-sim" --port "$sim_port" --machines "$1" \
    --keep-alive-s "${SIM_KEEP_ALIVE_S:-0}" >"$out/sim-$1.log" 2>&1 &
  sim_pid=$!
  bench_pids+=("$sim_pid")
  wait_http "http://127.0.0.1:$sim_port/machines" 30
}

# The sim types' standard metrics (adapters/sim_types.cpp, docs/SIMULATOR.md).
declare -A sim_metrics=(
  [placer]='"placements_total":"/counters/placements","boards_total":"/counters/boards","rejects_total":"/counters/rejects","cycle_time_s":"/cycle_time_s","feeder_errors":"/feeder_errors","nozzle_vacuum_kpa":"/nozzle_vacuum_kpa","head_temp_c":"/head_temp_c"'
  [printer]='"prints_total":"/counters/prints","boards_total":"/counters/boards","squeegee_pressure_kg":"/squeegee_pressure_kg","print_speed_mm_s":"/print_speed_mm_s","paste_height_um":"/paste_height_um","stencil_wipes":"/stencil_wipes"'
  [reflow]='"zone1_c":"/oven/zones/0","zone2_c":"/oven/zones/1","zone3_c":"/oven/zones/2","zone4_c":"/oven/zones/3","zone5_c":"/oven/zones/4","zone6_c":"/oven/zones/5","zone7_c":"/oven/zones/6","zone8_c":"/oven/zones/7","conveyor_mm_s":"/oven/conveyor_mm_s","o2_ppm":"/oven/o2_ppm","boards_total":"/counters/boards"'
  [aoi]='"inspected_total":"/counters/inspected","defects_total":"/counters/defects","false_calls_total":"/counters/false_calls","first_pass_yield":"/first_pass_yield","cycle_time_s":"/cycle_time_s","camera_temp_c":"/camera_temp_c"'
)
sim_types=(placer printer reflow aoi)
machine_id() { printf 'm%04d' "$1"; }

# edgemes_config N DIR API_PORT POLL_MS: writes DIR/edgemes.json, N http_json
# machines on the sim, each with its type's standard metrics and state.
edgemes_config() {
  local n=$1 dir=$2 port=$3 poll=$4 i id type sep=""
  {
    printf '{"site":"bench","database":{"path":"%s/edgemes.db"},\n' "$dir"
    printf ' "api":{"bind":"127.0.0.1","port":%d},\n' "$port"
    printf ' "lines":[{"id":"bench","machines":[\n'
    for ((i = 1; i <= n; i++)); do
      id=$(machine_id "$i"); type=${sim_types[$(((i - 1) % 4))]}
      printf '%s  {"id":"%s","type":"%s","poll_interval_ms":%d,' "$sep" "$id" "$type" "$poll"
      printf '"source":{"adapter":"http_json","url":"http://127.0.0.1:%d/machines/%s/status","timeout_ms":1000},' \
        "$sim_port" "$id"
      printf '"metrics":{%s},"state":"/state"}' "${sim_metrics[$type]}"
      sep=$',\n'
    done
    printf '\n]}]}\n'
  } >"$dir/edgemes.json"
}

# start_edgemes N DIR POLL_MS: sets em_pid and em_port; waits for /health.
# EDGEMES=path runs another edgemes binary (e.g. an experimental build);
# EDGEMES_JQ='.writer.flush_interval_ms = 500' edits the config with jq first.
start_edgemes() {
  em_port=$(free_port)
  edgemes_config "$1" "$2" "$em_port" "$3"
  if [[ -n ${EDGEMES_JQ:-} ]]; then
    jq "$EDGEMES_JQ" "$2/edgemes.json" >"$2/edgemes.json.tmp" && mv "$2/edgemes.json.tmp" "$2/edgemes.json"
  fi
  "${EDGEMES:-$build/bin/edgemes}" run --config "$2/edgemes.json" >"$2/edgemes.log" 2>&1 &
  em_pid=$!
  bench_pids+=("$em_pid")
  wait_http "http://127.0.0.1:$em_port/api/v1/health" 60
}

# wrk_json ARGS...: runs wrk with report.lua (plus a request script given as
# WRK_REQUEST=file) and prints the wrkjson object.
wrk_json() {
  local script="$out/wrk-$$.lua"
  cat ${WRK_REQUEST:+"$WRK_REQUEST"} "$here/wrk/report.lua" >"$script"
  wrk -s "$script" "$@" >"$out/wrk-last.txt" 2>&1 || true
  grep '^wrkjson ' "$out/wrk-last.txt" | sed 's/^wrkjson //' || echo '{"error":"wrk failed"}'
}

# median of the numbers on stdin (jq -s), null when none
jq_median='map(select(. != null)) | sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
           else (.[length / 2 - 1] + .[length / 2]) / 2 end'
