// storage/counters: see counters.hpp. Reads the polls of the range through
// reader::scan (the writer's head for the hot window, chunks for history), in
// one scan with the value before the range.
#include "storage/counters.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace edgemes::storage {

std::function<void()> test_hooks::count_increase_between_reads;

counter_increase count_increase(reader& db, int64_t machine_id, int slot, int64_t from_ms,
                                int64_t to_ms, int64_t lookback_ms) {
  counter_increase out;
  if (from_ms >= to_ms)
    return out;
  const std::vector<int> slots{slot};
  const int64_t back = from_ms - std::max<int64_t>(0, lookback_ms);
  // One backward scan over [lookback, to): the range's polls (newest first)
  // down to the newest value before `from`, all from one head snapshot and
  // one read transaction (header comment).
  std::vector<std::pair<int64_t, double>> polls;
  double prev = std::numeric_limits<double>::quiet_NaN();
  db.scan(machine_id, slots, back < from_ms ? back : from_ms, to_ms, false, -1,
          [&](int64_t ts, const double* v) {
            if (std::isnan(v[0]))
              return true;
            if (ts >= from_ms) {
              polls.emplace_back(ts, v[0]);
              return true;
            }
            prev = v[0];
            return false;  // the newest value before `from` is enough
          });
  out.has_before = !std::isnan(prev);
  if (test_hooks::count_increase_between_reads)
    test_hooks::count_increase_between_reads();
  for (auto it = polls.rbegin(); it != polls.rend(); ++it) {
    const auto [ts, x] = *it;
    if (out.values++ == 0)
      out.first_ts = ts;
    out.last_ts = ts;
    if (!std::isnan(prev)) {
      if (x >= prev)
        out.increase += x - prev;
      else
        ++out.resets;
    }
    prev = x;
  }
  return out;
}

} // namespace edgemes::storage
