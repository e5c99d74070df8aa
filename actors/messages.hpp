// actors/messages: what the actors say to each other.
//
//   poller --poll_report--> writer          (one per poll; samples reserved in ingest_gauge)
//   main   --stop_atom----> poller          (finish the poll in flight, send it, quit; replies done)
//   main   --stop_atom----> writer          (commit all, TRUNCATE checkpoint, close; replies final stats)
//   http   --read_job-----> query worker   (query_pool picks the worker; the reply goes to
//                                            the job's reply_slot)
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
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
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
  int64_t compactions = 0;   // compact() calls that succeeded
};

// A read to run on one query worker's connection, before `deadline`.
struct query_reply {
  int status = 200;      // HTTP status
  std::string body;      // JSON
};

// Where a query worker puts its reply for a caller that waits on a plain
// thread (an HTTP thread): a one-shot slot, shared by both sides, so a caller
// that gave up waiting leaves nothing dangling. No CAF response message, no
// scoped_actor and no request timer per query (each was a thread wake-up).
class reply_slot {
public:
  void deliver(query_reply r) {
    {
      std::lock_guard<std::mutex> lock(mtx_);
      reply_ = std::move(r);
      done_ = true;
    }
    cv_.notify_one();
  }
  // The reply, or nothing when none came within `wait`.
  std::optional<query_reply> wait_for(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mtx_);
    if (!cv_.wait_for(lock, wait, [this] { return done_; }))
      return std::nullopt;
    return std::move(reply_);
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool done_ = false;
  query_reply reply_;
};

struct read_job {
  std::function<query_reply(storage::reader&)> run;
  std::chrono::steady_clock::time_point deadline;
  std::shared_ptr<reply_slot> reply_to;  // the worker delivers its reply here
};

using writer_actor = caf::typed_actor<caf::reacts_to<poll_report>,
                                      caf::reacts_to<flush_atom>,
                                      caf::replies_to<stop_atom>::with<writer_totals>>;

using query_actor = caf::typed_actor<caf::reacts_to<read_job>>;

} // namespace edgemes::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::poll_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::writer_totals)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::query_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::read_job)
