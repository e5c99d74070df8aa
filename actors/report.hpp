// actors/report: a reading turned into the writer's rows, shared by the two
// kinds of machine actor (actors/poller for polled sources, actors/pushed for
// pushed ones) so both hand the writer the same report for the same reading.
#pragma once

#include "actors/ingest.hpp"
#include "actors/messages.hpp"
#include "adapters/adapter.hpp"

#include <caf/send.hpp>

#include <cmath>
#include <limits>

namespace edgemes::actors {

// A successful reading at `ts_ms` in the machine's status: online, one more
// ok poll, its problems counted, last_error = the newest problem, else cleared
// (a machine that was offline loses its old error). Returns whether the
// machine was offline before.
inline bool record_ok(storage::status_row& status, int64_t ts_ms, const adapters::reading& reading) {
  const bool came_back = status.status == "offline";
  ++status.polls_ok;
  status.last_ok_ms = ts_ms;
  status.status = "online";
  status.poll_problems += static_cast<int64_t>(reading.problems.size());
  if (!reading.problems.empty())
    status.last_error = reading.problems.back();
  else if (came_back || !status.last_error.empty())
    status.last_error.clear();
  return came_back;
}

// Puts a successful reading taken at `ts_ms` into `r`: each value in its
// metric's slot (`value_slots` wide; no values at all when every one is
// missing), r.samples the values present, and the state the machine reported.
inline void put_reading(poll_report& r, const storage::machine_binding& binding, int value_slots,
                        int64_t ts_ms, const adapters::reading& reading) {
  r.poll.machine_id = binding.machine_id;
  r.poll.ts_ms = ts_ms;
  r.poll.values.assign(static_cast<size_t>(value_slots), std::numeric_limits<double>::quiet_NaN());
  r.samples = 0;
  for (size_t i = 0; i < reading.values.size() && i < binding.slots.size(); ++i) {
    if (!std::isnan(reading.values[i])) {
      r.poll.values[static_cast<size_t>(binding.slots[i])] = reading.values[i];
      ++r.samples;
    }
  }
  if (r.samples == 0)
    r.poll.values.clear();
  if (reading.state) {
    r.has_state = true;
    r.state = {binding.machine_id, ts_ms, *reading.state};
  }
}

// Reserves the report's samples in the gauge, then sends it; a refused
// reservation drops it (the gauge counts it). Returns whether it was sent.
inline bool send_report(ingest_gauge& gauge, const writer_actor& writer, poll_report&& r) {
  if (!gauge.try_reserve(r.samples))
    return false;
  // Encoded here, on the sender's thread, not on the one writer thread.
  if (!r.poll.values.empty())
    storage::encode_record(r.poll);
  caf::anon_send(writer, std::move(r));
  return true;
}

} // namespace edgemes::actors
