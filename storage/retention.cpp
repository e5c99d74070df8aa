// storage/retention: deleting old telemetry in chunks (writer::delete_before).
//
// Why chunks: the writer actor runs retention between ingest batches on the
// same connection. One DELETE of a year of data would hold the write lock for
// seconds to minutes and stall every poll behind it; a chunk of a few
// thousand rows is one short transaction (milliseconds), and the next batch
// commits right after it.
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

#include <sqlite3.h>

#include <algorithm>
#include <vector>

namespace edgemes::storage {

using detail::fail;
using detail::stmt_ptr;

namespace {

// Steps a DELETE bound to (machine, cutoff, limit); returns rows deleted.
int64_t delete_chunk(sqlite3* db, sqlite3_stmt* s, int64_t machine, int64_t cutoff,
                     int64_t limit, const char* what) {
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine);
  sqlite3_bind_int64(s, 2, cutoff);
  sqlite3_bind_int64(s, 3, limit);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE)
    fail(db, rc, what);
  return sqlite3_changes(db);
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

  stmt_ptr del_telemetry = detail::prepare(
      db_, "DELETE FROM telemetry WHERE machine_id=?1 AND ts IN "
           "(SELECT ts FROM telemetry WHERE machine_id=?1 AND ts<?2 ORDER BY ts LIMIT ?3)");
  // Keeps the machine's last change before the cutoff (see file comment).
  stmt_ptr del_states = detail::prepare(
      db_, "DELETE FROM state_changes WHERE machine_id=?1 AND ts IN "
           "(SELECT ts FROM state_changes WHERE machine_id=?1 AND ts < "
           "(SELECT max(ts) FROM state_changes WHERE machine_id=?1 AND ts<?2) "
           "ORDER BY ts LIMIT ?3)");

  int64_t budget = max_rows;
  int64_t next_cursor = 0;
  detail::exec(db_, "BEGIN IMMEDIATE", "retention: begin");
  try {
    for (size_t i = 0; i < machines.size(); ++i) {
      int64_t id = machines[i];
      int64_t t = delete_chunk(db_, del_telemetry.get(), id, cutoff_ms, budget,
                               "retention: delete telemetry");
      out.telemetry += t;
      budget -= t;
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
    }
    detail::exec(db_, "COMMIT", "retention: commit");
  } catch (...) {
    if (!sqlite3_get_autocommit(db_))
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  retention_cursor_ = next_cursor;
  out.done = budget > 0;  // a full pass over every machine left budget unused
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
