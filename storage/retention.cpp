// storage/retention: deleting old telemetry in chunks (writer::delete_before).
//
// Why small transactions: the writer actor runs retention between ingest
// batches on the same connection. One DELETE of a year of data would hold the
// write lock for seconds to minutes and stall every poll behind it; a few
// thousand rows are one short transaction (milliseconds), and the next batch
// commits right after it.
//
// Whole chunks: a chunk covers one machine and one compaction window; it is
// deleted once its window ends at or before the cutoff (cutoff rounded down
// to a window boundary), never cut. chunks is keyed (start, machine_id), so
// the oldest chunks are the first rows of the table and "start < cutoff
// ORDER BY start LIMIT n" reads only rows it deletes. Polls in the ingest log
// (the hot window) are left to compaction. The counter_hours rows of every
// hour that starts before the cutoff go in the same transaction, and
// compaction.hours_from says readers may use rows from the next whole hour on
// (reader_counters.cpp).
//
// State changes: a machine's state at time t is its last change with ts <= t.
// Deleting every change before the cutoff would make the state at the cutoff
// (and the current state of a machine that has not changed since) unknown, so
// each machine's last change before the cutoff is kept. state_changes is
// clustered on (machine_id, ts), so they are deleted machine by machine, the
// machines taking turns across calls (retention_cursor_).
//
// Space: deleted pages go to the freelist (auto_vacuum is off) and the next
// inserts take pages from it before the file grows, so a file under steady
// retention stops growing without VACUUM.
#include "storage/rollup.hpp"
#include "storage/counter_hours.hpp"
#include "storage/writer_detail.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace edgemes::storage {

using detail::fail;
using detail::stmt_ptr;

namespace {

// Steps a DELETE bound to (machine, cutoff, limit); returns rows deleted.
int64_t delete_states(sqlite3* db, sqlite3_stmt* s, int64_t machine, int64_t cutoff,
                      int64_t limit) {
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine);
  sqlite3_bind_int64(s, 2, cutoff);
  sqlite3_bind_int64(s, 3, limit);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE)
    fail(db, rc, "retention: delete state changes");
  return sqlite3_changes(db);
}

} // namespace

retention_result writer::delete_before(int64_t cutoff_ms, int64_t max_rows) {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "retention: writer is closed");
  max_rows = std::max<int64_t>(1, max_rows);
  retention_result out;
  const int64_t cutoff = floor_to(cutoff_ms, window_ms_);

  std::vector<int64_t> machines;
  {
    stmt_ptr list = detail::prepare(db_, "SELECT id FROM machines ORDER BY id");
    while (detail::next_row(db_, list.get(), "retention: list machines"))
      machines.push_back(sqlite3_column_int64(list.get(), 0));
  }
  // Start at the cursor, wrap around once.
  auto first = std::lower_bound(machines.begin(), machines.end(), retention_cursor_);
  std::rotate(machines.begin(), first, machines.end());

  stmt_ptr del_chunks = detail::prepare(
      db_, "DELETE FROM chunks WHERE (start, machine_id) IN (SELECT start, machine_id FROM "
           "chunks WHERE start < ?1 ORDER BY start LIMIT ?2) RETURNING polls");
  // Keeps the machine's last change before the cutoff (see file comment).
  stmt_ptr del_states = detail::prepare(
      db_, "DELETE FROM state_changes WHERE machine_id=?1 AND ts IN "
           "(SELECT ts FROM state_changes WHERE machine_id=?1 AND ts < "
           "(SELECT max(ts) FROM state_changes WHERE machine_id=?1 AND ts<?2) "
           "ORDER BY ts LIMIT ?3)");

  int64_t budget = max_rows;
  int64_t next_cursor = retention_cursor_;
  bool chunks_done = false, full_pass = machines.empty();
  detail::in_transaction(db_, "retention", [&] {
    {
      sqlite3_stmt* s = del_chunks.get();
      detail::reset_on_exit r(s);
      sqlite3_bind_int64(s, 1, cutoff);
      sqlite3_bind_int64(s, 2, budget);
      while (detail::next_row(db_, s, "retention: delete chunks")) {
        ++out.chunks;
        out.polls += sqlite3_column_int64(s, 0);
      }
    }
    budget -= out.chunks;
    chunks_done = budget > 0;
    if (out.chunks > 0)
      out.hour_rows = detail::trim_counter_hours(db_, cutoff);
    for (size_t i = 0; i < machines.size() && budget > 0; ++i) {
      const int64_t id = machines[i];
      const int64_t n = delete_states(db_, del_states.get(), id, cutoff_ms, budget);
      out.state_changes += n;
      budget -= n;
      if (budget <= 0) {
        next_cursor = id;  // this machine may have more: it goes first next time
        break;
      }
      next_cursor = i + 1 < machines.size() ? machines[i + 1] : machines.front();
      full_pass = i + 1 == machines.size();
    }
  });
  retention_cursor_ = next_cursor;
  out.done = chunks_done && full_pass && budget > 0;
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
