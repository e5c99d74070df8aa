// api/shifts: which shift is in force at a moment, in the box's local time.
//
// A shift starts at its configured local time of day (config::shift_config)
// and runs until the next shift starts, so the shifts of a site always tile
// the day without gaps. Local time comes from the process's time zone (TZ or
// /etc/localtime) through localtime_r/mktime, so on the days clocks change a
// shift that spans the change is an hour shorter (spring) or longer (autumn).
// A start that falls into the skipped spring hour begins when the clock reads
// that time plus one hour (mktime's normalisation, e.g. 02:30 -> 03:30); a
// start in the repeated autumn hour begins at its first occurrence. When a jump
// moves two starts onto the same instant, the shift later in the day wins and
// the other is empty (skipped) that day.
//
// Thread-safety: reentrant (localtime_r, mktime; TZ must not change while running).
#pragma once

#include "config/config.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace edgemes::api {

struct shift_window {
  std::string name;
  int64_t from_ms = 0;  // local start of the shift, epoch ms
  int64_t to_ms = 0;    // start of the next shift, epoch ms (exclusive)
};

// The shift in force at `at_ms`: from_ms <= at_ms < to_ms.
// REQUIRES: `shifts` non-empty with distinct start minutes (as config validates).
shift_window shift_at(const std::vector<config::shift_config>& shifts, int64_t at_ms);

} // namespace edgemes::api
