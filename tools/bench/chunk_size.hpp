// tools/bench/chunk_size: chunk-size, what the schema v4 formats cost per
// sample (target: history <= 3 bytes/sample).
//
// No database: simulated machines are polled in memory on a regular grid
// (each machine at its own phase within the interval, every timestamp ±
// jitter_ms), and their polls are encoded twice, as the writer would:
//   - history: each machine's polls cut into chunks (storage/chunk.hpp) of
//     window_s seconds aligned to multiples of the window since the epoch;
//   - ingest log: the polls of all machines within each batch_ms grouped into
//     one batch (storage/log_batch.hpp), as one commit of the writer.
// It prints bytes per sample overall and per metric name (a slot's column,
// its length varint included, over the values it holds), the share of the
// timestamps (chunk header and ts deltas) or of the batch overhead, how fast
// a reader decodes one slot plus the timestamps of a chunk, and how fast the
// log decodes (per machine of each batch: its polls, timestamps and every
// slot; points/s); one line "summary chunk-size: {json}" at the end.
#pragma once

#include <cstdint>
#include <string>

namespace edgemes::bench {

struct chunk_size_options {
  std::string source = "sim";  // sim (placer, printer, reflow, aoi round-robin) | synthetic
  int64_t metrics = 20;        // synthetic source only (tools/bench/load.hpp)
  int64_t machines = 1000;
  int64_t interval_ms = 1000;
  int64_t jitter_ms = 3;       // each timestamp off its grid point by up to this, either way
  int64_t minutes = 60;
  int64_t window_s = 120;      // history chunk length
  int64_t batch_ms = 500;      // ingest log batch length
};

// Returns the process exit code.
int run_chunk_size(const chunk_size_options& o);

} // namespace edgemes::bench
