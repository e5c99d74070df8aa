// actors/messages: what the actors say to each other, and their typed faces.
//
// Every message between actors ("main" is daemon/run.cpp's start and shutdown;
// the tests and tools/bench play the same part):
//
//   from        message                 to            meaning
//   poller or   poll_report             writer        one per poll (pushed: per message
//   pushed                                            or status change); its samples are
//                                                     reserved in the ingest_gauge first
//   main        stop_atom               poller        finish the poll in flight, send
//               <- done_atom                          its report, quit
//   main        stop_atom               pushed        (after its broker is disconnected)
//               <- done_atom                          handle the mailbox, quit
//   main        stop_atom               writer        commit all, TRUNCATE checkpoint,
//               <- writer_totals                      close, quit
//   an owner    exit(user_shutdown)     writer        the same, without the reply
//   main        exit(kill)              poller        one that missed the stop deadline
//   HTTP thread read_job                query worker  query_pool::run picks the worker;
//               (query_reply)                         the reply comes back through the
//                                                     job's reply_slot, not by message
//   query_pool  exit(user_shutdown)     query worker  finish the job in hand, quit
//   HTTP thread write_job               writer        run_write sends it: one MES write
//               (query_reply)                         (storage/mes.hpp) in its own
//                                                     transaction, run between telemetry
//                                                     commits; the reply comes back
//                                                     through the job's reply_slot
//
// Private messages, in no public interface (each declared in its actor's .cpp):
//   poller      tick                    itself        timer of a non-blocking source
//   poller or   polled, poll_outcome    the poller    a poll's result (the pool thread
//   pool thread                                       that ran a blocking poll sends it)
//   writer      flush                   itself        batching and housekeeping timer
//   MQTT router mqttmsg, incoming       pushed        a message for its topic (the broker
//   (broker                                           connection's thread; bounded by
//   thread)                                           max_pending_bytes)
//   MQTT router look                    pushed        link changed or drops counted (at
//                                                     most one pending per actor)
//   pushed      stale                   itself        staleness timer
//
// Serialisation: every public message type has an inspect() overload (the
// storage rows' are in actors/storage_inspect.hpp) and is registered with
// CAF's type system by register_message_types(), so it can cross a process
// boundary (caf_io) once an actor lives on another box. read_job and
// write_job alone stay local-only, see there; so do the private poll_outcome
// (poller.cpp) and incoming (pushed.cpp).
#pragma once

#include "actors/storage_inspect.hpp"
#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
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

// main -> poller and main -> writer: stop (see each actor's header).
using stop_atom = caf::atom_constant<caf::atom("stop")>;
// poller -> main: the answer to stop_atom, sent once the poll in flight is handed in.
using done_atom = caf::atom_constant<caf::atom("done")>;

// poller -> writer: one poll of one machine: its samples (poll.values empty
// when the poll failed or was dropped), the state it reported (if any) and
// its status.
struct poll_report {
  storage::poll_row poll;
  bool has_state = false;
  storage::state_row state;
  storage::status_row status;
  int64_t samples = 0;  // non-missing values in poll.values, reserved in the gauge
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, poll_report& x) {
  return f(caf::meta::type_name("edgemes::actors::poll_report"), x.poll, x.has_state, x.state,
           x.status, x.samples);
}

// writer -> main: the answer to stop_atom, what this run committed.
struct writer_totals {
  int64_t rows = 0;
  int64_t samples = 0;
  int64_t lost_samples = 0;  // held at stop but not committable (disk error); logged
  int64_t compactions = 0;   // compact() calls that succeeded
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, writer_totals& x) {
  return f(caf::meta::type_name("edgemes::actors::writer_totals"), x.rows, x.samples,
           x.lost_samples, x.compactions);
}

// query worker -> HTTP thread, through a reply_slot: the answer to a read_job.
struct query_reply {
  int status = 200;      // HTTP status
  std::string body;      // JSON
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, query_reply& x) {
  return f(caf::meta::type_name("edgemes::actors::query_reply"), x.status, x.body);
}

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

// HTTP thread (query_pool::run) -> query worker: a read to run on the
// worker's connection, before `deadline`.
//
// Local-only by nature, so it is not serialisable: it carries code (a
// std::function closing over the request), a steady_clock deadline that means
// nothing on another box, and a reply_slot that a thread of this process
// waits on. A query runs on a reader of the box that holds the file; a remote
// front end would send its request parameters, not a read_job.
struct read_job {
  std::function<query_reply(storage::reader&)> run;
  std::chrono::steady_clock::time_point deadline;
  std::shared_ptr<reply_slot> reply_to;  // the worker delivers its reply here
};

// HTTP thread (run_write, actors/writer.hpp) -> writer: a write to run on the
// writer's connection, the only write connection, before `deadline`.
//
// The writer runs `run` between two telemetry commits inside one BEGIN
// IMMEDIATE ... COMMIT of its own (storage::writer::write_transaction): the job
// commits whole or not at all. A reply with status >= 400 (a refusal: an
// unknown product, an illegal transition) rolls the transaction back, so a
// refused job writes nothing even if it wrote before deciding. A job still in
// the mailbox at its deadline is dropped unrun; a running one is not
// interrupted (a write is short: a 10 000-line BOM takes tens of ms).
//
// Local-only like read_job, for the same reasons: code, a steady_clock
// deadline and a slot a thread of this process waits on.
struct write_job {
  std::function<query_reply(storage::writer&)> run;
  std::chrono::steady_clock::time_point deadline;
  std::shared_ptr<reply_slot> reply_to;  // the writer delivers its reply here
};

// The single writer (actors/writer). Its flush timer is not part of this face.
using writer_actor = caf::typed_actor<caf::reacts_to<poll_report>, caf::reacts_to<write_job>,
                                      caf::replies_to<stop_atom>::with<writer_totals>>;

// One poller per machine (actors/poller). Its timer and poll results are not
// part of this face.
using poller_actor = caf::typed_actor<caf::replies_to<stop_atom>::with<done_atom>>;

// One query worker (actors/query); query_pool holds them.
using query_actor = caf::typed_actor<caf::reacts_to<read_job>>;

// Registers every serialisable message type above (and the storage rows they
// carry) with `cfg`. Call it before constructing the actor_system: the daemon
// and every test or tool that spawns actors do.
void register_message_types(caf::actor_system_config& cfg);

} // namespace edgemes::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::read_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::write_job)
