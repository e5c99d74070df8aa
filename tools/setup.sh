#!/usr/bin/env bash
# edgemes set-up: installs the Debian 12 packages edgemes needs (only those
# missing), fetches the dashboard's npm packages (uPlot, embedded in the binary;
# playwright-core, which drives Debian's chromium in tests/web), configures and
# builds with CMake, then either starts the daemon on the embedded demo or runs
# the whole CTest suite. Nothing is fetched at run time.
#
#   bash tools/setup.sh demo    # install + build + run the demo (Ctrl-C stops it)
#   bash tools/setup.sh test    # install + build + ctest
#   bash tools/setup.sh build   # install + build only
set -euo pipefail

mode="${1:-build}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${EDGEMES_BUILD_DIR:-$root/build}"

packages=(
  g++ cmake make pkg-config
  libcaf-dev                 # CAF 0.17.6, the actor framework
  libsqlite3-dev sqlite3     # SQLite 3.40 and its shell (docs show plain-SQL reads)
  libcpp-httplib-dev         # cpp-httplib 0.11.4 (HTTP server and client)
  libjemalloc-dev            # jemalloc 5.3, the executables' allocator (daemon/allocator.cpp)
  nlohmann-json3-dev         # nlohmann/json 3.11
  catch2                     # Catch2 2.13, the test framework
  curl                       # used by the demo's readiness check
  clang libclang-rt-14-dev   # libFuzzer targets in the test suite (tests/fuzz)
  chromium                   # the dashboard's browser tests (tests/web), headless
  libmodbus-dev              # libmodbus 3.1: the Modbus TCP adapter and edgemes-sim's Modbus server
  libmosquitto-dev           # libmosquitto 2.0: the MQTT adapter and edgemes-sim's publisher
  mosquitto mosquitto-clients  # the MQTT broker and mosquitto_pub the MQTT tests run against
  python3-pymodbus           # the Modbus server the Modbus tests run against (Debian's /usr/bin/python3)
  mbpoll                     # a Modbus client that cross-checks edgemes-sim's register map
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm by command, not by package: a NodeSource nodejs ships its own
# npm, which Debian's npm package would conflict with.
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The dashboard's npm packages, pinned by each package-lock.json. `npm ci` runs
# only when the lock changed since the last install (a stamp in node_modules),
# never runs package scripts, and never downloads a browser (Debian's chromium
# is the one the tests drive).
for dir in "$root/web" "$root/tests/web"; do
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.edgemes-lock"; then
    echo "setup: npm ci in ${dir#$root/}"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    cp "$dir/package-lock.json" "$dir/node_modules/.edgemes-lock"
  fi
done

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$jobs"

case "$mode" in
  build) ;;
  demo)
    cd "$root"
    echo "setup: starting edgemes on the embedded demo — try: curl http://127.0.0.1:8080/api/v1/machines"
    exec "$build/bin/edgemes" run
    ;;
  test)
    cd "$build"
    ctest --output-on-failure -j"$jobs" --timeout 300
    ;;
  *)
    echo "usage: bash tools/setup.sh [build|demo|test]" >&2
    exit 2
    ;;
esac
