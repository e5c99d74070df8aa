#!/usr/bin/env bash
# run-mqtt.sh: N simulated machines publishing to a mosquitto broker on this
# box, one edgemes reading them (issue 13's MQTT measure). Measures over
# WINDOW s after WARMUP s: samples committed/s, edgemes's and mosquitto's CPU,
# edgemes's RSS, everything dropped (at the broker thread's hand-off and at
# the writer); then, over PROBE s (its requests would count in edgemes's CPU),
# the delay from publish to readable through the API: a probe
# asks /api/v1/machines/{id} for one machine at a time in a tight loop and,
# each time its last_poll (the payload's ts_ms, the time the simulator
# published) changes, records now - last_poll. Same clock: one box.
# Results: docs/BENCHMARKS.md, "MQTT through mosquitto".
#
#   bash tools/bench/run-mqtt.sh                 # N=1000, 1 s, 60 s window
#   N=100 WINDOW=10 bash tools/bench/run-mqtt.sh
#
# Environment: N (1000), METRICS (20 values per message: the sim's --metrics), PUBLISH_MS (1000), WARMUP (20), WINDOW (60), PROBE (30),
# FLUSH_MS (edgemes's writer.flush_interval_ms, default 500),
# BUILD_DIR (<repo>/build-bench), KEEP=1 keeps the temp dir.
set -euo pipefail

# shellcheck source=bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

n="${N:-1000}"
publish="${PUBLISH_MS:-1000}"
metrics="${METRICS:-20}"
warmup="${WARMUP:-20}"
window="${WINDOW:-60}"
probe="${PROBE:-30}"
flush="${FLUSH_MS:-500}"

bench_setup run-mqtt jq curl python3 mosquitto

echo "run-mqtt: $(date -u +%FT%TZ) $(nproc) cores; N=$n every ${publish} ms, $metrics values each; flush ${flush} ms; warm-up ${warmup} s, window ${window} s; $(uptime)" >&2

# The broker: this run's own, on a free port, nothing kept on disk.
broker_port=$(free_port)
cat >"$out/mosquitto.conf" <<EOF
listener $broker_port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
EOF
mosquitto -c "$out/mosquitto.conf" >"$out/mosquitto.log" 2>&1 &
broker_pid=$!
bench_pids+=("$broker_pid")
python3 - "$broker_port" <<'EOF'
import socket, sys, time
deadline = time.time() + 10
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close(); break
    except OSError:
        if time.time() > deadline: sys.exit("run-mqtt: mosquitto did not start")
        time.sleep(0.1)
EOF

# edgemes with the config the simulator prints.
em_port=$(free_port)
"$build/bin/edgemes-sim" --mqtt "127.0.0.1:$broker_port" --machines "$n" --interval-ms "$publish" \
    --metrics "$metrics" --print-mqtt-config |
  jq --arg db "$out/edgemes.db" --argjson port "$em_port" --argjson flush "$flush" \
    '.database.path = $db | .api = {"bind": "127.0.0.1", "port": $port}
     | .writer.flush_interval_ms = $flush' >"$out/edgemes.json"
"$build/bin/edgemes" run --config "$out/edgemes.json" >"$out/edgemes.log" 2>&1 &
em_pid=$!
bench_pids+=("$em_pid")
wait_http "http://127.0.0.1:$em_port/api/v1/health" 60

"$build/bin/edgemes-sim" --mqtt "127.0.0.1:$broker_port" --machines "$n" --interval-ms "$publish" \
  --metrics "$metrics" >"$out/sim.log" 2>&1 &
sim_pid=$!
bench_pids+=("$sim_pid")
sleep "$warmup"

health() { curl -fsS "http://127.0.0.1:$em_port/api/v1/health"; }
h0=$(health)
e0=$(cpu_ticks "$em_pid"); b0=$(cpu_ticks "$broker_pid")
sleep "$window"
e1=$(cpu_ticks "$em_pid"); b1=$(cpu_ticks "$broker_pid")
h1=$(health)
python3 - "$em_port" "$n" "$probe" >"$out/delays.json" <<'EOF'
import http.client, json, sys, time
port, n, window = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
delays, end, k = [], time.time() + window, 0
while time.time() < end:
    ident = "m%04d" % (1 + (k * 37) % n)   # a spread of machines, 3 s each
    k += 1
    last, until = None, min(end, time.time() + 3)
    while time.time() < until:
        conn.request("GET", "/api/v1/machines/" + ident)
        doc = json.loads(conn.getresponse().read())
        seen = doc.get("last_poll")
        now = time.time() * 1000
        if seen is not None and last is not None and seen != last:
            delays.append(now - seen)
        last = seen
print(json.dumps(delays))
EOF
h2=$(health)

jq -n --argjson h0 "$h0" --argjson h1 "$h1" --argjson h2 "$h2" --slurpfile d "$out/delays.json" \
  --argjson em "$(cores "$e0" "$e1" "$window")" --argjson br "$(cores "$b0" "$b1" "$window")" \
  --argjson rss "$(mem_kib "$em_pid" VmRSS)" --argjson window "$window" --argjson n "$n" '
  def pct(p): (sort | .[((length - 1) * p | floor)]);
  ($d[0]) as $ds |
  {machines: $n,
   samples_committed_per_s: (($h1.writer.samples_committed - $h0.writer.samples_committed) / $window | floor),
   edgemes_cores: $em, mosquitto_cores: $br, edgemes_rss_mib: ($rss / 1024 * 10 | round / 10),
   dropped_at_writer: $h2.writer.dropped_samples, dropped_before_actor: $h2.pollers.missed_polls,
   duplicates: $h2.writer.duplicates,
   delay_ms: {n: ($ds | length), p50: ($ds | pct(0.5) | round), p99: ($ds | pct(0.99) | round),
              max: ($ds | max | round)}}'
