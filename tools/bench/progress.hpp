// tools/bench/progress: what an ingest benchmark measures and how it prints it.
//
// A run records one point per report interval (samples so far, the rate over
// that interval and since the start, bytes of the database file plus its
// -wal, process RSS) and ends with one summary. Human-readable lines go to
// stdout; with --json they go to stderr and stdout gets exactly one JSON
// document {"mode", "params", "points": [...], "summary": {...}}, so a script
// can parse stdout while a person still watches progress.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace edgemes::bench {

// Size of a file in bytes, 0 when absent.
int64_t file_bytes(const std::string& path);

// VmRSS / VmHWM of this process in KiB (from /proc/self/status), 0 if unknown.
int64_t rss_kib();
int64_t peak_rss_kib();

// Bytes this process caused to be written to storage (write_bytes of
// /proc/self/io: WAL appends and checkpoints included), 0 if unknown.
int64_t io_write_bytes();

// CPU seconds (user + system) this process's threads have used so far, summed
// per thread name (/proc/self/task/*/stat; "caf.actor" is a detached actor's
// thread — the writer —, "caf.multiplexer" CAF's scheduler workers), 10 ms
// resolution. CPU time, unlike a rate, holds still when other programs load
// the box: it tells which thread pays for what per sample.
std::map<std::string, double> cpu_s_by_thread();

// Deletes `path` and its -wal, -shm and -journal files, so a run starts empty.
// Throws std::runtime_error naming the file when one cannot be removed.
void remove_database(const std::string& path);

struct point {
  int64_t samples = 0;
  int64_t rows = 0;
  double elapsed_s = 0;
  double interval_rate = 0;    // samples/s since the previous point
  double cumulative_rate = 0;  // samples/s since the start
  int64_t db_bytes = 0;        // main file + -wal
  double bytes_per_sample = 0;
  int64_t rss_kib = 0;
  int64_t dropped = 0;         // pipeline only: samples refused by the ingest bound
  int64_t written_bytes = 0;   // io_write_bytes() since start()
};

class recorder {
public:
  recorder(std::string mode, std::string db_path, bool json, nlohmann::json params);

  // Starts the clock (the first interval is measured from here).
  void start();
  double elapsed_s() const;

  // Records and prints one point.
  void record(int64_t samples, int64_t rows, int64_t dropped);

  // Prints the summary (and, with --json, the whole document). `summary` gets
  // the common fields added: samples, rows, elapsed_s, samples_per_s,
  // db_bytes (file + -wal now, after close) and bytes_per_sample, which
  // divides db_bytes by `stored_samples` (all samples in the file).
  void finish(int64_t samples, int64_t rows, double elapsed_s, int64_t stored_samples,
              nlohmann::json summary);

private:
  std::FILE* human() const;
  std::string mode_;
  std::string db_path_;
  bool json_;
  nlohmann::json params_;
  std::chrono::steady_clock::time_point t0_;
  int64_t written0_ = 0;
  std::vector<point> points_;
};

} // namespace edgemes::bench
