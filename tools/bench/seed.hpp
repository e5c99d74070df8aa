// tools/bench/seed: the seed's workload, "500 concurrent read queries against
// 10 simultaneous background writes", on SQLite, through edgemes, on PostgreSQL
// (edgemes-seed; results and method in docs/BENCHMARKS.md).
//
// The data set (prefill): `machines` machines x `metrics` metrics, one
// telemetry row per poll (the edgemes schema, storage/schema.cpp), one poll
// per machine per second for `ticks` seconds ending at the prefill time.
// Defaults: 100 x 20 x 2500 = 5 M samples in 250 000 rows.
//
// The dashboard read is what GET /api/v1/machines/{id}/series does with its
// defaults: one metric of one machine, averaged into buckets of the API's
// default step for the window (api::endpoints::default_step_ms: 30 s for the
// 2 h window, a multiple of 10 s, so the reads use the 10 s rollups). The
// window is [T - 1 h, T + 1 h) where T is the newest ts in the file when the
// run starts, so it holds the machine's whole prefill plus the rows written
// during the run. --step-ms 12000 gives the read measured before the rollups
// (schema v1: 12 s buckets, every raw row scanned and decoded; buckets then
// started at `from`, now at multiples of 12 s: the same work).
//
// A run: the writers start, 1 s later `readers` threads issue `reads` reads
// in total (each takes the next one from a shared counter, so all readers
// stay busy until the last, or until max_s passed: then reads_ok < reads);
// writes/s is counted from the writers' start to the end of the reading phase.
// Every result is one JSON line on stdout (run_result::json).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace edgemes::bench::seed {

constexpr int64_t window_ms = 3'600'000;

struct dataset {
  int64_t machines = 100;
  int64_t metrics = 20;
  int64_t ticks = 2500;
};

struct run_options {
  std::string db;          // SQLite file, or PostgreSQL conninfo for pg
  int64_t readers = 4;
  int64_t reads = 500;
  int64_t writers = 10;
  int64_t metrics = 20;    // slots a read picks from
  uint64_t seed = 1;
  double max_s = 60;       // readers take no new read after this (bounds slow systems)
  int64_t step_ms = 0;     // bucket width of a read; 0: the API's default for the window
};

// The step a read uses: o.step_ms, or the API's default for the 2 h window.
int64_t read_step_ms(const run_options& o);

// What a writer thread counts; the harness reads them while it runs.
struct writer_counters {
  std::atomic<int64_t> txns{0};
  std::atomic<int64_t> samples{0};
  std::atomic<int64_t> busy{0};     // SQLITE_BUSY (or PG error) seen, then retried
  std::atomic<int64_t> max_txn_us{0};

  // Counts one committed transaction of `n` samples that began at `start`.
  // Only its writer thread calls this, so the max needs no compare-exchange.
  void committed(std::chrono::steady_clock::time_point start, int64_t n) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start).count();
    if (us > max_txn_us.load())
      max_txn_us = us;
    ++txns;
    samples += n;
  }
};

struct reader_counters {
  int64_t busy = 0;                 // reads that failed with BUSY and were retried
  int64_t errors = 0;               // reads that failed otherwise (not retried)
};

// One reader thread's read: called once per read; must retry BUSY itself.
using read_fn = std::function<void(std::mt19937_64& rng, reader_counters& c)>;
// Called on the reader thread before the start barrier (opens its connection).
using make_reader_fn = std::function<read_fn(int thread)>;
// A writer thread: writes until `stop`, counting into `c`.
using writer_fn = std::function<void(int writer, const std::atomic<bool>& stop, writer_counters& c)>;

struct run_result {
  std::string system;
  nlohmann::json params;
  std::vector<double> latency_ms;   // one per successful read
  double read_s = 0;                // reading phase
  double write_s = 0;               // writers' start to the end of the reading phase
  int64_t reader_busy = 0, reader_errors = 0;
  int64_t txns = 0, samples = 0, writer_busy = 0;
  double max_txn_ms = 0;
  nlohmann::json extra = nlohmann::json::object();
  nlohmann::json json() const;
};

// Runs writers + readers as described in the file comment.
run_result run(const std::string& system, const run_options& o, const make_reader_fn& make_reader,
               const writer_fn& writer, nlohmann::json params);

// The catalog every system shares: machine idents "bench-m<i>", metrics "m00"...
std::string machine_ident(int64_t i);

// Values of one poll as edgemes stores them (storage::encode_values).
std::string encode_poll(std::mt19937_64& rng, int64_t metrics);

int prefill(const std::string& db, const dataset& d);                 // SQLite, via storage::writer
int run_sqlite(const run_options& o, const std::string& journal);     // wal | delete
int run_edgemes(const run_options& o, int64_t interval_ms, int64_t machines);
int first_serve_sqlite(const std::string& db);
int open_sqlite(const std::string& db);  // times storage::writer::open (a migration, if due)
#ifdef EDGEMES_HAVE_PQ
int pg_load(const std::string& conninfo, const std::string& sqlite_db);
int run_pg(const run_options& o, const std::string& label);
#endif

} // namespace edgemes::bench::seed
