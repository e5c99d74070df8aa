// storage/reader_scan: reader::scan, the merge of a machine's hot polls (the
// writer's head, or the ingest log) with its chunks, and latest() and
// samples(), which read through it (see reader.hpp).
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
#include "storage/reader_internal.hpp"
#include "storage/rollup.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgemes::storage {

using detail::in_read;
using detail::next_row;

detail::scan_statements::scan_statements(sqlite3* db)
    : compaction(prepare(db, "SELECT window_ms, boundary FROM compaction")),
      oldest_chunk(prepare(db, "SELECT min(start) FROM chunks")),
      hours_from(prepare(db, "SELECT hours_from FROM compaction")),
      chunk(prepare(db, "SELECT data FROM chunks WHERE start = ? AND machine_id = ?")),
      log(prepare(db, "SELECT id, data FROM ingest_log WHERE id < ? ORDER BY id")),
      last_ok(prepare(db, "SELECT last_ok_ms FROM machines WHERE id = ?")) {}

namespace {

// Windows a backward scan with a poll budget visits at most (a machine with
// no recent data must not cost a lookup per window back to the oldest chunk).
constexpr int64_t backward_window_cap = 720;

// One scan() call, in steps: read the compaction state, collect the hot points
// in range (from the head or the log), find the chunk windows to visit, then
// merge hot and chunk points in ts order (forward) or its reverse.
class scan_run {
public:
  using callback = std::function<bool(int64_t, const double*)>;

  scan_run(sqlite3* db, detail::scan_statements& st,
           std::chrono::steady_clock::time_point deadline, int64_t machine_id,
           const std::vector<int>& slots, int64_t from_ms, int64_t to_ms, int64_t max_polls,
           const callback& f)
      : db_(db), st_(st), deadline_(deadline), machine_id_(machine_id), slots_(slots),
        k_(slots.size()), from_(from_ms), to_(to_ms), max_polls_(max_polls), f_(f) {}

  // Decoding runs outside SQLite's VM, where the progress handler cannot see
  // it: the deadline is checked here too, per window and per 1024 points.
  void check_deadline() const {
    if (deadline_ != std::chrono::steady_clock::time_point::max() &&
        std::chrono::steady_clock::now() >= deadline_)
      throw db_error(SQLITE_INTERRUPT, "scan: query interrupted: deadline passed");
  }

  // The window width and the boundary this transaction sees.
  void read_compaction() {
    sqlite3_stmt* q = st_.compaction.get();
    detail::reset_on_exit r(q);
    if (next_row(db_, q, "scan: compaction state")) {
      window_ = sqlite3_column_int64(q, 0);
      if (sqlite3_column_type(q, 1) != SQLITE_NULL)
        boundary_ = sqlite3_column_int64(q, 1);
    }
  }

  // The hot points in range, sorted by ts: from the head when the reader has
  // one (`h`; `snap` is the machine's snapshot, loaded before the
  // transaction), else from the ingest log.
  void collect_hot(const head* h, const head::snapshot* snap) {
    st_.hot.clear();
    st_.hot_values.clear();
    seen_ = 0;
    if (h) {
      if (snap && snap->spilled_below > 0) {
        // Part of the log is not in memory (spilled): its rows are read in
        // this transaction, so its boundary holds — a compaction since the
        // head was loaded moved polls of those rows into chunks before it.
        // Head polls it moved too are in both: the merge keeps one.
        snap->each([this](int64_t ts, const double* v, size_t nslots) { add_hot(ts, v, nslots); });
        hot_from_log(snap->spilled_below);
      } else if (snap) {
        boundary_.reset();
        if (snap->boundary != std::numeric_limits<int64_t>::min())
          boundary_ = snap->boundary;
        snap->each([this](int64_t ts, const double* v, size_t nslots) { add_hot(ts, v, nslots); });
      }
      // No snapshot: the machine has no poll in the log (the writer loads
      // every logged poll into the head when it opens), so every poll of it
      // is in a chunk and the transaction's boundary holds.
    } else {
      hot_from_log(std::numeric_limits<int64_t>::max());
    }
    auto by_ts = [](const detail::hot_point& a, const detail::hot_point& b) { return a.ts < b.ts; };
    if (!std::is_sorted(st_.hot.begin(), st_.hot.end(), by_ts))
      std::stable_sort(st_.hot.begin(), st_.hot.end(), by_ts);
  }

  // Chunk windows [lo_, hi_): those before the boundary that overlap the
  // range and are not older than the oldest chunk. `latest_style`: a backward
  // scan with a poll budget, which starts at the machine's newest poll.
  void chunk_range(bool latest_style, const head::snapshot* snap) {
    if (window_ <= 0 || !boundary_)
      return;
    sqlite3_stmt* q = st_.oldest_chunk.get();
    detail::reset_on_exit r(q);
    if (!next_row(db_, q, "scan: oldest chunk") || sqlite3_column_type(q, 0) == SQLITE_NULL)
      return;
    // (floor_to of a `from` near INT64_MIN would overflow: clamp first.)
    lo_ = floor_to(std::max<int64_t>(from_, sqlite3_column_int64(q, 0)), window_);
    hi_ = std::min(*boundary_, to_);
    if (!latest_style)
      return;
    sqlite3_stmt* l = st_.last_ok.get();
    detail::reset_on_exit r2(l);
    sqlite3_bind_int64(l, 1, machine_id_);
    int64_t last_ok = 0;
    if (next_row(db_, l, "scan: last poll"))
      last_ok = sqlite3_column_int64(l, 0);
    if (snap && snap->has_status)
      last_ok = std::max(last_ok, snap->status.last_ok_ms);
    if (last_ok > 0)
      hi_ = std::min(hi_, floor_to(last_ok, window_) + 2 * window_);
  }

  // What the steps above found: the transaction's boundary (read_compaction),
  // the one scan() uses for chunks (after collect_hot), the window width,
  // and the hot points (sorted, after collect_hot).
  std::optional<int64_t> boundary() const { return boundary_; }
  int64_t window() const { return window_; }
  const std::vector<detail::hot_point>& hot() const { return st_.hot; }

  void forward() {
    size_t h = 0;
    for (int64_t w = lo_; w < hi_ && !stop_; w += window_) {
      while (h < st_.hot.size() && st_.hot[h].ts < w && !stop_)
        emit_hot(h++);
      if (stop_ || !load_window(w))
        continue;
      for (size_t i = 0; i < st_.ts.size() && !stop_; ++i) {
        const int64_t ts = st_.ts[i];
        if (ts < from_ || ts >= to_)
          continue;
        while (h < st_.hot.size() && st_.hot[h].ts < ts && !stop_)
          emit_hot(h++);
        if (h < st_.hot.size() && st_.hot[h].ts == ts)
          ++h;  // the same poll, merged into the chunk since the head was loaded
        emit(ts, &st_.chunk_values[i * k_]);
      }
    }
    while (h < st_.hot.size() && !stop_)
      emit_hot(h++);
  }

  void backward() {
    size_t h = st_.hot.size();
    int64_t visited = 0;
    const int64_t top = hi_ > lo_ ? lo_ + (hi_ - 1 - lo_) / window_ * window_ : lo_;
    for (int64_t w = top; hi_ > lo_ && w >= lo_ && !stop_; w -= window_) {
      while (h > 0 && st_.hot[h - 1].ts >= w + window_ && !stop_)
        emit_hot(--h);
      if (stop_)
        break;
      if (max_polls_ >= 0 && ++visited > backward_window_cap)
        break;
      if (!load_window(w))
        continue;
      for (size_t i = st_.ts.size(); i-- > 0 && !stop_;) {
        const int64_t ts = st_.ts[i];
        if (ts < from_ || ts >= to_)
          continue;
        while (h > 0 && st_.hot[h - 1].ts > ts && !stop_)
          emit_hot(--h);
        if (h > 0 && st_.hot[h - 1].ts == ts)
          --h;
        emit(ts, &st_.chunk_values[i * k_]);
      }
    }
    while (h > 0 && !stop_)
      emit_hot(--h);
  }

private:
  void add_hot(int64_t ts, const double* v, size_t nslots) {
    if ((++seen_ & 4095) == 0)
      check_deadline();
    if (ts < from_ || ts >= to_)
      return;
    st_.hot.push_back({ts, st_.hot_values.size()});
    for (int slot : slots_)
      st_.hot_values.push_back(slot >= 0 && static_cast<size_t>(slot) < nslots ? v[slot] : NAN);
  }

  // The machine's polls in the ingest log rows with id < below.
  void hot_from_log(int64_t below) {
    sqlite3_stmt* q = st_.log.get();
    detail::reset_on_exit r(q);
    sqlite3_bind_int64(q, 1, below);
    log_batch::view batch;
    chunk::view c;
    std::vector<double> row;
    while (next_row(db_, q, "scan: ingest log")) {
      if (!batch.parse(sqlite3_column_blob(q, 1), static_cast<size_t>(sqlite3_column_bytes(q, 1))))
        continue;  // a row that does not decode holds no polls we can show
      if (!batch.machine(machine_id_, c) || !c.timestamps(st_.ts))
        continue;
      st_.columns.resize(c.slots());
      bool ok = true;
      for (size_t s = 0; s < c.slots() && ok; ++s)
        ok = c.column(s, st_.columns[s]);
      if (!ok)
        continue;
      for (size_t i = 0; i < st_.ts.size(); ++i) {
        row.assign(c.slots(), NAN);
        for (size_t s = 0; s < c.slots(); ++s)
          row[s] = st_.columns[s][i];
        add_hot(st_.ts[i], row.data(), row.size());
      }
    }
  }

  [[noreturn]] void corrupt(int64_t start) const {
    throw db_error(SQLITE_CORRUPT, "the chunk of machine " + std::to_string(machine_id_) + " at " +
                                       std::to_string(start) + " does not decode");
  }

  // Chunk points of one window into (st_.ts, st_.chunk_values); false if none.
  bool load_window(int64_t start) {
    check_deadline();
    sqlite3_stmt* q = st_.chunk.get();
    detail::reset_on_exit r(q);
    sqlite3_bind_int64(q, 1, start);
    sqlite3_bind_int64(q, 2, machine_id_);
    if (!next_row(db_, q, "scan: chunk"))
      return false;
    chunk::view c;
    if (!c.parse(sqlite3_column_blob(q, 0), static_cast<size_t>(sqlite3_column_bytes(q, 0))) ||
        !c.timestamps(st_.ts))
      corrupt(start);
    const size_t n = st_.ts.size();
    st_.columns.resize(k_);
    for (size_t j = 0; j < k_; ++j)
      if (!c.column(static_cast<size_t>(std::max(slots_[j], 0)), st_.columns[j]) ||
          st_.columns[j].size() != n)
        corrupt(start);
    st_.chunk_values.resize(n * k_);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < k_; ++j)
        st_.chunk_values[i * k_ + j] = slots_[j] < 0 ? NAN : st_.columns[j][i];
    return true;
  }

  void emit_hot(size_t h) { emit(st_.hot[h].ts, st_.hot_values.data() + st_.hot[h].at); }

  void emit(int64_t ts, const double* v) {
    if (stop_)
      return;
    if ((emitted_ & 1023) == 1023)
      check_deadline();
    ++emitted_;
    if (!f_(ts, v) || (max_polls_ >= 0 && emitted_ >= max_polls_))
      stop_ = true;
  }

  sqlite3* const db_;
  detail::scan_statements& st_;
  const std::chrono::steady_clock::time_point deadline_;
  const int64_t machine_id_;
  const std::vector<int>& slots_;
  const size_t k_;  // values per point: slots_.size()
  const int64_t from_, to_, max_polls_;
  const callback& f_;
  int64_t window_ = 0;
  std::optional<int64_t> boundary_;
  int64_t lo_ = 0, hi_ = 0;
  size_t seen_ = 0;  // hot polls looked at (the deadline is checked per 4096)
  int64_t emitted_ = 0;
  bool stop_ = false;
};

} // namespace

void detail::scan_in_transaction(sqlite3* db, scan_statements& st,
                                 std::chrono::steady_clock::time_point deadline, const head* h,
                                 const head::snapshot* snap, int64_t machine_id,
                                 const std::vector<int>& slots, int64_t from_ms, int64_t to_ms,
                                 bool forward, int64_t max_polls, const scan_callback& f) {
  if (from_ms >= to_ms)
    return;
  scan_run run(db, st, deadline, machine_id, slots, from_ms, to_ms, max_polls, f);
  run.check_deadline();
  run.read_compaction();
  run.collect_hot(h, snap);
  run.chunk_range(!forward && max_polls >= 0, snap);
  if (forward)
    run.forward();
  else
    run.backward();
}

detail::scan_layout detail::probe_scan(sqlite3* db, scan_statements& st,
                                       std::chrono::steady_clock::time_point deadline,
                                       const head* h, const head::snapshot* snap,
                                       int64_t machine_id) {
  const std::vector<int> none;
  const scan_callback nothing = [](int64_t, const double*) { return false; };
  scan_run run(db, st, deadline, machine_id, none, std::numeric_limits<int64_t>::min(),
               std::numeric_limits<int64_t>::max(), -1, nothing);
  run.check_deadline();
  scan_layout out;
  run.read_compaction();
  out.tx_boundary = run.boundary();
  run.collect_hot(h, snap);
  out.boundary = run.boundary();
  out.window_ms = run.window();
  for (const auto& p : run.hot())
    out.hot_ts.push_back(p.ts);
  {
    sqlite3_stmt* q = st.hours_from.get();
    reset_on_exit r(q);
    if (next_row(db, q, "scan: counter hours from") && sqlite3_column_type(q, 0) != SQLITE_NULL)
      out.hours_from = sqlite3_column_int64(q, 0);
  }
  sqlite3_stmt* q = st.oldest_chunk.get();
  reset_on_exit r(q);
  if (next_row(db, q, "scan: oldest chunk") && sqlite3_column_type(q, 0) != SQLITE_NULL)
    out.oldest_chunk = sqlite3_column_int64(q, 0);
  return out;
}

void reader::scan(int64_t machine_id, const std::vector<int>& slots, int64_t from_ms,
                  int64_t to_ms, bool forward, int64_t max_polls,
                  const std::function<bool(int64_t, const double*)>& f) {
  if (from_ms >= to_ms)
    return;
  statements& st = *stmts_;
  // The head first, then the transaction (see the file comment).
  std::shared_ptr<const head::snapshot> snap = head_ ? head_->load(machine_id) : nullptr;
  in_read(db_, st.begin.get(), st.commit.get(), st.rollback.get(), "scan", [&] {
    detail::scan_in_transaction(db_, st.scan, deadline_, head_.get(), snap.get(), machine_id,
                                slots, from_ms, to_ms, forward, max_polls, f);
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

} // namespace edgemes::storage
