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
// One consistent state: the value before `from` and the range's polls come
// from one reader::scan (newest first, kept in memory, then counted oldest
// first), so one head snapshot and one read transaction. (It used to read
// them in two scans, each loading the writer's head again: inside a caller's
// transaction a compaction between the two moved the range's polls out of
// the head into chunks that transaction cannot see, and they were not
// counted; tests/storage/counters_test.cpp runs that compaction from
// test_hooks::count_increase_between_reads.)
//
// Not thread-safe: like its reader, one per thread. Runs in the caller's read
// transaction when one is open (storage::read_snapshot), else in its own. As
// for every reader::scan, a caller's transaction must not have read anything
// before (the head is loaded before the transaction's snapshot is taken;
// storage/reader_scan.cpp). Throws db_error (SQLITE_INTERRUPT past the
// reader's deadline).
#pragma once

#include "storage/reader.hpp"

#include <cstdint>
#include <functional>

namespace edgemes::storage {

namespace test_hooks {
// Tests only (empty in the daemon): called by count_increase once the value
// before `from` is known and before the range's polls are counted — where
// the old two-scan version read the range — so a test can change the file
// there (e.g. run a compaction).
extern std::function<void()> count_increase_between_reads;
} // namespace test_hooks

counter_increase count_increase(reader& db, int64_t machine_id, int slot, int64_t from_ms,
                                int64_t to_ms, int64_t lookback_ms = kCounterLookbackMs);

} // namespace edgemes::storage
