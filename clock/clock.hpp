// clock: the wall clock as edgemes stamps it — integer epoch milliseconds.
// Every timestamp in the file and the API is one of these. One seam, so a
// later test can swap the clock without touching its callers.
#pragma once

#include <chrono>
#include <cstdint>

namespace edgemes::clock {

inline int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace edgemes::clock
