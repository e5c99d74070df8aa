// storage/counters: what a monotonic counter counted in a time range — the
// units behind OEE's performance and quality and a work order's boards
// (docs/MES.md).
//
// A machine's counters only go up, except when the machine resets them
// (power cycle, new order). The increase over [from, to) is the sum, over
// every poll q with from <= q.ts < to that has a value, of
//   q - p  when q >= p,   0 when q < p (a reset: counting restarts from q),
// where p is the machine's previous value of that counter (possibly before
// `from`, looked for at most `lookback_ms` back). So the increases of
// adjacent ranges add up to the increase of their union, a reset never gives
// a negative or a huge count, and the first value a counter ever reports
// counts nothing.
//
// Not thread-safe: like its reader, one per thread. Runs in the caller's read
// transaction when one is open (storage::read_snapshot), else in its own.
// Throws db_error (SQLITE_INTERRUPT past the reader's deadline).
#pragma once

#include "storage/reader.hpp"

#include <cstdint>

namespace edgemes::storage {

struct counter_increase {
  double increase = 0;  // units counted in [from, to)
  int64_t resets = 0;   // drops in [from, to), each read as a reset
  int64_t values = 0;   // polls with a value in [from, to)
  int64_t first_ts = 0; // the first and last of those polls; 0 when none
  int64_t last_ts = 0;
  bool has_before = false;  // a value before `from` was found (the first rise counts)
};

constexpr int64_t kCounterLookbackMs = 24LL * 3600 * 1000;

counter_increase count_increase(reader& db, int64_t machine_id, int slot, int64_t from_ms,
                                int64_t to_ms, int64_t lookback_ms = kCounterLookbackMs);

} // namespace edgemes::storage
