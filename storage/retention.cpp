// storage/retention: deleting old telemetry in chunks (writer::delete_before).
//
// Why chunks: the writer actor runs retention between ingest batches on the
// same connection. One DELETE of a year of data would hold the write lock for
// seconds to minutes and stall every poll behind it; a chunk of a few
// thousand rows is one short transaction (milliseconds), and the next batch
// commits right after it.
//
// Whole buckets: raw rows and rollup rows (telemetry_10s) go together, one
// 10 s bucket at a time, so a rollup row never outlives a part of its raw rows
// (schema.cpp, invariant 3) and the reader gives the same answer from either.
// The cutoff is therefore rounded down to a multiple of 10 s, and a chunk ends
// at a bucket boundary: at most max_rows rows (raw + rollup), more only when
// the oldest bucket alone holds more raw rows than that.
//
// Why per machine: telemetry and state_changes are clustered on
// (machine_id, ts) and have no index on ts alone, so "ts < cutoff" over the
// whole table would scan it. "machine_id = ? AND ts < cutoff ORDER BY ts" is a
// range scan at the start of one machine's key range: it reads only rows it
// deletes. The cursor (retention_cursor_) makes the machines take turns, so a
// machine with a huge backlog cannot starve the others.
//
// State changes: a machine's state at time t is its last change with ts <= t.
// Deleting every change before the cutoff would make the state at the cutoff
// (and the current state of a machine that has not changed since) unknown, so
// each machine's last change before the cutoff is kept.
//
// Space: deleted pages go to the freelist (auto_vacuum is off) and the next
// inserts take pages from it before the file grows, so a file under steady
// retention stops growing without VACUUM.
#include "storage/writer.hpp"

#include "storage/connection.hpp"
#include "storage/open_buckets.hpp"
#include "storage/rollup.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace edgemes::storage {

using detail::fail;
using detail::stmt_ptr;

namespace {

// Steps a DELETE bound to (machine, cutoff[, limit]); returns rows deleted.
int64_t delete_chunk(sqlite3* db, sqlite3_stmt* s, int64_t machine, int64_t cutoff,
                     std::optional<int64_t> limit, const char* what) {
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine);
  sqlite3_bind_int64(s, 2, cutoff);
  if (limit)
    sqlite3_bind_int64(s, 3, *limit);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE)
    fail(db, rc, what);
  return sqlite3_changes(db);
}

struct telemetry_chunk {
  int64_t raw = 0, rollups = 0;
  bool finished = false;  // nothing of this machine before the cutoff is left
};

// Deletes the oldest whole buckets of one machine before `cutoff` (a multiple
// of rollup_ms), raw and rollup rows together, within `budget` rows.
telemetry_chunk delete_buckets(sqlite3* db, sqlite3_stmt* oldest, sqlite3_stmt* del_raw,
                               sqlite3_stmt* del_rollups, int64_t machine, int64_t cutoff,
                               int64_t budget) {
  // Where the chunk ends: the last bucket boundary up to which the raw rows
  // plus one rollup row per bucket fit the budget. Reading budget + 1 rows
  // tells whether every raw row before the cutoff was seen.
  std::optional<int64_t> end;
  int64_t seen = 0, whole_buckets = 0, current = 0;
  bool all_seen = false;
  {
    detail::reset_on_exit r(oldest);
    sqlite3_bind_int64(oldest, 1, machine);
    sqlite3_bind_int64(oldest, 2, cutoff);
    sqlite3_bind_int64(oldest, 3, budget + 1);
    int rc;
    while ((rc = sqlite3_step(oldest)) == SQLITE_ROW) {
      const int64_t bucket = floor_to(sqlite3_column_int64(oldest, 0), rollup_ms);
      if (seen > 0 && bucket != current) {
        // The bucket at `current` is complete: take it if it fits.
        if (seen + whole_buckets + 1 > budget)
          break;
        ++whole_buckets;
        end = bucket;
      }
      current = bucket;
      ++seen;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      fail(db, rc, "retention: find oldest telemetry");
    all_seen = rc == SQLITE_DONE && seen <= budget;
  }
  if (all_seen && (seen == 0 || seen + whole_buckets + 1 <= budget))
    end = cutoff;  // the last bucket is complete too, and fits
  if (!end)
    end = current + rollup_ms;  // the oldest bucket alone exceeds the budget: take it whole

  telemetry_chunk out;
  out.raw = delete_chunk(db, del_raw, machine, *end, std::nullopt, "retention: delete telemetry");
  // Every rollup row of the deleted buckets (at most one per bucket). With no
  // raw row before the cutoff, the budget bounds rollup rows that lost theirs.
  const int64_t limit = seen == 0 ? budget : -1;  // LIMIT -1: none
  out.rollups = delete_chunk(db, del_rollups, machine, *end, limit, "retention: delete rollups");
  out.finished = *end == cutoff && (limit < 0 || out.rollups < limit);
  return out;
}

} // namespace

retention_result writer::delete_before(int64_t cutoff_ms, int64_t max_rows) {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "retention: writer is closed");
  max_rows = std::max<int64_t>(1, max_rows);
  retention_result out;

  std::vector<int64_t> machines;
  {
    stmt_ptr list = detail::prepare(db_, "SELECT id FROM machines ORDER BY id");
    int rc;
    while ((rc = sqlite3_step(list.get())) == SQLITE_ROW)
      machines.push_back(sqlite3_column_int64(list.get(), 0));
    if (rc != SQLITE_DONE)
      fail(db_, rc, "retention: list machines");
  }
  if (machines.empty()) {
    out.done = true;
    return out;
  }
  // Start at the cursor, wrap around once.
  auto start = std::lower_bound(machines.begin(), machines.end(), retention_cursor_);
  std::rotate(machines.begin(), start, machines.end());

  const int64_t cutoff = floor_to(cutoff_ms, rollup_ms);
  stmt_ptr oldest = detail::prepare(
      db_, "SELECT ts FROM telemetry WHERE machine_id=?1 AND ts<?2 ORDER BY ts LIMIT ?3");
  stmt_ptr del_telemetry =
      detail::prepare(db_, "DELETE FROM telemetry WHERE machine_id=?1 AND ts<?2");
  stmt_ptr del_rollups = detail::prepare(
      db_, "DELETE FROM telemetry_10s WHERE machine_id=?1 AND ts IN "
           "(SELECT ts FROM telemetry_10s WHERE machine_id=?1 AND ts<?2 ORDER BY ts LIMIT ?3)");
  // Keeps the machine's last change before the cutoff (see file comment).
  stmt_ptr del_states = detail::prepare(
      db_, "DELETE FROM state_changes WHERE machine_id=?1 AND ts IN "
           "(SELECT ts FROM state_changes WHERE machine_id=?1 AND ts < "
           "(SELECT max(ts) FROM state_changes WHERE machine_id=?1 AND ts<?2) "
           "ORDER BY ts LIMIT ?3)");

  int64_t budget = max_rows;
  int64_t next_cursor = 0;
  bool full_pass = false;
  std::vector<int64_t> touched;  // machines whose open rollup bucket must be reloaded
  detail::exec(db_, "BEGIN IMMEDIATE", "retention: begin");
  try {
    for (size_t i = 0; i < machines.size(); ++i) {
      int64_t id = machines[i];
      auto t = delete_buckets(db_, oldest.get(), del_telemetry.get(), del_rollups.get(), id,
                              cutoff, budget);
      out.telemetry += t.raw;
      out.rollups += t.rollups;
      budget -= t.raw + t.rollups;
      if (t.raw + t.rollups > 0)
        touched.push_back(id);
      if (!t.finished) {
        next_cursor = id;  // more of this machine's buckets are due: it goes first next time
        break;
      }
      if (budget > 0) {
        int64_t s = delete_chunk(db_, del_states.get(), id, cutoff_ms, budget,
                                 "retention: delete state changes");
        out.state_changes += s;
        budget -= s;
      }
      if (budget <= 0) {
        // This machine may have more: the next call starts with it.
        next_cursor = id;
        break;
      }
      next_cursor = i + 1 < machines.size() ? machines[i + 1] : machines.front();
      full_pass = i + 1 == machines.size();
    }
    detail::exec(db_, "COMMIT", "retention: commit");
  } catch (...) {
    if (!sqlite3_get_autocommit(db_))
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  retention_cursor_ = next_cursor;
  for (int64_t id : touched)
    buckets_->forget(id);  // reloaded from what is left on its next poll
  out.done = full_pass && budget > 0;  // every machine visited, budget left unused
  return out;
}

page_stats writer::pages() const {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "pages: writer is closed");
  page_stats p;
  p.page_count = detail::pragma_int(db_, "page_count");
  p.freelist_count = detail::pragma_int(db_, "freelist_count");
  p.page_size = detail::pragma_int(db_, "page_size");
  return p;
}

} // namespace edgemes::storage
