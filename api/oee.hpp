// api/oee: availability, performance and quality (OEE) of machines and lines
// over a time range — the arithmetic (docs/MES.md, "OEE"), its inputs read
// through a query worker's reader, and the JSON replies (docs/API.md, "OEE").
//
// Inputs of one machine over [from, to): the time in each SEMI E10 class
// from its state changes (reader::states, classified by config::e10_class;
// OFFLINE and unmapped texts kept apart, time before the first known state
// as `no_state`), and the increase of its oee counters (total, good or
// reject) from the hour summaries (reader::count_increases: index seeks, not
// a scan). Then
//   planned      = total time - NST - SDT - no_state   (OFFLINE and
//                  unmapped stay in it: time the machine was meant to produce
//                  and did not, reported as such; before its first state
//                  edgemes was not watching, so that time is neither)
//   availability = PRD / planned
//   performance  = ideal_cycle_s x total count / PRD, capped at 1 (flagged)
//   quality      = good / total   (good = total - reject with `reject`)
//   oee          = availability x performance x quality
// A factor whose inputs are missing is null with the reason; OEE then too.
//
// The endpoint functions run on a query worker (inside a read_job);
// parameters arrive validated. A line's or the floor's machines are read in
// groups, one short read transaction per group (reader::read_machines); a
// single machine in read transactions of its own.
// Thread-safety: compute() is pure; the rest uses the caller's reader.
#pragma once

#include "actors/messages.hpp"
#include "api/params.hpp"
#include "api/shifts.hpp"
#include "config/config.hpp"
#include "storage/reader.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgemes::api::oee {

using actors::query_reply;

// One counter's part in the arithmetic.
struct counter_input {
  std::string metric;
  storage::counter_increase counted;
};

// What the arithmetic starts from.
struct inputs {
  int64_t total_ms = 0;                    // the range, up to now
  std::map<std::string, int64_t> class_ms; // E10 class, OFFLINE, unmapped, no_state -> ms
  std::map<std::string, int64_t> unmapped; // unmapped state text -> ms
  double ideal_cycle_s = 0;                // 0 = not configured
  std::optional<counter_input> total, good, reject;
  std::map<std::string, std::string> missing;  // factor -> why its input is missing
};

struct result {
  int64_t planned_ms = 0;
  std::optional<double> availability, performance, quality, oee;
  std::optional<double> performance_raw;   // before the cap
  bool performance_capped = false;         // the raw value was above 1
  std::optional<double> good_count;        // good units (total - reject with `reject`)
  std::map<std::string, std::string> null_reasons;  // factor -> why it is null
};

// The formulas of the file comment.
result compute(const inputs& in);

// A range's bucket for the series.
enum class step { hour, shift };

// GET /machines/{id}/oee, /lines/{id}/oee, /oee (every configured machine,
// or one line's), and the series of the first two (one point per hour or
// shift of the range, each the reply of its bucket). 404 for an unknown
// machine or line.
query_reply machine(storage::reader& db, const config::config& plant, const std::string& ident,
                    time_range range, int64_t now_ms);
query_reply line(storage::reader& db, const config::config& plant, const std::string& line,
                 time_range range, int64_t now_ms);
query_reply floor(storage::reader& db, const config::config& plant,
                  const std::optional<std::string>& line, time_range range, int64_t now_ms);
query_reply machine_series(storage::reader& db, const config::config& plant,
                           const std::string& ident, time_range range, step s, int64_t now_ms);
query_reply line_series(storage::reader& db, const config::config& plant, const std::string& line,
                        time_range range, step s, int64_t now_ms);

// The buckets of a series over `range`: hours aligned to the epoch, or the
// site's shifts (api/shifts.hpp), each clipped to the range.
std::vector<shift_window> buckets(const config::config& plant, time_range range, step s);

} // namespace edgemes::api::oee
