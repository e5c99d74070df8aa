// storage/counters: see counters.hpp. Reads the polls of the range through
// reader::scan (the writer's head for the hot window, chunks for history).
#include "storage/counters.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgemes::storage {

counter_increase count_increase(reader& db, int64_t machine_id, int slot, int64_t from_ms,
                                int64_t to_ms, int64_t lookback_ms) {
  counter_increase out;
  if (from_ms >= to_ms)
    return out;
  const std::vector<int> slots{slot};
  double prev = std::numeric_limits<double>::quiet_NaN();
  const int64_t back = from_ms - std::max<int64_t>(0, lookback_ms);
  db.scan(machine_id, slots, back < from_ms ? back : from_ms, from_ms, false, -1,
          [&](int64_t, const double* v) {
            if (std::isnan(v[0]))
              return true;
            prev = v[0];
            return false;  // the newest value before `from` is enough
          });
  out.has_before = !std::isnan(prev);
  db.scan(machine_id, slots, from_ms, to_ms, true, -1, [&](int64_t ts, const double* v) {
    const double x = v[0];
    if (std::isnan(x))
      return true;
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
    return true;
  });
  return out;
}

} // namespace edgemes::storage
