#!/usr/bin/env bash
# run-bom-import.sh: how long a 10 000-line BOM import takes through the
# running daemon (issue 14's target: under a second). A daemon with
# MACHINES simulated machines polled every 100 ms (so the writer also commits
# telemetry) takes REPS imports of each of two 10 000-row files, as
# `POST /api/v1/products/{id}/bom` with curl: parse on the HTTP thread, then
# one write job on the writer (the revision and 10 000 items in one
# transaction, committed with the daemon's synchronous=NORMAL). Prints each
# import's wall time (curl's time_total) and the medians; the same files
# through `edgemes import-bom` (local parse + HTTP) once each. Results:
# docs/BENCHMARKS.md, "BOM import".
#
#   bash tools/bench/run-bom-import.sh            # REPS=5, MACHINES=50
#
# Environment: REPS (5), MACHINES (50), ROWS (10000), BUILD_DIR (<repo>/build-bench),
# KEEP=1 keeps the temp dir.
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

reps="${REPS:-5}"
machines="${MACHINES:-50}"
rows="${ROWS:-10000}"

bench_setup run-bom-import curl python3

echo "run-bom-import: $(date -u +%FT%TZ) $(nproc) cores; $rows rows, $reps reps, $machines machines; $(uptime)" >&2

# Two shapes of the same size: one designator per row, ',' (a CAD export);
# quoted ranges "R1-R3, R4", ';', byte-order mark, CRLF (an ERP export).
python3 - "$out" "$rows" <<'PY'
import sys
out, rows = sys.argv[1], int(sys.argv[2])
with open(f"{out}/single.csv", "w", newline="") as f:
    f.write("Designator,Part Number,Qty,Description,Side\n")
    for i in range(1, rows + 1):
        f.write(f"R{i},RC0603-{i % 97},1,resistor {i},{'Top' if i % 2 else 'Bottom'}\n")
with open(f"{out}/ranges.csv", "w", newline="", encoding="utf-8-sig") as f:
    f.write("Designator;Part Number;Qty;Description;Side\r\n")
    for i in range(rows):
        b = 4 * i
        f.write(f'"R{b + 1}-R{b + 3}, R{b + 4}";RC0402-{i % 89};4;"chip, {i}";Bottom\r\n')
PY

port=$(free_port)
{
  printf '{"site":"bench","database":{"path":"%s/bom.db"},\n' "$out"
  printf ' "api":{"bind":"127.0.0.1","port":%d,"token":"bench-token-0123456789"},\n' "$port"
  printf ' "lines":[{"id":"l1","machines":['
  sep=""
  for ((i = 1; i <= machines; i++)); do
    printf '%s{"id":"%s","type":"%s","poll_interval_ms":100,"source":{"adapter":"sim"}}' \
      "$sep" "$(machine_id "$i")" "${sim_types[$(((i - 1) % 4))]}"
    sep=","
  done
  printf ']}]}\n'
} >"$out/bom.json"
"$build/bin/edgemes" run --config "$out/bom.json" >"$out/edgemes.log" 2>&1 &
bench_pids+=("$!")
deadline=$((SECONDS + 60))
until curl -fsS -o /dev/null -H 'Authorization: Bearer bench-token-0123456789' "http://127.0.0.1:$port/api/v1/health"; do
  ((SECONDS < deadline)) || { echo "run-bom-import: daemon not up" >&2; exit 1; }
  sleep 0.2
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

for shape in single ranges; do
  bytes=$(stat -c %s "$out/$shape.csv")
  : >"$out/$shape.times"
  for ((r = 1; r <= reps; r++)); do
    t=$(curl -sS -o "$out/reply.json" -w '%{http_code} %{time_total}' \
      -H 'Authorization: Bearer bench-token-0123456789' -H 'Content-Type: text/csv' \
      --data-binary @"$out/$shape.csv" "http://127.0.0.1:$port/api/v1/products/$shape/bom")
    [[ ${t%% *} == 201 ]] || { echo "run-bom-import: import refused: $t $(cat "$out/reply.json")" >&2; exit 1; }
    ms=$(awk -v s="${t#* }" 'BEGIN {printf "%.0f", s * 1000}')
    echo "$ms" >>"$out/$shape.times"
    echo "  $shape rep $r: $ms ms ($(cat "$out/reply.json"))"
  done
  echo "$shape: $rows rows, $bytes bytes: median $(median <"$out/$shape.times") ms over $reps imports"
  start=$(date +%s%N)
  EDGEMES_TOKEN=bench-token-0123456789 "$build/bin/edgemes" import-bom --config "$out/bom.json" --product "$shape-cli" "$out/$shape.csv" >/dev/null
  echo "$shape via edgemes import-bom (local parse + HTTP): $((($(date +%s%N) - start) / 1000000)) ms"
done
