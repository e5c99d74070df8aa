// storage/reader: a read-only connection (see reader.hpp): opening it, the
// deadline, and the catalogue and state queries; scan() and the queries built
// on it are in reader_scan.cpp and reader_series.cpp.
//
// Every public method runs in one read transaction (its own, or the caller's
// storage::read_snapshot) and resets its statements before returning, even on
// a throw: a statement left mid-step would pin its WAL snapshot and starve the
// writer's checkpoints.
#include "storage/reader.hpp"

#include "storage/connection.hpp"
#include "storage/head.hpp"
#include "storage/reader_internal.hpp"
#include "storage/schema.hpp"
#include "storage/sql_functions.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string_view>
#include <thread>

namespace edgemes::storage {

using detail::next_row;

namespace {

const char* const machine_columns =
    "SELECT m.id, m.ident, m.name, l.ident, m.type, m.adapter, m.configured, m.status, "
    "m.last_poll_ms, m.last_ok_ms, m.last_error, m.polls_ok, m.polls_failed, m.poll_problems, "
    "m.polls_missed, s.state, s.ts "
    "FROM machines m JOIN lines l ON l.id = m.line_id "
    "LEFT JOIN state_changes s ON s.machine_id = m.id "
    "AND s.ts = (SELECT max(ts) FROM state_changes WHERE machine_id = m.id) ";

machine_info read_machine(sqlite3_stmt* s) {
  machine_info m;
  m.id = sqlite3_column_int64(s, 0);
  m.ident = detail::column_text(s, 1);
  m.name = detail::column_text(s, 2);
  m.line_ident = detail::column_text(s, 3);
  m.type = detail::column_text(s, 4);
  m.adapter = detail::column_text(s, 5);
  m.configured = sqlite3_column_int(s, 6) != 0;
  m.status = detail::column_text(s, 7);
  m.last_poll_ms = sqlite3_column_int64(s, 8);
  m.last_ok_ms = sqlite3_column_int64(s, 9);
  m.last_error = detail::column_text(s, 10);
  m.polls_ok = sqlite3_column_int64(s, 11);
  m.polls_failed = sqlite3_column_int64(s, 12);
  m.poll_problems = sqlite3_column_int64(s, 13);
  m.polls_missed = sqlite3_column_int64(s, 14);
  m.state = detail::column_text(s, 15);
  m.state_since_ms = sqlite3_column_int64(s, 16);
  return m;
}

// Overlays the writer's newest status (head) on a machines row.
void overlay_status(machine_info& m, const head* h) {
  if (!h)
    return;
  auto snap = h->load(m.id);
  if (!snap || !snap->has_status)
    return;
  const status_row& s = snap->status;
  m.status = s.status;
  m.last_poll_ms = s.last_poll_ms;
  m.last_ok_ms = s.last_ok_ms;
  m.last_error = s.last_error;
  m.polls_ok = s.polls_ok;
  m.polls_failed = s.polls_failed;
  m.poll_problems = s.poll_problems;
  m.polls_missed = s.polls_missed;
}

} // namespace

reader::statements::statements(sqlite3* db)
    : begin(detail::prepare(db, "BEGIN")),
      commit(detail::prepare(db, "COMMIT")),
      rollback(detail::prepare(db, "ROLLBACK")),
      lines(detail::prepare(
          db, "SELECT l.ident, l.name, (SELECT count(*) FROM machines m "
              "WHERE m.line_id = l.id AND m.configured) FROM lines l ORDER BY l.ident")),
      machines(detail::prepare(
          db, (std::string(machine_columns) +
               "WHERE ?1 IS NULL OR l.ident = ?1 ORDER BY m.configured DESC, l.ident, m.ident")
                  .c_str())),
      machine(detail::prepare(db, (std::string(machine_columns) + "WHERE m.ident = ?1").c_str())),
      metrics(detail::prepare(
          db, "SELECT name, slot FROM metrics WHERE machine_id = ? ORDER BY slot")),
      all_metrics(detail::prepare(
          db, "SELECT machine_id, name, slot FROM metrics ORDER BY machine_id, slot")),
      // The last change at or before `from` (the state in force then) and
      // every change after it up to `to`, in one statement = one snapshot.
      states(detail::prepare(
          db, "SELECT ts, state FROM state_changes WHERE machine_id = ?1 AND ts >= "
              "coalesce((SELECT max(ts) FROM state_changes WHERE machine_id = ?1 AND ts <= ?2), "
              "?2) AND ts < ?3 ORDER BY ts")),
      hours(detail::prepare(
          db, "SELECT slot, first_ts, first, last_ts, last, increase, resets, n "
              "FROM counter_hours WHERE hour = ? AND machine_id = ?")),
      scan(db) {}

std::unique_ptr<reader> reader::open(const std::string& path, const options& opts,
                                     std::shared_ptr<const head> hot) {
  using clock = std::chrono::steady_clock;
  // The file may be mid-creation or its WAL mid-recovery by the writer.
  const auto give_up = clock::now() + std::chrono::seconds(2);
  sqlite3* db = nullptr;
  for (;;) {
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_extended_result_codes(db, 1);
      // Opening succeeds lazily; the first read is what finds the WAL state.
      rc = sqlite3_exec(db, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr);
      if (rc == SQLITE_OK)
        break;
    }
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    db = nullptr;
    int primary = rc & 0xff;
    bool transient = primary == SQLITE_CANTOPEN || primary == SQLITE_BUSY ||
                     rc == SQLITE_READONLY_RECOVERY || rc == SQLITE_READONLY_CANTINIT;
    if (!transient || clock::now() >= give_up)
      throw db_error(rc, "open " + path + " read-only: " + msg);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::unique_ptr<reader> r(new reader(db));
  r->head_ = std::move(hot);
  try {
    if (int rc = register_sql_functions(db); rc != SQLITE_OK)
      detail::fail(db, rc, "register SQL functions");
    detail::apply_pragmas(db, opts);
    detail::exec(db, "PRAGMA query_only=1", "query_only");
    detail::check_schema(db, path);
    r->stmts_ = std::make_unique<statements>(db);
  } catch (const db_error& e) {
    throw db_error(e.code(), "open " + path + " read-only: " + e.what());
  }
  return r;
}

reader::reader(sqlite3* db) : db_(db) {}

reader::~reader() {
  stmts_.reset();  // finalize before closing
  sqlite3_close_v2(db_);
}

void reader::set_deadline(std::chrono::steady_clock::time_point deadline) {
  deadline_ = deadline;
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    return;
  }
  // Every ~1000 VM steps (a few hundred rows of a scan): cheap, and fine-grained
  // enough that a query overshoots its deadline by well under a millisecond.
  sqlite3_progress_handler(
      db_, 1000,
      [](void* self) -> int {
        return std::chrono::steady_clock::now() >= static_cast<reader*>(self)->deadline_ ? 1 : 0;
      },
      this);
}

std::vector<line_info> reader::lines() {
  sqlite3_stmt* s = stmts_->lines.get();
  detail::reset_on_exit r(s);
  std::vector<line_info> out;
  while (next_row(db_, s, "lines")) {
    line_info l;
    l.ident = detail::column_text(s, 0);
    l.name = detail::column_text(s, 1);
    l.machines = sqlite3_column_int64(s, 2);
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<machine_info> reader::machines(const std::optional<std::string>& line_ident) {
  sqlite3_stmt* s = stmts_->machines.get();
  detail::reset_on_exit r(s);
  if (line_ident)
    sqlite3_bind_text(s, 1, line_ident->data(), static_cast<int>(line_ident->size()),
                      SQLITE_STATIC);
  else
    sqlite3_bind_null(s, 1);
  std::vector<machine_info> out;
  while (next_row(db_, s, "machines")) {
    out.push_back(read_machine(s));
    overlay_status(out.back(), head_.get());
  }
  return out;
}

std::optional<machine_info> reader::machine(const std::string& ident) {
  sqlite3_stmt* s = stmts_->machine.get();
  detail::reset_on_exit r(s);
  sqlite3_bind_text(s, 1, ident.data(), static_cast<int>(ident.size()), SQLITE_STATIC);
  if (!next_row(db_, s, "machine"))
    return std::nullopt;
  machine_info m = read_machine(s);
  overlay_status(m, head_.get());
  return m;
}

std::vector<metric_info> reader::metrics(int64_t machine_id) {
  sqlite3_stmt* s = stmts_->metrics.get();
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  std::vector<metric_info> out;
  while (next_row(db_, s, "metrics"))
    out.push_back({detail::column_text(s, 0), sqlite3_column_int(s, 1)});
  return out;
}

state_report detail::states_in(sqlite3* db, sqlite3_stmt* s, int64_t machine_id,
                               int64_t from_ms, int64_t to_ms, int64_t now_ms, bool intervals) {
  state_report rep;
  const int64_t end = std::min(to_ms, now_ms);
  if (end <= from_ms)
    return rep;
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  sqlite3_bind_int64(s, 2, from_ms);
  sqlite3_bind_int64(s, 3, end);

  // Each change opens an interval that the next change (or `end`) closes.
  // The texts are few (a handful of states): kept once each, in `time_in`,
  // and a change names its text by index there.
  std::vector<std::pair<std::string, int64_t>> time_in;
  int64_t total = 0;
  int64_t open_ts = 0;
  size_t open = SIZE_MAX;  // the open interval's text in time_in
  auto close = [&](int64_t next_ts) {
    const int64_t begin = std::max(open_ts, from_ms);
    const int64_t stop = std::min(next_ts, end);
    if (stop <= begin)
      return;
    if (intervals)
      rep.intervals.push_back({time_in[open].first, begin, stop});
    time_in[open].second += stop - begin;
    total += stop - begin;
  };
  while (next_row(db, s, "states")) {
    const int64_t ts = sqlite3_column_int64(s, 0);
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    const size_t len = static_cast<size_t>(sqlite3_column_bytes(s, 1));
    if (open != SIZE_MAX)
      close(ts);
    const std::string_view state(text ? text : "", text ? len : 0);
    open = 0;
    while (open < time_in.size() && time_in[open].first != state)
      ++open;
    if (open == time_in.size())
      time_in.emplace_back(std::string(state), 0);
    open_ts = ts;
  }
  if (open != SIZE_MAX)
    close(end);

  // By text (the order a std::map gives), then largest first: the sort is
  // stable, so ties stay by name.
  std::sort(time_in.begin(), time_in.end());
  for (const auto& [state, ms] : time_in)
    if (ms > 0)
      rep.shares.push_back(
          {state, ms, total > 0 ? static_cast<double>(ms) / static_cast<double>(total) : 0.0});
  std::stable_sort(rep.shares.begin(), rep.shares.end(),
                   [](const state_share& a, const state_share& b) { return a.ms > b.ms; });
  return rep;
}

state_report reader::states(int64_t machine_id, int64_t from_ms, int64_t to_ms, int64_t now_ms) {
  return detail::states_in(db_, stmts_->states.get(), machine_id, from_ms, to_ms, now_ms, true);
}

} // namespace edgemes::storage
