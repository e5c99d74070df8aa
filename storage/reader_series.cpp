// storage/reader_series: reader::series and series_raw, the step buckets a
// chart reads, folded from scan() (see reader.hpp and storage/rollup.hpp).
#include "storage/reader.hpp"

#include "storage/rollup.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgemes::storage {

namespace {

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
