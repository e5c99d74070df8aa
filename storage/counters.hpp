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
// count_increase is the reference: it reads every poll of the range
// (reader::scan). reader::count_increases gives the same result from the hour
// summaries (storage/counter_hours.hpp) in a few index seeks; the API uses
// that one, and tests compare the two.
//
// Not thread-safe: like its reader, one per thread. Runs in the caller's read
// transaction when one is open (storage::read_snapshot), else in its own.
// Throws db_error (SQLITE_INTERRUPT past the reader's deadline).
#pragma once

#include "storage/reader.hpp"

#include <cstdint>

namespace edgemes::storage {

counter_increase count_increase(reader& db, int64_t machine_id, int slot, int64_t from_ms,
                                int64_t to_ms, int64_t lookback_ms = kCounterLookbackMs);

} // namespace edgemes::storage
