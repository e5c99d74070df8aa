#!/usr/bin/env bash
# edgemes set-up: installs the Debian 12 packages edgemes needs (only those
# missing), configures and builds with CMake, then either starts the daemon
# on the embedded demo or runs the whole CTest suite.
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
  nlohmann-json3-dev         # nlohmann/json 3.11
  catch2                     # Catch2 2.13, the test framework
  curl                       # used by the demo's readiness check
  clang libclang-rt-14-dev   # libFuzzer targets in the test suite (tests/fuzz)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

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
