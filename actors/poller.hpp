// actors/poller: one actor per machine, polling it on its own interval.
//
// Owns the machine's adapter source, which yields a reading per poll (the
// configured metrics' values in config order, a state, problems). A poll is
// stamped with the wall-clock time (epoch ms) at which it started, or the
// time the source says its values were taken. Both kinds of source are
// timed by the shared blocking_pool's one timer thread, which coalesces its
// wake-ups (a CAF delayed_send per poll woke CAF's clock thread once per
// poll). Non-blocking sources (sim) are polled inline, in the actor, on a tick
// message the pool's timer sends when the poll is due (notify_at); blocking
// ones (http_json) are handed to the pool with the time they are due
// (submit_at), run on a pool thread — never on a CAF scheduler thread — and
// report back by message. Either starts when due or up to min(the pool's 5 ms
// coalescing window, interval / 4) early. At most one poll per machine is in
// flight or held. Polls keep an absolute schedule:
// slot k starts at first + k * interval, whatever a poll took or however late
// a timer fired. A poll starts in the slot it fires in; every slot that passed
// whole without a poll starting in it (a poll that took longer than the
// interval, an overloaded box) is counted as missed — status.polls_missed and
// ingest_gauge::missed_polls() — never silently stretched.
//
// Connection status, a transition table:
//   unknown --poll ok--------------------------------> online
//   unknown --offline_after consecutive failures-----> offline
//   online  --poll ok--------------------------------> online
//   online  --offline_after consecutive failures-----> offline  (records state OFFLINE)
//   offline --poll ok--------------------------------> online   (records the reported state)
// Fewer failures than offline_after keep the current status.
//
// Retry timing after a failed poll depends on how it failed:
//   fast failure (HTTP error status, bad JSON, refused/reset connection,
//                 reply too large — anything but a timeout) -> next poll one
//                 plain interval after this one started, so a machine that
//                 comes back is seen `online` within one interval;
//   slow failure (the adapter's "timeout after N ms", or a failed poll that
//                 held its blocking-pool thread for a whole interval or more)
//                 -> the next poll waits interval * 2^(slow failures in a
//                 row - 1), capped at max(interval, max_backoff_ms): a hanging
//                 machine holds a pool thread for timeout_ms per poll, so it
//                 must not take more of the pool than the healthy ones.
// A success (or a fast failure) returns to the plain interval.
//
// Each poll's samples are reserved in the ingest gauge before being sent to
// the writer; a refused reservation drops them (counted there).
//
// Messages (poller_actor): stop_atom -> done_atom: stop polling (a poll or
// tick the pool still holds is cancelled), wait for the poll in flight
// (bounded by the source's timeout), send its report, then quit. Its tick and
// poll results are private to poller.cpp.
#pragma once

#include "actors/ingest.hpp"
#include "actors/messages.hpp"
#include "adapters/adapter.hpp"
#include "adapters/blocking_pool.hpp"
#include "config/config.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace edgemes::actors {

struct poller_settings {
  std::string ident;                 // machine id, for logs
  // Defaults from config/config.hpp, their one home (docs/CONFIG.md).
  int64_t interval_ms = config::machine_config{}.poll_interval_ms;
  int64_t max_backoff_ms = config::pollers_config{}.max_backoff_ms;
  int64_t offline_after = config::pollers_config{}.offline_after_failures;
  int64_t start_delay_ms = 0;        // spreads the first polls of many machines
};

struct poller_parts {
  poller_settings settings;
  storage::machine_binding binding;  // slots of the source's metrics, in order
  std::shared_ptr<adapters::source> source;
  writer_actor writer;
  std::shared_ptr<ingest_gauge> gauge;
  std::shared_ptr<adapters::blocking_pool> pool;
};

poller_actor spawn_poller(caf::actor_system& sys, poller_parts parts);

} // namespace edgemes::actors
