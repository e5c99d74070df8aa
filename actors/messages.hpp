// actors/messages: what the actors say to each other.
//
//   poller --poll_report--> writer          (one per poll; samples reserved in ingest_gauge)
//   main   --stop_atom----> poller          (finish the poll in flight, send it, quit; replies done)
//   main   --stop_atom----> writer          (commit all, TRUNCATE checkpoint, close; replies final stats)
//   http   --read_job-----> query dispatcher --read_job--> query worker  (replies query_reply)
//
// The message types are local-only for now (CAF_ALLOW_UNSAFE_MESSAGE_TYPE):
// pollers on other boxes will need inspect() overloads and registration.
#pragma once

#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace edgemes::actors {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

// One poll of one machine: its samples (poll.values empty when the poll
// failed or was dropped), the state it reported (if any) and its status.
struct poll_report {
  storage::poll_row poll;
  bool has_state = false;
  storage::state_row state;
  storage::status_row status;
  int64_t samples = 0;  // non-missing values in poll.values, reserved in the gauge
};

struct writer_totals {
  int64_t rows = 0;
  int64_t samples = 0;
  int64_t lost_samples = 0;  // held at stop but not committable (disk error); logged
};

// A read to run on one query worker's connection, before `deadline`.
struct query_reply {
  int status = 200;      // HTTP status
  std::string body;      // JSON
};

struct read_job {
  std::function<query_reply(storage::reader&)> run;
  std::chrono::steady_clock::time_point deadline;
};

using writer_actor = caf::typed_actor<caf::reacts_to<poll_report>,
                                      caf::reacts_to<flush_atom>,
                                      caf::replies_to<stop_atom>::with<writer_totals>>;

using query_actor = caf::typed_actor<caf::replies_to<read_job>::with<query_reply>>;

} // namespace edgemes::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::poll_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::writer_totals)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::query_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::read_job)
