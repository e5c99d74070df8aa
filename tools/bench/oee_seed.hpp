// tools/bench/oee_seed: a telemetry file with `hours` of history of
// `machines` simulated machines, and the daemon config that matches it, for
// the OEE benchmark (tools/bench/run-oee.sh, docs/BENCHMARKS.md "OEE of 1 000
// machines"). The polls are the sim models' own (adapters::make_sim at each
// poll time, on a stepped clock), written through storage::writer as the
// daemon would: commits of 500 ms of polls, a compaction whenever one is
// due — so chunks and counter_hours are what a daemon that ran for `hours`
// leaves behind. The history ends at the hour before the seed starts.
#pragma once

#include <cstdint>
#include <string>

namespace edgemes::bench {

struct oee_seed_options {
  std::string db;             // deleted and recreated
  std::string config_out;     // the daemon config to write
  int64_t machines = 1000;
  int64_t lines = 10;         // machines spread over this many lines
  int64_t hours = 8;
  int64_t interval_ms = 1000;
  int64_t port = 8080;        // the config's api.port
};

// Prints one JSON line: the range seeded (`from`, `to`, whole hours), polls,
// samples and seconds. Returns the exit code.
int run_oee_seed(const oee_seed_options& o);

} // namespace edgemes::bench
