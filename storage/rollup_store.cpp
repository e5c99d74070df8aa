// storage/rollup_store: see rollup_store.hpp. A raw row that does not decode
// (text edited by hand in the sqlite3 shell) counts as a poll with no values,
// as the reader's raw path treats it.
#include "storage/rollup_store.hpp"

#include "storage/codec.hpp"

#include <limits>

namespace edgemes::storage::detail {

namespace {

void step_done(sqlite3* db, sqlite3_stmt* s, const char* what) {
  reset_on_exit r(s);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    fail(db, rc, what);
}

std::optional<int64_t> max_ts(sqlite3* db, sqlite3_stmt* s, int64_t machine_id, const char* what) {
  reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW)
    fail(db, rc, what);
  if (sqlite3_column_type(s, 0) == SQLITE_NULL)
    return std::nullopt;
  return sqlite3_column_int64(s, 0);
}

} // namespace

rollup_store::rollup_store(sqlite3* db)
    : db_(db),
      newest_raw_(prepare(db, "SELECT max(ts) FROM telemetry WHERE machine_id=?")),
      newest_rollup_(prepare(db, "SELECT max(ts) FROM telemetry_10s WHERE machine_id=?")),
      raw_range_(prepare(db, "SELECT ts, v FROM telemetry WHERE machine_id=? AND ts>=? AND ts<? "
                             "ORDER BY ts")),
      upsert_(prepare(db, "INSERT INTO telemetry_10s(machine_id, ts, v) VALUES(?,?,?) "
                          "ON CONFLICT(machine_id, ts) DO UPDATE SET v=excluded.v")) {}

std::optional<int64_t> rollup_store::newest_raw(int64_t machine_id) {
  return max_ts(db_, newest_raw_.get(), machine_id, "rollups: newest telemetry row");
}

std::optional<int64_t> rollup_store::newest_rollup(int64_t machine_id) {
  return max_ts(db_, newest_rollup_.get(), machine_id, "rollups: newest rollup row");
}

void rollup_store::write(int64_t machine_id, int64_t start, const bucket_stats& acc) {
  buf_.clear();
  encode_rollup(acc, buf_);
  sqlite3_stmt* s = upsert_.get();
  sqlite3_bind_int64(s, 1, machine_id);
  sqlite3_bind_int64(s, 2, start);
  sqlite3_bind_text(s, 3, buf_.data(), static_cast<int>(buf_.size()), SQLITE_STATIC);
  step_done(db_, s, "rollups: write rollup row");
}

std::optional<int64_t> rollup_store::aggregate_bucket(int64_t machine_id, int64_t start,
                                                      bucket_stats& acc) {
  acc.clear();
  std::optional<int64_t> newest;
  sqlite3_stmt* s = raw_range_.get();
  reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  sqlite3_bind_int64(s, 2, start);
  sqlite3_bind_int64(s, 3, start + rollup_ms);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    newest = sqlite3_column_int64(s, 0);
    if (decode_all(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)),
                   static_cast<size_t>(sqlite3_column_bytes(s, 1)), values_))
      add_poll(acc, values_);
  }
  if (rc != SQLITE_DONE)
    fail(db_, rc, "rollups: read a bucket's telemetry");
  return newest;
}

int64_t rollup_store::rebuild(int64_t machine_id, int64_t from, int64_t to) {
  int64_t written = 0;
  bucket_stats acc;
  int64_t current = 0;
  bool open = false;
  sqlite3_stmt* s = raw_range_.get();
  reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  sqlite3_bind_int64(s, 2, from);
  sqlite3_bind_int64(s, 3, to);
  int rc;
  // raw_range_ and upsert_ are different statements: writing while the scan
  // is open is fine (the scan is on telemetry, the writes on telemetry_10s).
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int64_t start = floor_to(sqlite3_column_int64(s, 0), rollup_ms);
    if (open && start != current) {
      write(machine_id, current, acc);
      ++written;
      acc.clear();
    }
    current = start;
    open = true;
    if (decode_all(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)),
                   static_cast<size_t>(sqlite3_column_bytes(s, 1)), values_))
      add_poll(acc, values_);
  }
  if (rc != SQLITE_DONE)
    fail(db_, rc, "rollups: scan telemetry");
  if (open) {
    write(machine_id, current, acc);
    ++written;
  }
  return written;
}

void backfill_rollups(sqlite3* db) {
  std::vector<int64_t> machines;
  {
    stmt_ptr list = prepare(db, "SELECT id FROM machines ORDER BY id");
    int rc;
    while ((rc = sqlite3_step(list.get())) == SQLITE_ROW)
      machines.push_back(sqlite3_column_int64(list.get(), 0));
    if (rc != SQLITE_DONE)
      fail(db, rc, "rollups: list machines");
  }
  rollup_store store(db);
  for (int64_t id : machines) {
    auto newest = store.newest_raw(id);
    if (newest)
      store.rebuild(id, std::numeric_limits<int64_t>::min(), floor_to(*newest, rollup_ms));
  }
}

} // namespace edgemes::storage::detail
