// storage/dashboard: see dashboard.hpp. Every statement is reset before a
// method returns, even on a throw (a statement left mid-step pins its snapshot).
#include "storage/dashboard.hpp"

#include "storage/connection.hpp"

#include <cmath>
#include <limits>

namespace edgemes::storage {

using detail::next_row;
using detail::stmt_ptr;

read_snapshot::read_snapshot(reader& db) : db_(db.handle()) {
  detail::exec(db_, "BEGIN", "read snapshot: begin");
}

read_snapshot::~read_snapshot() {
  // A read transaction has nothing to commit; ROLLBACK only ends it.
  if (!sqlite3_get_autocommit(db_))
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

struct dashboard_reads::statements {
  stmt_ptr metrics;

  explicit statements(sqlite3* db)
      : metrics(detail::prepare(
            db, "SELECT machine_id, name, slot FROM metrics ORDER BY machine_id, slot")) {}
};

dashboard_reads::dashboard_reads(reader& db)
    : db_(db.handle()), reader_(db), stmts_(std::make_unique<statements>(db_)) {}

dashboard_reads::~dashboard_reads() = default;

namespace {

// Keeps, per slot, the first value the scan offers; stops when all have one.
struct first_values {
  std::vector<slot_value>& out;
  size_t missing;
  bool operator()(int64_t ts, const double* v) {
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].has_value || std::isnan(v[i]))
        continue;
      out[i] = {true, v[i], ts};
      --missing;
    }
    return missing > 0;
  }
};

} // namespace

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
  if (slots.empty() || max_rows <= 0)
    return out;
  reader_.scan(machine_id, slots, std::numeric_limits<int64_t>::min(),
               std::numeric_limits<int64_t>::max(), false, max_rows,
               first_values{out, slots.size()});
  return out;
}

std::vector<range_ends> dashboard_reads::ends(int64_t machine_id, const std::vector<int>& slots,
                                              int64_t from_ms, int64_t to_ms, int max_rows) {
  std::vector<range_ends> out(slots.size());
  if (slots.empty() || from_ms >= to_ms || max_rows <= 0)
    return out;
  std::vector<slot_value> found(slots.size());
  for (bool forward : {true, false}) {
    found.assign(slots.size(), slot_value{});
    reader_.scan(machine_id, slots, from_ms, to_ms, forward, max_rows,
                 first_values{found, slots.size()});
    for (size_t i = 0; i < slots.size(); ++i)
      (forward ? out[i].first : out[i].last) = found[i];
  }
  return out;
}

} // namespace edgemes::storage
