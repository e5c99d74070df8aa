// storage/reader: a read-only connection (see reader.hpp).
//
// Every public method runs one statement (or, in latest(), two inside one
// deferred read transaction so they see the same snapshot) and resets it
// before returning, even on a throw: a statement left mid-step would pin its
// WAL snapshot and starve the writer's checkpoints.
//
// Telemetry values are decoded here in C++ (storage/codec) rather than with
// SQL json_extract: the range scan on (machine_id, ts) hands each row's text
// to decode_slot without a copy.
//
// series() with a step that is a multiple of 10 s reads, in one read
// transaction (one snapshot), the machine's newest rollup row (the end of
// rollup coverage, schema.cpp invariant 2), then raw rows for the partial
// 10 s bucket at `from`, rollup rows for the whole buckets up to `to` or the
// coverage end, and raw rows after that: for an hour at 1 s polls ~360 rollup
// rows and <= ~20 raw rows instead of 3 600 raw rows.
#include "storage/reader.hpp"

#include "storage/codec.hpp"
#include "storage/connection.hpp"
#include "storage/rollup.hpp"
#include "storage/schema.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <thread>

namespace edgemes::storage {

using detail::next_row;
using detail::stmt_ptr;

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

const char* text_of(sqlite3_stmt* s, int col) {
  return reinterpret_cast<const char*>(sqlite3_column_text(s, col));
}

size_t size_of(sqlite3_stmt* s, int col) {
  return static_cast<size_t>(sqlite3_column_bytes(s, col));
}

// Folds points and rollup rows, oldest first, into step buckets. A step
// bucket is the merge, in ts order, of its 10 s sub-buckets, each the add()
// of its points in ts order (storage/rollup.hpp); a rollup row is such a
// sub-bucket already made. Both paths of series() do exactly these
// operations, so they give the same doubles.
class series_builder {
public:
  series_builder(int64_t step, aggregate agg, std::vector<bucket>& out)
      : step_(step), agg_(agg), out_(out) {}

  void point(int64_t ts, double v) {
    if (ts >= sub_end_)
      enter(ts);
    sub_.add(v);
  }
  void rollup(int64_t start, const slot_stats& st) {
    enter(start);
    step_acc_.merge(st);
    sub_end_ = start;  // the next point opens its own sub-bucket
  }
  void finish() {
    step_acc_.merge(sub_);
    emit();
  }

private:
  // Closes the sub-bucket and, if ts is in a later step bucket, the step bucket.
  void enter(int64_t ts) {
    step_acc_.merge(sub_);
    sub_ = slot_stats{};
    if (!has_step_ || ts >= step_start_ + step_) {
      emit();
      step_start_ = floor_to(ts, step_);
      has_step_ = true;
    }
    sub_end_ = std::min(floor_to(ts, rollup_ms) + rollup_ms, step_start_ + step_);
  }
  void emit() {
    const slot_stats& a = step_acc_;
    if (has_step_ && a.count > 0) {
      double v = 0;
      switch (agg_) {
      case aggregate::avg: v = a.sum / static_cast<double>(a.count); break;
      case aggregate::min: v = a.min; break;
      case aggregate::max: v = a.max; break;
      case aggregate::sum: v = a.sum; break;
      case aggregate::count: v = static_cast<double>(a.count); break;
      case aggregate::last: v = a.last; break;
      }
      out_.push_back({step_start_, v, a.count});
    }
    step_acc_ = slot_stats{};
  }

  const int64_t step_;
  const aggregate agg_;
  std::vector<bucket>& out_;
  bool has_step_ = false;
  int64_t step_start_ = 0;
  int64_t sub_end_ = std::numeric_limits<int64_t>::min();  // points before it join sub_
  slot_stats step_acc_, sub_;
};

// Rollups are used only where the bucket arithmetic cannot overflow.
constexpr int64_t rollup_ts_bound = int64_t{1} << 62;

} // namespace

struct reader::statements {
  stmt_ptr begin, commit, rollback;
  stmt_ptr lines, machines, machine, metrics, newest_rows, range, states;
  stmt_ptr rollup_coverage, rollup_range;
  std::vector<double> values;  // decode buffer for latest()

  explicit statements(sqlite3* db)
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
        newest_rows(detail::prepare(
            db, "SELECT ts, v FROM telemetry WHERE machine_id = ? ORDER BY ts DESC LIMIT ?")),
        range(detail::prepare(db, "SELECT ts, v FROM telemetry "
                                  "WHERE machine_id = ? AND ts >= ? AND ts < ? ORDER BY ts")),
        // The last change at or before `from` (the state in force then) and
        // every change after it up to `to`, in one statement = one snapshot.
        states(detail::prepare(
            db, "SELECT ts, state FROM state_changes WHERE machine_id = ?1 AND ts >= "
                "coalesce((SELECT max(ts) FROM state_changes WHERE machine_id = ?1 AND ts <= ?2), "
                "?2) AND ts < ?3 ORDER BY ts")),
        rollup_coverage(detail::prepare(db, "SELECT max(ts) FROM telemetry_10s WHERE machine_id = ?")),
        rollup_range(detail::prepare(db, "SELECT ts, v FROM telemetry_10s "
                                         "WHERE machine_id = ? AND ts >= ? AND ts < ? ORDER BY ts")) {}
};

std::unique_ptr<reader> reader::open(const std::string& path, const options& opts) {
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
  try {
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
  while (next_row(db_, s, "machines"))
    out.push_back(read_machine(s));
  return out;
}

std::optional<machine_info> reader::machine(const std::string& ident) {
  sqlite3_stmt* s = stmts_->machine.get();
  detail::reset_on_exit r(s);
  sqlite3_bind_text(s, 1, ident.data(), static_cast<int>(ident.size()), SQLITE_STATIC);
  if (!next_row(db_, s, "machine"))
    return std::nullopt;
  return read_machine(s);
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

std::vector<latest_value> reader::latest(int64_t machine_id, int max_rows) {
  statements& st = *stmts_;
  // metrics and telemetry must come from one snapshot.
  {
    detail::reset_on_exit r(st.begin.get());
    if (int rc = sqlite3_step(st.begin.get()); rc != SQLITE_DONE)
      detail::fail_read(db_, rc, "latest: begin");
  }
  try {
    std::vector<metric_info> metrics = this->metrics(machine_id);
    std::vector<latest_value> out;
    out.reserve(metrics.size());
    for (const auto& m : metrics)
      out.push_back({m.name, false, 0, 0});

    size_t missing = out.size();
    sqlite3_stmt* s = st.newest_rows.get();
    detail::reset_on_exit r(s);
    sqlite3_bind_int64(s, 1, machine_id);
    sqlite3_bind_int(s, 2, std::max(max_rows, 0));  // LIMIT -1 would mean all
    while (missing > 0 && next_row(db_, s, "latest")) {
      if (!decode_all(text_of(s, 1), size_of(s, 1), st.values))
        continue;  // a malformed row holds no values
      const int64_t ts = sqlite3_column_int64(s, 0);
      for (size_t i = 0; i < out.size(); ++i) {
        size_t slot = static_cast<size_t>(metrics[i].slot);
        if (out[i].has_value || slot >= st.values.size() || std::isnan(st.values[slot]))
          continue;
        out[i].has_value = true;
        out[i].value = st.values[slot];
        out[i].ts_ms = ts;
        --missing;
      }
    }
    sqlite3_reset(s);
    detail::reset_on_exit commit_guard(st.commit.get());
    if (int rc = sqlite3_step(st.commit.get()); rc != SQLITE_DONE)
      detail::fail_read(db_, rc, "latest: commit");
    return out;
  } catch (...) {
    if (!sqlite3_get_autocommit(db_)) {
      sqlite3_step(st.rollback.get());
      sqlite3_reset(st.rollback.get());
    }
    throw;
  }
}

std::vector<point> reader::samples(int64_t machine_id, int slot, int64_t from_ms, int64_t to_ms,
                                   int64_t limit, bool* truncated) {
  if (truncated)
    *truncated = false;
  sqlite3_stmt* s = stmts_->range.get();
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  sqlite3_bind_int64(s, 2, from_ms);
  sqlite3_bind_int64(s, 3, to_ms);
  std::vector<point> out;
  while (next_row(db_, s, "samples")) {
    double v;
    if (!decode_slot(text_of(s, 1), size_of(s, 1), slot, v))
      continue;
    if (static_cast<int64_t>(out.size()) >= limit) {
      if (truncated)
        *truncated = true;
      break;
    }
    out.push_back({sqlite3_column_int64(s, 0), v});
  }
  return out;
}

namespace {

// Feeds the points of `slot` in raw rows with from <= ts < to to `b`.
void scan_raw(sqlite3* db, sqlite3_stmt* s, int64_t machine_id, int slot, int64_t from_ms,
              int64_t to_ms, series_builder& b) {
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  sqlite3_bind_int64(s, 2, from_ms);
  sqlite3_bind_int64(s, 3, to_ms);
  while (next_row(db, s, "series")) {
    double v;
    if (decode_slot(text_of(s, 1), size_of(s, 1), slot, v))
      b.point(sqlite3_column_int64(s, 0), v);
  }
}

// The one rollup field `agg` reads (count is always decoded).
unsigned fields_of(aggregate agg) {
  switch (agg) {
  case aggregate::avg:
  case aggregate::sum: return rollup_sum;
  case aggregate::min: return rollup_min;
  case aggregate::max: return rollup_max;
  case aggregate::last: return rollup_last;
  case aggregate::count: break;
  }
  return 0;
}

// Feeds the rollups of `slot` in rollup rows with from <= ts < to to `b`.
// Only the field `agg` emits is decoded: the others stay 0, and merging them
// is harmless because they are never read.
void scan_rollups(sqlite3* db, sqlite3_stmt* s, int64_t machine_id, int slot, int64_t from_ms,
                  int64_t to_ms, aggregate agg, series_builder& b) {
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  sqlite3_bind_int64(s, 2, from_ms);
  sqlite3_bind_int64(s, 3, to_ms);
  const unsigned fields = fields_of(agg);
  while (next_row(db, s, "series: rollups")) {
    slot_stats st;
    if (decode_rollup_slot(text_of(s, 1), size_of(s, 1), slot, st, fields))
      b.rollup(sqlite3_column_int64(s, 0), st);
  }
}

void check_step(int64_t step_ms) {
  if (step_ms <= 0)
    throw db_error(SQLITE_MISUSE, "series: step must be positive, not " + std::to_string(step_ms));
}

} // namespace

std::vector<bucket> reader::series_raw(int64_t machine_id, int slot, int64_t from_ms,
                                       int64_t to_ms, int64_t step_ms, aggregate agg) {
  check_step(step_ms);
  std::vector<bucket> out;
  series_builder b(step_ms, agg, out);
  scan_raw(db_, stmts_->range.get(), machine_id, slot, from_ms, to_ms, b);
  b.finish();
  return out;
}

std::vector<bucket> reader::series(int64_t machine_id, int slot, int64_t from_ms, int64_t to_ms,
                                   int64_t step_ms, aggregate agg) {
  check_step(step_ms);
  if (step_ms % rollup_ms != 0 || from_ms < -rollup_ts_bound || to_ms > rollup_ts_bound)
    return series_raw(machine_id, slot, from_ms, to_ms, step_ms, agg);
  const int64_t whole_from = ceil_to(from_ms, rollup_ms), whole_to = floor_to(to_ms, rollup_ms);
  if (whole_from >= whole_to)
    return series_raw(machine_id, slot, from_ms, to_ms, step_ms, agg);

  statements& st = *stmts_;
  std::vector<bucket> out;
  series_builder b(step_ms, agg, out);
  // Coverage and rows from one snapshot: the writer may close a bucket between
  // two statements otherwise. Inside a caller's read transaction
  // (storage::read_snapshot) that one is the snapshot.
  const bool own_txn = sqlite3_get_autocommit(db_) != 0;
  if (own_txn) {
    detail::reset_on_exit r(st.begin.get());
    if (int rc = sqlite3_step(st.begin.get()); rc != SQLITE_DONE)
      detail::fail_read(db_, rc, "series: begin");
  }
  try {
    int64_t split = whole_from;  // rollups for [whole_from, split)
    {
      sqlite3_stmt* c = st.rollup_coverage.get();
      detail::reset_on_exit r(c);
      sqlite3_bind_int64(c, 1, machine_id);
      if (next_row(db_, c, "series: rollup coverage") && sqlite3_column_type(c, 0) != SQLITE_NULL) {
        const int64_t covered_to = sqlite3_column_int64(c, 0) + rollup_ms;
        split = std::max(whole_from, std::min(whole_to, covered_to));
      }
    }
    if (split == whole_from) {
      scan_raw(db_, st.range.get(), machine_id, slot, from_ms, to_ms, b);
    } else {
      scan_raw(db_, st.range.get(), machine_id, slot, from_ms, whole_from, b);
      scan_rollups(db_, st.rollup_range.get(), machine_id, slot, whole_from, split, agg, b);
      scan_raw(db_, st.range.get(), machine_id, slot, split, to_ms, b);
    }
    if (own_txn) {
      detail::reset_on_exit commit_guard(st.commit.get());
      if (int rc = sqlite3_step(st.commit.get()); rc != SQLITE_DONE)
        detail::fail_read(db_, rc, "series: commit");
    }
  } catch (...) {
    if (own_txn && !sqlite3_get_autocommit(db_)) {
      sqlite3_step(st.rollback.get());
      sqlite3_reset(st.rollback.get());
    }
    throw;
  }
  b.finish();
  return out;
}

state_report reader::states(int64_t machine_id, int64_t from_ms, int64_t to_ms, int64_t now_ms) {
  state_report rep;
  const int64_t end = std::min(to_ms, now_ms);
  if (end <= from_ms)
    return rep;
  sqlite3_stmt* s = stmts_->states.get();
  detail::reset_on_exit r(s);
  sqlite3_bind_int64(s, 1, machine_id);
  sqlite3_bind_int64(s, 2, from_ms);
  sqlite3_bind_int64(s, 3, end);

  // Each change opens an interval that the next change (or `end`) closes.
  std::vector<std::pair<int64_t, std::string>> changes;
  while (next_row(db_, s, "states"))
    changes.emplace_back(sqlite3_column_int64(s, 0), detail::column_text(s, 1));

  std::map<std::string, int64_t> time_in;
  int64_t total = 0;
  for (size_t i = 0; i < changes.size(); ++i) {
    const int64_t begin = std::max(changes[i].first, from_ms);
    const int64_t stop = i + 1 < changes.size() ? std::min(changes[i + 1].first, end) : end;
    if (stop <= begin)
      continue;
    rep.intervals.push_back({changes[i].second, begin, stop});
    time_in[changes[i].second] += stop - begin;
    total += stop - begin;
  }
  for (const auto& [state, ms] : time_in)
    rep.shares.push_back(
        {state, ms, total > 0 ? static_cast<double>(ms) / static_cast<double>(total) : 0.0});
  // Largest first; ties by name so the order is stable.
  std::stable_sort(rep.shares.begin(), rep.shares.end(),
                   [](const state_share& a, const state_share& b) { return a.ms > b.ms; });
  return rep;
}

} // namespace edgemes::storage
