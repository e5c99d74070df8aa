// storage/rollup: the 10-second rollups of telemetry (telemetry_10s), as
// arithmetic shared by the writer, the reader and the v2 migration.
//
// A rollup row summarises the raw rows of one machine whose ts falls in one
// bucket [start, start + rollup_ms), start a multiple of rollup_ms since the
// epoch: per metric slot the count, sum, min, max and last (newest) of the
// values (storage/codec.hpp has the text form).
//
// Exactness: the reader answers /series either from raw rows or from rollup
// rows plus raw edges, and both must give the same doubles. Floating-point
// sums depend on the order of the additions, so ONE order is defined here and
// used everywhere: values are added in ts order within a 10 s bucket
// (slot_stats::add), and buckets are combined in ts order (slot_stats::merge).
// The writer rebuilds a bucket from its raw rows whenever a poll arrives out
// of ts order, so a stored rollup is always what add() over the bucket's raw
// rows in ts order gives.
//
// Timestamps are epoch ms; bucket arithmetic is exact for |ts| < 2^62.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace edgemes::storage {

constexpr int64_t rollup_ms = 10'000;  // width of a telemetry_10s bucket

// Start of the step-wide bucket holding ts: the largest multiple of step <= ts.
inline int64_t floor_to(int64_t ts, int64_t step) {
  int64_t r = ts % step;
  if (r < 0)
    r += step;
  return ts - r;
}

// The smallest multiple of step >= ts (ts < 2^62).
inline int64_t ceil_to(int64_t ts, int64_t step) {
  int64_t f = floor_to(ts, step);
  return f == ts ? ts : f + step;
}

// Aggregates of one metric's values; count 0 = no value (the other fields unset).
struct slot_stats {
  int64_t count = 0;
  double sum = 0, min = 0, max = 0, last = 0;

  // Adds one finite value, newer than every value added so far.
  void add(double v) {
    if (count == 0) {
      sum = min = max = last = v;
    } else {
      sum += v;
      if (v < min)
        min = v;
      if (max < v)
        max = v;
      last = v;
    }
    ++count;
  }
  // Adds the values of `o`, all newer than every value in this.
  void merge(const slot_stats& o) {
    if (o.count == 0)
      return;
    if (count == 0) {
      *this = o;
      return;
    }
    sum += o.sum;
    if (o.min < min)
      min = o.min;
    if (max < o.max)
      max = o.max;
    last = o.last;
    count += o.count;
  }
};

// One bucket's aggregates by metric slot (a slot past the end has no value).
using bucket_stats = std::vector<slot_stats>;

// Adds one poll's values (NaN = missing) to `acc`, growing it to their size.
inline void add_poll(bucket_stats& acc, const std::vector<double>& values) {
  if (acc.size() < values.size())
    acc.resize(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    if (std::isfinite(values[i]))  // the raw row stores NaN and infinities as null
      acc[i].add(values[i]);
}

} // namespace edgemes::storage
