#!/usr/bin/env bash
# tools/bench/setup-bench.sh: installs the packages only the benchmarks need
# (PostgreSQL 15 and libpq for edgemes-seed, wrk, prometheus), each only when
# missing. Not part of tools/setup.sh: the main build needs none of them.
# Needs root (apt-get). Safe to run again.
set -euo pipefail

packages=(
  postgresql      # PostgreSQL 15 server (initdb/pg_ctl in /usr/lib/postgresql/15/bin)
  libpq-dev       # libpq for edgemes-seed's PostgreSQL client
  wrk             # HTTP load generator
  prometheus      # Prometheus 2.42, the peer of benchmark item 4
  jq              # run-*.sh read JSON results with it
  curl            # run-prometheus.sh / run-api-load.sh readiness probes and queries
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-bench: all benchmark packages present"
  exit 0
fi
echo "setup-bench: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# --no-install-recommends; policy-rc.d keeps Debian from starting the packaged
# postgresql/prometheus services: the benchmarks start their own throwaway
# servers on 127.0.0.1 and stop them.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
apt-get install -y -q --no-install-recommends "${missing[@]}"
