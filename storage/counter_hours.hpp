// storage/counter_hours: a summary per hour, machine and metric slot of the
// values held in `chunks` — what makes a counter's increase over a shift
// (storage/counters.hpp) a handful of index seeks instead of the decode of
// every chunk of the shift (240 per machine for 8 h of 2-minute windows).
//
//   counter_hours(hour, machine_id, slot, first_ts, first, last_ts, last,
//                 increase, resets, n)   PK (hour, machine_id, slot) WITHOUT ROWID
//
// The contract of a row (schema v5, storage/schema.cpp): it folds, in ts
// order, exactly the values of that slot of the machine's polls that are in
// `chunks` with hour <= ts < hour + 1 h (hour a multiple of kCounterHourMs
// since the epoch) — n values, the first and the last with their times, and
// `increase` and `resets` by counters.hpp's rule applied to consecutive values
// INSIDE the hour only (the step from the previous hour's last value is the
// reader's to add: that keeps rows independent, so a late poll rewrites one
// hour). A slot with no value in the hour has no row. Polls still in the
// ingest log are in no row. Every slot is summarised, not only the configured
// counters: a metric configured as a counter later has its history summarised
// already, and the reader needs no config (docs/STORAGE-FORMAT.md has the cost).
//
// Who writes: the writer only, in the transaction that writes the chunks —
// writer::compact (update_hours, per window written), retention (the rows of
// hours that start before its cutoff, and compaction.hours_from) and the v5
// migration (backfill). So a read
// transaction always sees rows and chunks that agree.
//
// Not thread-safe; everything runs on the connection given.
#pragma once

#include "storage/reader.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace edgemes::storage {

constexpr int64_t kCounterHourMs = 3600LL * 1000;

// One row's fold: the values of one slot in one hour, in ts order.
struct hour_summary {
  int64_t first_ts = 0, last_ts = 0;
  double first = 0, last = 0;
  double increase = 0;  // sum of the rises between consecutive values of the hour
  int64_t resets = 0;   // drops between consecutive values of the hour
  int64_t n = 0;        // values

  // Folds one value, later than every value folded so far. NaN is no value.
  void add(int64_t ts, double x);
};

// counters.hpp's fold over a range, fed values or whole hour summaries in ts
// order. The reference (count_increase) and the summaries both use it, so
// they apply one rule.
struct counter_fold {
  counter_increase result;
  double prev = std::numeric_limits<double>::quiet_NaN();  // the last value folded

  void add(int64_t ts, double x);
  // An hour's values at once; every one of them is later than `prev`.
  void add(const hour_summary& h);
};

namespace detail {

// hour -> slot -> summary, for one machine (what the writer builds per window
// and the backfill per hour).
using hour_rows = std::map<int64_t, std::map<int, hour_summary>>;

// Folds every value of one decoded chunk (timestamps `ts`, `cols[slot][i]`)
// with ts in [lo, hi) into `rows`. Values must arrive in ts order per slot.
void fold_polls(const std::vector<int64_t>& ts, const std::vector<std::vector<double>>& cols,
                int64_t lo, int64_t hi, hour_rows& rows);

// The summary in columns first_ts, first, last_ts, last, increase, resets, n
// of `s`, starting at column `col` (the order both the writer and the reader
// select them in).
hour_summary column_summary(sqlite3_stmt* s, int col);

// The writer's statements for the table.
class hour_writer {
public:
  explicit hour_writer(sqlite3* db);
  ~hour_writer();
  hour_writer(const hour_writer&) = delete;
  hour_writer& operator=(const hour_writer&) = delete;

  // After the chunk of (window_start, machine) was written with the polls
  // `ts` (ascending) and `values` (per poll, by slot): brings the rows of the
  // hours it covers up to date. Appends to the rows when every value of the
  // window is newer than the row's last and the chunk is new (`merged` false);
  // otherwise (a late poll) recomputes those hours from their chunks.
  // Returns the rows written.
  int64_t window(int64_t machine, int64_t window_start, int64_t window_ms,
                 const std::vector<int64_t>& ts, const std::vector<std::vector<double>>& values,
                 bool merged);

  // Writes `rows` of `machine` (insert or replace).
  int64_t put(int64_t machine, const hour_rows& rows);

private:
  void load(int64_t machine, int64_t hour, std::map<int, hour_summary>& out);
  void recompute(int64_t machine, int64_t hour, int64_t window_ms, hour_rows& rows);

  sqlite3* db_;
  sqlite3_stmt* get_ = nullptr;     // the rows of one (hour, machine)
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* clear_ = nullptr;   // delete the rows of one (hour, machine)
  sqlite3_stmt* chunk_ = nullptr;   // one chunk's data
};

// The v5 migration's step: rows for every chunk already in the file, one pass
// over `chunks` in key order holding one hour of machines in memory.
void backfill_counter_hours(sqlite3* db);

// Retention, after deleting the chunks that start before `cutoff`: the rows
// of every hour that starts before it are no longer whole, so they go, and
// compaction.hours_from (the first hour whose rows readers may use) rises to
// the first hour at or after the cutoff. Returns rows deleted.
int64_t trim_counter_hours(sqlite3* db, int64_t cutoff);

} // namespace detail
} // namespace edgemes::storage
