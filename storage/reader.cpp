// storage/reader: a read-only connection (see reader.hpp).
//
// Every public method runs in one read transaction (its own, or the caller's
// storage::read_snapshot) and resets its statements before returning, even on
// a throw: a statement left mid-step would pin its WAL snapshot and starve the
// writer's checkpoints.
//
// Where the points come from (schema.cpp): every poll is in exactly one of
// `chunks` (windows before compaction.boundary, plus late polls merged into
// them) and the ingest log. A reader of the daemon takes the log's polls from
// the writer's head (storage/head.hpp), loaded BEFORE its read transaction
// starts: the head then shows the log as of some commit c_H, the transaction
// sees a commit c_S >= c_H, and
//   - chunks of windows before the head's boundary are complete in c_S except
//     for polls still in the head (late ones), which a later compaction may
//     have merged into them by c_S: such a poll is in both, and the merge
//     below keeps one (same ts: the same poll);
//   - windows from the head's boundary on are taken from the head alone (a
//     compaction after c_H may have written their chunks too: ignored).
// A reader without a head (another process, a tool) decodes the ingest log
// itself, in the same transaction as the chunks.
#include "storage/reader.hpp"

#include "storage/chunk.hpp"
#include "storage/connection.hpp"
#include "storage/head.hpp"
#include "storage/log_batch.hpp"
#include "storage/rollup.hpp"
#include "storage/schema.hpp"
#include "storage/sql_functions.hpp"

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
    if (has_step_ && a.count > 0)
      out_.push_back({step_start_, aggregate_value(a, agg_), a.count});
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

// One point of the scan: ts and where its values are (slots.size() doubles).
struct hot_point {
  int64_t ts;
  size_t at;
};

// Windows a backward scan with a poll budget visits at most (a machine with
// no recent data must not cost a lookup per window back to the oldest chunk).
constexpr int64_t backward_window_cap = 720;

} // namespace

struct reader::statements {
  stmt_ptr begin, commit, rollback;
  stmt_ptr lines, machines, machine, metrics, states;
  stmt_ptr compaction, oldest_chunk, chunk, log, last_ok;
  // Decode buffers, reused.
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> columns;
  std::vector<double> hot_values, chunk_values;
  std::vector<hot_point> hot;

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
        // The last change at or before `from` (the state in force then) and
        // every change after it up to `to`, in one statement = one snapshot.
        states(detail::prepare(
            db, "SELECT ts, state FROM state_changes WHERE machine_id = ?1 AND ts >= "
                "coalesce((SELECT max(ts) FROM state_changes WHERE machine_id = ?1 AND ts <= ?2), "
                "?2) AND ts < ?3 ORDER BY ts")),
        compaction(detail::prepare(db, "SELECT window_ms, boundary FROM compaction")),
        oldest_chunk(detail::prepare(db, "SELECT min(start) FROM chunks")),
        chunk(detail::prepare(db, "SELECT data FROM chunks WHERE start = ? AND machine_id = ?")),
        log(detail::prepare(db, "SELECT id, data FROM ingest_log ORDER BY id")),
        last_ok(detail::prepare(db, "SELECT last_ok_ms FROM machines WHERE id = ?")) {}
};

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

namespace {

// Runs `body` in the caller's read transaction, or in one of its own.
template <class Body>
void in_read(sqlite3* db, sqlite3_stmt* begin, sqlite3_stmt* commit, sqlite3_stmt* rollback,
             const char* what, Body&& body) {
  const bool own = sqlite3_get_autocommit(db) != 0;
  if (own) {
    detail::reset_on_exit r(begin);
    if (int rc = sqlite3_step(begin); rc != SQLITE_DONE)
      detail::fail_read(db, rc, what);
  }
  try {
    body();
    if (own) {
      detail::reset_on_exit r(commit);
      if (int rc = sqlite3_step(commit); rc != SQLITE_DONE)
        detail::fail_read(db, rc, what);
    }
  } catch (...) {
    if (own && !sqlite3_get_autocommit(db)) {
      sqlite3_step(rollback);
      sqlite3_reset(rollback);
    }
    throw;
  }
}

} // namespace

void reader::scan(int64_t machine_id, const std::vector<int>& slots, int64_t from_ms,
                  int64_t to_ms, bool forward, int64_t max_polls,
                  const std::function<bool(int64_t, const double*)>& f) {
  if (from_ms >= to_ms)
    return;
  statements& st = *stmts_;
  const size_t k = slots.size();
  // Decoding runs outside SQLite's VM, where the progress handler cannot see
  // it: the deadline is checked here too, per window and per 1024 points.
  const bool timed = deadline_ != std::chrono::steady_clock::time_point::max();
  auto check_deadline = [&] {
    if (timed && std::chrono::steady_clock::now() >= deadline_)
      throw db_error(SQLITE_INTERRUPT, "scan: query interrupted: deadline passed");
  };
  check_deadline();
  // The head first, then the transaction (see the file comment).
  std::shared_ptr<const head::snapshot> snap = head_ ? head_->load(machine_id) : nullptr;
  in_read(db_, st.begin.get(), st.commit.get(), st.rollback.get(), "scan", [&] {
    int64_t window = 0;
    std::optional<int64_t> boundary;
    {
      sqlite3_stmt* q = st.compaction.get();
      detail::reset_on_exit r(q);
      if (next_row(db_, q, "scan: compaction state")) {
        window = sqlite3_column_int64(q, 0);
        if (sqlite3_column_type(q, 1) != SQLITE_NULL)
          boundary = sqlite3_column_int64(q, 1);
      }
    }
    // Hot points in range, sorted by ts.
    st.hot.clear();
    st.hot_values.clear();
    size_t seen = 0;
    auto add_hot = [&](int64_t ts, const double* v, size_t nslots) {
      if ((++seen & 4095) == 0)
        check_deadline();
      if (ts < from_ms || ts >= to_ms)
        return;
      st.hot.push_back({ts, st.hot_values.size()});
      for (int slot : slots)
        st.hot_values.push_back(slot >= 0 && static_cast<size_t>(slot) < nslots ? v[slot] : NAN);
    };
    if (head_) {
      if (snap) {
        boundary.reset();
        if (snap->boundary != std::numeric_limits<int64_t>::min())
          boundary = snap->boundary;
        snap->each(add_hot);
      }
      // No snapshot: the machine has no poll in the log (the writer loads
      // every logged poll into the head when it opens), so every poll of it
      // is in a chunk and the transaction's boundary holds.
    } else {
      sqlite3_stmt* q = st.log.get();
      detail::reset_on_exit r(q);
      log_batch::view batch;
      chunk::view c;
      std::vector<double> row;
      while (next_row(db_, q, "scan: ingest log")) {
        if (!batch.parse(sqlite3_column_blob(q, 1), static_cast<size_t>(sqlite3_column_bytes(q, 1))))
          continue;  // a row that does not decode holds no polls we can show
        if (!batch.machine(machine_id, c) || !c.timestamps(st.ts))
          continue;
        st.columns.resize(c.slots());
        bool ok = true;
        for (size_t s = 0; s < c.slots() && ok; ++s)
          ok = c.column(s, st.columns[s]);
        if (!ok)
          continue;
        for (size_t i = 0; i < st.ts.size(); ++i) {
          row.assign(c.slots(), NAN);
          for (size_t s = 0; s < c.slots(); ++s)
            row[s] = st.columns[s][i];
          add_hot(st.ts[i], row.data(), row.size());
        }
      }
    }
    auto by_ts = [](const hot_point& a, const hot_point& b) { return a.ts < b.ts; };
    if (!std::is_sorted(st.hot.begin(), st.hot.end(), by_ts))
      std::stable_sort(st.hot.begin(), st.hot.end(), by_ts);

    // Chunk windows [lo, hi): those before the boundary that overlap the range
    // and are not older than the oldest chunk.
    int64_t lo = 0, hi = 0;
    if (window > 0 && boundary) {
      sqlite3_stmt* q = st.oldest_chunk.get();
      detail::reset_on_exit r(q);
      if (next_row(db_, q, "scan: oldest chunk") && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        // (floor_to of a `from` near INT64_MIN would overflow: clamp first.)
        lo = floor_to(std::max<int64_t>(from_ms, sqlite3_column_int64(q, 0)), window);
        hi = std::min(*boundary, to_ms);
        if (!forward && max_polls >= 0) {
          // A latest-style scan starts at the machine's newest poll.
          sqlite3_stmt* l = st.last_ok.get();
          detail::reset_on_exit r2(l);
          sqlite3_bind_int64(l, 1, machine_id);
          int64_t last_ok = 0;
          if (next_row(db_, l, "scan: last poll"))
            last_ok = sqlite3_column_int64(l, 0);
          if (snap && snap->has_status)
            last_ok = std::max(last_ok, snap->status.last_ok_ms);
          if (last_ok > 0)
            hi = std::min(hi, floor_to(last_ok, window) + 2 * window);
        }
      }
    }

    int64_t emitted = 0;
    bool stop = false;
    const double* hv = st.hot_values.data();
    auto emit = [&](int64_t ts, const double* v) {
      if (stop)
        return;
      if ((emitted & 1023) == 1023)
        check_deadline();
      ++emitted;
      if (!f(ts, v) || (max_polls >= 0 && emitted >= max_polls))
        stop = true;
    };
    // Chunk points of one window into (st.ts, st.chunk_values); false if none.
    auto load_window = [&](int64_t start) -> bool {
      check_deadline();
      sqlite3_stmt* q = st.chunk.get();
      detail::reset_on_exit r(q);
      sqlite3_bind_int64(q, 1, start);
      sqlite3_bind_int64(q, 2, machine_id);
      if (!next_row(db_, q, "scan: chunk"))
        return false;
      chunk::view c;
      if (!c.parse(sqlite3_column_blob(q, 0), static_cast<size_t>(sqlite3_column_bytes(q, 0))) ||
          !c.timestamps(st.ts))
        throw db_error(SQLITE_CORRUPT, "the chunk of machine " + std::to_string(machine_id) +
                                           " at " + std::to_string(start) + " does not decode");
      const size_t n = st.ts.size();
      st.columns.resize(k);
      for (size_t j = 0; j < k; ++j)
        if (!c.column(static_cast<size_t>(std::max(slots[j], 0)), st.columns[j]) ||
            st.columns[j].size() != n)
          throw db_error(SQLITE_CORRUPT, "the chunk of machine " + std::to_string(machine_id) +
                                             " at " + std::to_string(start) +
                                             " does not decode");
      st.chunk_values.resize(n * k);
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < k; ++j)
          st.chunk_values[i * k + j] = slots[j] < 0 ? NAN : st.columns[j][i];
      return true;
    };

    if (forward) {
      size_t h = 0;
      for (int64_t w = lo; w < hi && !stop; w += window) {
        while (h < st.hot.size() && st.hot[h].ts < w && !stop)
          emit(st.hot[h].ts, hv + st.hot[h].at), ++h;
        if (stop || !load_window(w))
          continue;
        for (size_t i = 0; i < st.ts.size() && !stop; ++i) {
          const int64_t ts = st.ts[i];
          if (ts < from_ms || ts >= to_ms)
            continue;
          while (h < st.hot.size() && st.hot[h].ts < ts && !stop)
            emit(st.hot[h].ts, hv + st.hot[h].at), ++h;
          if (h < st.hot.size() && st.hot[h].ts == ts)
            ++h;  // the same poll, merged into the chunk since the head was loaded
          emit(ts, &st.chunk_values[i * k]);
        }
      }
      while (h < st.hot.size() && !stop)
        emit(st.hot[h].ts, hv + st.hot[h].at), ++h;
    } else {
      size_t h = st.hot.size();
      int64_t visited = 0;
      const int64_t top = hi > lo ? lo + (hi - 1 - lo) / window * window : lo;
      for (int64_t w = top; hi > lo && w >= lo && !stop; w -= window) {
        while (h > 0 && st.hot[h - 1].ts >= w + window && !stop)
          --h, emit(st.hot[h].ts, hv + st.hot[h].at);
        if (stop)
          break;
        if (max_polls >= 0 && ++visited > backward_window_cap)
          break;
        if (!load_window(w))
          continue;
        for (size_t i = st.ts.size(); i-- > 0 && !stop;) {
          const int64_t ts = st.ts[i];
          if (ts < from_ms || ts >= to_ms)
            continue;
          while (h > 0 && st.hot[h - 1].ts > ts && !stop)
            --h, emit(st.hot[h].ts, hv + st.hot[h].at);
          if (h > 0 && st.hot[h - 1].ts == ts)
            --h;
          emit(ts, &st.chunk_values[i * k]);
        }
      }
      while (h > 0 && !stop)
        --h, emit(st.hot[h].ts, hv + st.hot[h].at);
    }
  });
}

std::vector<latest_value> reader::latest(int64_t machine_id, int max_rows) {
  std::vector<latest_value> out;
  in_read(db_, stmts_->begin.get(), stmts_->commit.get(), stmts_->rollback.get(), "latest", [&] {
    std::vector<metric_info> metrics = this->metrics(machine_id);
    std::vector<int> slots;
    for (const auto& m : metrics) {
      out.push_back({m.name, false, 0, 0});
      slots.push_back(m.slot);
    }
    if (slots.empty() || max_rows <= 0)
      return;
    size_t missing = slots.size();
    scan(machine_id, slots, std::numeric_limits<int64_t>::min(),
         std::numeric_limits<int64_t>::max(), false, max_rows,
         [&](int64_t ts, const double* v) {
           for (size_t i = 0; i < slots.size(); ++i) {
             if (out[i].has_value || std::isnan(v[i]))
               continue;
             out[i].has_value = true;
             out[i].value = v[i];
             out[i].ts_ms = ts;
             --missing;
           }
           return missing > 0;
         });
  });
  return out;
}

std::vector<point> reader::samples(int64_t machine_id, int slot, int64_t from_ms, int64_t to_ms,
                                   int64_t limit, bool* truncated) {
  if (truncated)
    *truncated = false;
  std::vector<point> out;
  scan(machine_id, {slot}, from_ms, to_ms, true, -1, [&](int64_t ts, const double* v) {
    if (std::isnan(v[0]))
      return true;
    if (static_cast<int64_t>(out.size()) >= limit) {
      if (truncated)
        *truncated = true;
      return false;
    }
    out.push_back({ts, v[0]});
    return true;
  });
  return out;
}

namespace {

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
  scan(machine_id, {slot}, from_ms, to_ms, true, -1, [&](int64_t ts, const double* v) {
    if (std::isfinite(v[0]))
      b.point(ts, v[0]);
    return true;
  });
  b.finish();
  return out;
}

std::vector<bucket> reader::series(int64_t machine_id, int slot, int64_t from_ms, int64_t to_ms,
                                   int64_t step_ms, aggregate agg) {
  return series_raw(machine_id, slot, from_ms, to_ms, step_ms, agg);
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

double aggregate_value(const slot_stats& a, aggregate agg) {
  switch (agg) {
  case aggregate::avg: return a.sum / static_cast<double>(a.count);
  case aggregate::min: return a.min;
  case aggregate::max: return a.max;
  case aggregate::sum: return a.sum;
  case aggregate::count: return static_cast<double>(a.count);
  case aggregate::last: return a.last;
  }
  return 0;
}

} // namespace edgemes::storage
