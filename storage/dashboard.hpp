// storage/dashboard: the reads behind the live floor dashboard, on a query
// worker's read-only connection (storage::reader).
//
// Wall screens ask for the whole floor every 1-2 s, so each read here looks
// at a handful of polls — the newest in the writer's head, or one chunk — and
// decodes only the slots asked for, never a scan of a time range. A dashboard_reads prepares its statements once and reuses them
// for every machine of one reply; wrap the reply in one read_snapshot so it
// shows one committed state of the file.
//
// Not thread-safe: like its reader, one per thread. Errors throw db_error
// (SQLITE_INTERRUPT when the reader's deadline passes).
#pragma once

#include "storage/reader.hpp"

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

struct sqlite3_stmt;

namespace edgemes::storage {

// One read transaction over several statements (BEGIN ... ROLLBACK): every
// read inside sees the same committed state. Ended on destruction; keep it
// short-lived, as a long one pins the WAL for the writer's checkpoints.
// REQUIRES: no transaction open on the reader (reader::latest opens its own:
// do not call it inside a snapshot).
class read_snapshot {
public:
  explicit read_snapshot(reader& db);
  ~read_snapshot();
  read_snapshot(const read_snapshot&) = delete;
  read_snapshot& operator=(const read_snapshot&) = delete;

private:
  sqlite3* db_;
};

struct slot_value {
  bool has_value = false;
  double value = 0;
  int64_t ts_ms = 0;
};

// The first and the last value of one metric within a range.
struct range_ends {
  slot_value first;
  slot_value last;
};

class dashboard_reads {
public:
  // Prepares the statements. REQUIRES: `db` outlives this object.
  explicit dashboard_reads(reader& db);
  ~dashboard_reads();
  dashboard_reads(const dashboard_reads&) = delete;
  dashboard_reads& operator=(const dashboard_reads&) = delete;

  // Every machine's metrics (machine row id -> name and slot, by slot), in one statement.
  std::unordered_map<int64_t, std::vector<metric_info>> metrics();

  // The newest value of each of `slots`, looking back at most `max_rows`
  // polls (the same rule as reader::latest). Usually reads one row.
  std::vector<slot_value> latest(int64_t machine_id, const std::vector<int>& slots,
                                 int max_rows = 500);

  // The first and last value of each of `slots` with from <= ts < to, looking
  // at most `max_rows` polls in from either end.
  std::vector<range_ends> ends(int64_t machine_id, const std::vector<int>& slots, int64_t from_ms,
                               int64_t to_ms, int max_rows = 500);

private:
  struct statements;
  sqlite3* db_;
  reader& reader_;
  std::unique_ptr<statements> stmts_;
};

} // namespace edgemes::storage
