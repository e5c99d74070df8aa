// tools/bench/bench: the two ingest benchmarks of edgemes-bench.
//
// ingest-raw is the ceiling: one thread calls storage::writer::commit directly
// with batches of polls, nothing else runs. ingest-pipeline is the daemon's
// ingest path in one process: a CAF actor system, one poller actor per
// machine polling an in-process source, and the writer actor, wired as
// daemon/run.cpp wires them; its rate is what the writer actor commits.
// Both start from an empty file (the database is deleted first) with the
// daemon's storage defaults (WAL, synchronous=NORMAL, cache 64000 KiB).
// Each returns the process exit code: 0, or 1 after printing why on stderr.
#pragma once

#include <cstdint>
#include <string>

namespace edgemes::bench {

struct common_options {
  std::string db;
  int64_t machines = 1000;
  int64_t samples = 10'000'000;         // stop once this many are committed
  int64_t report_every = 1'000'000;     // samples between progress points
  bool json = false;
};

struct raw_options : common_options {
  int64_t metrics = 20;
  int64_t batch_polls = 1000;           // polls (rows) per transaction
  bool statuses = false;                // also UPDATE each polled machine's status row, as the writer actor does
};

struct pipeline_options : common_options {
  std::string source = "synthetic";     // synthetic | sim
  int64_t metrics = 20;                 // synthetic source only
  int64_t interval_ms = 100;
  int64_t max_batch = 5000;             // writer actor: samples per transaction
  int64_t flush_ms = 200;
  int64_t max_queue = 200000;           // ingest bound, the daemon's default
  int64_t threads = 0;                  // CAF scheduler threads; 0 = as the daemon (max(2, cores))
  std::string scheduler = "sharing";    // CAF scheduler policy: sharing (the daemon's) | stealing
};

int run_raw(const raw_options& o);
int run_pipeline(const pipeline_options& o);

} // namespace edgemes::bench
