// storage/reader_counters: reader::count_increases, a counter's increase over
// a range from the hour summaries (storage/counter_hours.hpp), exactly as
// count_increase (storage/counters.hpp) would compute it by reading every poll.
//
// Why a summary may stand in for the polls of an hour. Let H = [h, h + 1 h),
// B the boundary the scan uses for chunks (the head snapshot's, loaded before
// the transaction; storage/reader_scan.cpp) and B_tx the transaction's own
// (B <= B_tx). scan() sees, in H, the chunk polls of windows before B (as of
// this transaction) plus the head's polls in H. The row of H (same
// transaction) folds the chunk polls of H in windows before B_tx. So the row
// folds exactly what scan() sees in [h, X), X = min(h + 1 h, B), when
//   - h + 1 h <= B, or B == B_tx (no chunk of H in [B, B_tx) that the
//     snapshot also holds);
//   - no hot poll lies in [h, X) (a late poll not yet compacted, or one that
//     a compaction merged after the snapshot: scan() takes it once, the row
//     may lack it);
//   - h >= compaction.hours_from (retention deleted chunks of the hours
//     before it and their rows; see retention.cpp);
//   - [h, X) lies inside the part of the range being folded.
// Everything else — partial hours at the range's edges, the hot window after
// B, hours failing a rule — is read by scan_in_transaction, in the same
// transaction with the same snapshot, and the pieces are folded in ts order
// with counter_fold (the one rule). Rows are independent of each other (the
// step from one hour's last value to the next hour's first is added here), so
// the fold over pieces equals the fold over the polls.
#include "storage/counter_hours.hpp"
#include "storage/reader.hpp"
#include "storage/reader_internal.hpp"
#include "storage/rollup.hpp"

#include <algorithm>
#include <limits>
#include <map>

namespace edgemes::storage {

namespace {

using detail::in_read;

constexpr int64_t H = kCounterHourMs;

// The pieces of one count_increases() call: which hours a row covers, and
// the reads of rows and polls.
class piecewise {
public:
  piecewise(sqlite3* db, detail::scan_statements& st, sqlite3_stmt* hours,
            std::chrono::steady_clock::time_point deadline, const head* h,
            const head::snapshot* snap, int64_t machine, const std::vector<int>& slots)
      : db_(db), st_(st), hours_(hours), deadline_(deadline), head_(h), snap_(snap),
        machine_(machine), slots_(slots),
        layout_(detail::probe_scan(db, st, deadline, h, snap, machine)) {
    for (size_t i = 0; i < slots.size(); ++i)
      by_slot_.emplace(slots[i], i);
  }

  // The end X of the part [hour, X) of [lo, hi) that the row of `hour`
  // covers, or nullopt when the row may not stand in for it (file comment).
  std::optional<int64_t> row_covers(int64_t hour, int64_t lo, int64_t hi) const {
    const auto& b = layout_.boundary;
    if (!b || layout_.window_ms <= 0 || (layout_.hours_from && hour < *layout_.hours_from))
      return std::nullopt;
    if (hour > std::numeric_limits<int64_t>::max() - H)
      return std::nullopt;
    const int64_t x = std::min(hour + H, *b);
    if (x <= hour || hour < lo || x > hi)
      return std::nullopt;
    if (hour + H > *b && layout_.tx_boundary != b)
      return std::nullopt;
    auto hot = std::lower_bound(layout_.hot_ts.begin(), layout_.hot_ts.end(), hour);
    if (hot != layout_.hot_ts.end() && *hot < x)
      return std::nullopt;
    return x;
  }

  // The rows of `hour`: f(index into slots, summary) for each requested slot.
  template <class F>
  void rows(int64_t hour, F&& f) {
    detail::reset_on_exit r(hours_);
    sqlite3_bind_int64(hours_, 1, hour);
    sqlite3_bind_int64(hours_, 2, machine_);
    while (detail::next_row(db_, hours_, "counter hours")) {
      auto [first, last] = by_slot_.equal_range(sqlite3_column_int(hours_, 0));
      if (first == last)
        continue;
      const hour_summary s = detail::column_summary(hours_, 1);
      for (auto it = first; it != last; ++it)
        f(it->second, s);
    }
  }

  void scan(int64_t from, int64_t to, bool forward, const detail::scan_callback& f) {
    detail::scan_in_transaction(db_, st_, deadline_, head_, snap_, machine_, slots_, from, to,
                                forward, -1, f);
  }

  // No value of the machine lies before `t`: no chunk starts before it and
  // no hot poll (head, log) is older.
  bool nothing_before(int64_t t) const {
    return (!layout_.oldest_chunk || *layout_.oldest_chunk >= t) &&
           (layout_.hot_ts.empty() || layout_.hot_ts.front() >= t);
  }

  // Hours from `t` on that no row covers, up to `hi`: where a forward read
  // of polls starting at `t` may stop.
  int64_t scan_end(int64_t t, int64_t lo, int64_t hi) const {
    if (!layout_.boundary || t >= *layout_.boundary)
      return hi;
    int64_t e = floor_to(t, H) + H;
    while (e < hi && !row_covers(e, lo, hi))
      e += H;
    return std::min(e, hi);
  }

  // Hours below `t` that no row covers, down to `lo`: where a backward read
  // of polls ending at `t` may stop.
  int64_t scan_start(int64_t t, int64_t lo) const {
    int64_t s = floor_to(t - 1, H);
    while (s > lo && !row_covers(s - H, lo, s))
      s -= H;
    return std::max(s, lo);
  }

private:
  sqlite3* const db_;
  detail::scan_statements& st_;
  sqlite3_stmt* const hours_;
  const std::chrono::steady_clock::time_point deadline_;
  const head* const head_;
  const head::snapshot* const snap_;
  const int64_t machine_;
  const std::vector<int>& slots_;
  std::multimap<int, size_t> by_slot_;  // slot -> its indexes in slots_
  const detail::scan_layout layout_;
};

} // namespace

std::vector<counter_increase> detail::count_in_transaction(
    sqlite3* db, scan_statements& st, sqlite3_stmt* hours,
    std::chrono::steady_clock::time_point deadline, const head* h, const head::snapshot* snap,
    int64_t machine_id, const std::vector<int>& slots, int64_t from_ms, int64_t to_ms,
    int64_t lookback_ms) {
  std::vector<counter_fold> folds(slots.size());
  std::vector<counter_increase> out(slots.size());
  if (from_ms >= to_ms || slots.empty())
    return out;
  piecewise p(db, st, hours, deadline, h, snap, machine_id, slots);
  // The newest value before `from`, at most lookback_ms back, per slot.
  const int64_t back = from_ms - std::max<int64_t>(0, lookback_ms);
  const int64_t lo = back < from_ms ? back : from_ms;
  size_t missing = slots.size();
  std::vector<bool> found(slots.size(), false);
  auto take = [&](size_t i, double v) {
    if (found[i] || std::isnan(v))
      return;
    found[i] = true;
    folds[i].prev = v;
    --missing;
  };
  for (int64_t t = from_ms; t > lo && missing > 0;) {
    // Below the oldest chunk and the oldest hot poll there is no value: the
    // walk back stops there instead of seeking an empty row per hour.
    if (p.nothing_before(t))
      break;
    const int64_t hour = floor_to(t - 1, H);
    if (auto x = p.row_covers(hour, lo, t)) {
      if (*x < t)
        p.scan(*x, t, false, [&](int64_t, const double* v) {
          for (size_t i = 0; i < slots.size(); ++i)
            take(i, v[i]);
          return missing > 0;
        });
      if (missing > 0)
        p.rows(hour, [&](size_t i, const hour_summary& s) { take(i, s.last); });
      t = hour;
      continue;
    }
    const int64_t s = p.scan_start(t, lo);
    p.scan(s, t, false, [&](int64_t, const double* v) {
      for (size_t i = 0; i < slots.size(); ++i)
        take(i, v[i]);
      return missing > 0;
    });
    t = s;
  }
  for (size_t i = 0; i < slots.size(); ++i)
    out[i].has_before = found[i];

  // The range itself, oldest piece first.
  for (int64_t t = from_ms; t < to_ms;) {
    if (t == floor_to(t, H)) {
      if (auto x = p.row_covers(t, from_ms, to_ms)) {
        p.rows(t, [&](size_t i, const hour_summary& s) { folds[i].add(s); });
        t = *x;
        continue;
      }
    }
    const int64_t e = p.scan_end(t, from_ms, to_ms);
    p.scan(t, e, true, [&](int64_t ts, const double* v) {
      for (size_t i = 0; i < slots.size(); ++i)
        folds[i].add(ts, v[i]);
      return true;
    });
    t = e;
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    const bool before = out[i].has_before;
    out[i] = folds[i].result;
    out[i].has_before = before;
  }
  return out;
}

std::vector<counter_increase> reader::count_increases(int64_t machine_id,
                                                      const std::vector<int>& slots,
                                                      int64_t from_ms, int64_t to_ms,
                                                      int64_t lookback_ms) {
  if (from_ms >= to_ms || slots.empty())
    return std::vector<counter_increase>(slots.size());
  statements& st = *stmts_;
  // The head first, then the transaction (storage/reader_scan.cpp).
  std::shared_ptr<const head::snapshot> snap = head_ ? head_->load(machine_id) : nullptr;
  std::vector<counter_increase> out;
  in_read(db_, st.begin.get(), st.commit.get(), st.rollback.get(), "count increases", [&] {
    out = detail::count_in_transaction(db_, st.scan, st.hours.get(), deadline_, head_.get(),
                                       snap.get(), machine_id, slots, from_ms, to_ms, lookback_ms);
  });
  return out;
}

} // namespace edgemes::storage
