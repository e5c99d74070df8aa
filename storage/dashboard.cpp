// storage/dashboard: see dashboard.hpp. Every statement is reset before a
// method returns, even on a throw (a statement left mid-step pins its snapshot).
#include "storage/dashboard.hpp"

#include "storage/codec.hpp"
#include "storage/connection.hpp"

namespace edgemes::storage {

using detail::next_row;
using detail::stmt_ptr;

namespace {

// Steps the rows of `s` (newest or oldest first) and keeps, per slot, the
// first value found; stops when every slot has one.
void first_values(sqlite3* db, sqlite3_stmt* s, const std::vector<int>& slots,
                  std::vector<slot_value>& out, const char* what) {
  out.assign(slots.size(), slot_value{});
  size_t missing = slots.size();
  while (missing > 0 && next_row(db, s, what)) {
    const char* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    const size_t size = static_cast<size_t>(sqlite3_column_bytes(s, 1));
    for (size_t i = 0; i < slots.size(); ++i) {
      double v;
      if (out[i].has_value || !decode_slot(text, size, slots[i], v))
        continue;
      out[i] = {true, v, sqlite3_column_int64(s, 0)};
      --missing;
    }
  }
}

} // namespace

read_snapshot::read_snapshot(reader& db) : db_(db.handle()) {
  detail::exec(db_, "BEGIN", "read snapshot: begin");
}

read_snapshot::~read_snapshot() {
  // A read transaction has nothing to commit; ROLLBACK only ends it.
  if (!sqlite3_get_autocommit(db_))
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

struct dashboard_reads::statements {
  stmt_ptr metrics, newest, oldest_in, newest_in;

  explicit statements(sqlite3* db)
      : metrics(detail::prepare(
            db, "SELECT machine_id, name, slot FROM metrics ORDER BY machine_id, slot")),
        newest(detail::prepare(
            db, "SELECT ts, v FROM telemetry WHERE machine_id = ?1 ORDER BY ts DESC LIMIT ?2")),
        oldest_in(detail::prepare(db, "SELECT ts, v FROM telemetry WHERE machine_id = ?1 "
                                      "AND ts >= ?2 AND ts < ?3 ORDER BY ts LIMIT ?4")),
        newest_in(detail::prepare(db, "SELECT ts, v FROM telemetry WHERE machine_id = ?1 "
                                      "AND ts >= ?2 AND ts < ?3 ORDER BY ts DESC LIMIT ?4")) {}
};

dashboard_reads::dashboard_reads(reader& db)
    : db_(db.handle()), stmts_(std::make_unique<statements>(db_)) {}

dashboard_reads::~dashboard_reads() = default;

std::unordered_map<int64_t, std::vector<metric_info>> dashboard_reads::metrics() {
  sqlite3_stmt* s = stmts_->metrics.get();
  detail::reset_on_exit r(s);
  std::unordered_map<int64_t, std::vector<metric_info>> out;
  while (next_row(db_, s, "dashboard metrics"))
    out[sqlite3_column_int64(s, 0)].push_back(
        {detail::column_text(s, 1), sqlite3_column_int(s, 2)});
  return out;
}

std::vector<slot_value> dashboard_reads::latest(int64_t machine_id, const std::vector<int>& slots,
                                                int max_rows) {
  std::vector<slot_value> out(slots.size());
  if (slots.empty())
    return out;
  sqlite3_stmt* s = stmts_->newest.get();
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  sqlite3_bind_int(s, 2, std::max(max_rows, 0));  // LIMIT -1 would mean all
  first_values(db_, s, slots, out, "dashboard latest");
  return out;
}

std::vector<range_ends> dashboard_reads::ends(int64_t machine_id, const std::vector<int>& slots,
                                              int64_t from_ms, int64_t to_ms, int max_rows) {
  std::vector<range_ends> out(slots.size());
  if (slots.empty() || from_ms >= to_ms)
    return out;
  std::vector<slot_value> found;
  for (sqlite3_stmt* s : {stmts_->oldest_in.get(), stmts_->newest_in.get()}) {
    detail::reset_on_exit r(s);
    sqlite3_bind_int64(s, 1, machine_id);
    sqlite3_bind_int64(s, 2, from_ms);
    sqlite3_bind_int64(s, 3, to_ms);
    sqlite3_bind_int(s, 4, std::max(max_rows, 0));
    first_values(db_, s, slots, found, "dashboard counters");
    for (size_t i = 0; i < slots.size(); ++i)
      (s == stmts_->oldest_in.get() ? out[i].first : out[i].last) = found[i];
  }
  return out;
}

} // namespace edgemes::storage
