#!/usr/bin/env bash
# run-ingest.sh: builds edgemes-bench and runs the ingest benchmarks — raw
# storage::writer ceiling, then the full actor pipeline — REPS times each
# (interleaved, so background load hits both alike) into a temp dir, then
# prints a table of medians. Results and method: docs/BENCHMARKS.md.
#
#   bash tools/bench/run-ingest.sh                 # 10 M samples, 3 repetitions
#   SAMPLES=2000000 REPS=1 bash tools/bench/run-ingest.sh
#
# Environment: BUILD_TYPE (RelWithDebInfo), BUILD_DIR (<repo>/build-bench),
# SAMPLES (10000000), REPS (3), MACHINES (1000), INTERVAL_MS (25: 1000 machines
# x 20 metrics offer 800 k samples/s, about twice what the writer commits here),
# KEEP=1 keeps the temp dir with every run's JSON.
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
samples="${SAMPLES:-10000000}"
reps="${REPS:-3}"
machines="${MACHINES:-1000}"
interval="${INTERVAL_MS:-25}"

bench_tools run-ingest jq
bench_build run-ingest edgemes-bench
bench="$build/bin/edgemes-bench"
bench_tmp bench

raw_cmd=("$bench" ingest-raw --db "$out/raw.db" --machines "$machines" --metrics 20
         --samples "$samples" --batch-polls 1000 --report-every 1000000 --json)
pipe_cmd=("$bench" ingest-pipeline --db "$out/pipeline.db" --machines "$machines"
          --samples "$samples" --interval-ms "$interval" --max-batch 5000 --flush-ms 200
          --report-every 1000000 --json)
echo "run-ingest: ${raw_cmd[*]}" >&2
echo "run-ingest: ${pipe_cmd[*]}" >&2

start=$(date +%s)
for ((r = 1; r <= reps; r++)); do
  echo "run-ingest: repetition $r/$reps" >&2
  "${raw_cmd[@]}" >"$out/raw-$r.json"
  "${pipe_cmd[@]}" >"$out/pipeline-$r.json"
done
echo "run-ingest: $(( $(date +%s) - start )) s of benchmarks, results in $out" >&2

# median of the numbers on stdin
median='sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
        else (.[length / 2 - 1] + .[length / 2]) / 2 end'
# $f: field of the first point at or past $n samples, median over repetitions
at() { jq -s --argjson n "$2" "[.[] | [.points[] | select(.samples >= \$n)][0].$3 // empty] | $median" \
          "$out"/"$1"-*.json; }
sum() { jq -s "[.[].summary.$2] | $median" "$out"/"$1"-*.json; }
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "null") print "-"; else printf "%.*f", d, v }'; }

printf '\nmedians of %s repetition(s); rate = samples/s over the 1 M samples before the point\n' "$reps"
printf '%-9s | %12s | %12s | %6s | %9s | %9s | %8s | %9s\n' \
  samples "raw rate" "pipe rate" "p/raw" "raw B/smp" "pipe B/smp" "pipe RSS" "dropped"
for n in 1000000 5000000 10000000; do
  (( n <= samples )) || continue
  rr=$(at raw $n interval_rate); pr=$(at pipeline $n interval_rate)
  printf '%-9s | %12s | %12s | %6s | %9s | %9s | %6s M | %9s\n' "$((n / 1000000)) M" \
    "$(fmt "$rr")" "$(fmt "$pr")" "$(fmt "$(awk -v a="$pr" -v b="$rr" 'BEGIN{print a/b}')" 2)" \
    "$(fmt "$(at raw $n bytes_per_sample)" 1)" "$(fmt "$(at pipeline $n bytes_per_sample)" 1)" \
    "$(fmt "$(awk -v k="$(at pipeline $n rss_kib)" 'BEGIN{print k/1024}')" 1)" \
    "$(fmt "$(at pipeline $n dropped)")"
done
printf '\nwhole run (medians)      | %12s | %12s\n' raw pipeline
for f in samples_per_s bytes_per_sample written_bytes_per_sample peak_rss_kib; do
  printf '%-24s | %12s | %12s\n' "$f" "$(fmt "$(sum raw $f)" 1)" "$(fmt "$(sum pipeline $f)" 1)"
done
printf '%-24s | %12s | %12s\n' dropped_samples - "$(fmt "$(sum pipeline dropped_samples)")"
printf '%-24s | %12s | %12s\n' offered_samples_per_s - "$(fmt "$(sum pipeline offered_samples_per_s)")"
