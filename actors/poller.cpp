#include "actors/poller.hpp"
#include "actors/report.hpp"

#include "log/log.hpp"

#include "clock/clock.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace edgemes::actors {

namespace {

// The poller's private messages: its tick (non-blocking sources), sent by the
// blocking_pool's timer thread when the next poll is due, and the result of a
// blocking poll, sent by the pool thread that ran it (or by the poller itself
// when the pool refused the poll). Neither is in the public poller_actor.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using poll_atom = caf::atom_constant<caf::atom("polled")>;

struct poll_outcome {
  int64_t ts_ms = 0;
  int64_t took_ms = 0;  // time the poll held its thread
  std::chrono::steady_clock::time_point started;
  adapters::reading reading;
};

// The interface the poller is spawned with; spawn_poller hands out only its
// public part.
using poller_impl_actor = poller_actor::extend<caf::reacts_to<tick_atom>,
                                               caf::reacts_to<poll_atom, poll_outcome>>;

} // namespace
} // namespace edgemes::actors

// Local-only: it never leaves this process (a poller and the pool thread
// working for it), and its steady_clock time point means nothing elsewhere.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::poll_outcome)

namespace edgemes::actors {

namespace {

using clock::wall_ms;

// `ts`: the wall clock when the poll started, its stamp unless the source
// says when its values were taken.
poll_outcome run_poll(adapters::source& src, int64_t ts) {
  poll_outcome out;
  auto t0 = std::chrono::steady_clock::now();
  out.started = t0;
  out.reading = src.poll();
  out.took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - t0).count();
  out.ts_ms = out.reading.taken_ms != 0 ? out.reading.taken_ms : ts;
  return out;
}

// A timeout (adapters promise the text "timeout after N ms") or any failure
// that held its thread a whole interval: retrying it at full rate would let
// one hanging machine occupy the blocking pool.
bool is_slow_failure(const poll_outcome& o, int64_t interval_ms) {
  return o.reading.error.rfind("timeout", 0) == 0 || o.took_ms >= interval_ms;
}

struct poller_state {
  poller_parts parts;
  storage::status_row status;
  int64_t failures = 0;             // consecutive
  int64_t slow_failures = 0;        // consecutive timeouts/hangs: only these back off
  int64_t last_stamp_ms = std::numeric_limits<int64_t>::min();  // ts of the previous poll
  bool in_flight = false;           // a blocking poll runs, or is held by the pool until due
  uint64_t ticket = 0;              // the blocking_pool ticket of the held poll or tick, or 0
  bool stopping = false;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point due;  // start of the current schedule slot
  caf::typed_response_promise<done_atom> stop_promise;
  int value_slots = 0;              // size of a poll_row's values

  // Called when a tick fires: the slot the poll starting now belongs to. Slots
  // that passed whole without a poll starting in them are counted as missed.
  void take_slot(std::chrono::steady_clock::time_point now) {
    const auto interval = std::chrono::milliseconds(parts.settings.interval_ms);
    if (now < due + interval)
      return;
    auto late = (now - due) / interval;  // >= 1 whole slots passed
    due += late * interval;
    status.polls_missed += late;
    parts.gauge->record_missed(late);
  }

  // After a poll: the next slot is one interval after this one (an absolute
  // schedule, so a late timer or a slow poll does not shift every later poll),
  // or, while a hanging machine backs off, interval * 2^(n-1) after this poll
  // started — slots skipped on purpose are not counted as missed.
  void advance_due() {
    const auto& s = parts.settings;
    if (slow_failures > 0) {
      int64_t cap = std::max(s.interval_ms, s.max_backoff_ms);
      int shift = static_cast<int>(std::min<int64_t>(slow_failures - 1, 20));
      due = started + std::chrono::milliseconds(std::min(cap, s.interval_ms << shift));
    } else {
      due += std::chrono::milliseconds(s.interval_ms);
    }
  }

  // How early the pool's timer may start a poll (it coalesces its wake-ups
  // over up to 5 ms): at most a quarter of the interval, so that at short
  // intervals an early poll stays apart from a late one before it rather than
  // following it back to back (their stamps differ anyway, see stamp()).
  std::chrono::steady_clock::duration max_early() const {
    return std::chrono::milliseconds(parts.settings.interval_ms) / 4;
  }

  // A poll's stamp: the wall clock when it started, but strictly after the
  // previous poll's. Two polls of a machine in one millisecond (a late poll
  // started as the one before it ended) are two readings; the key (machine,
  // ts) would store the second as a duplicate, so it is moved 1 ms on. A
  // clock stepped back by more than max_stamp_shift_ms keeps its own time.
  static constexpr int64_t max_stamp_shift_ms = 10;
  void stamp(poll_outcome& o) {
    if (o.ts_ms <= last_stamp_ms && o.ts_ms >= last_stamp_ms - max_stamp_shift_ms)
      o.ts_ms = last_stamp_ms + 1;
    last_stamp_ms = o.ts_ms;
  }

  // Turns an outcome into one report for the writer and updates the status.
  void handle(poll_outcome& o) {
    const auto& s = parts.settings;
    stamp(o);
    poll_report r;
    status.last_poll_ms = o.ts_ms;
    const auto& reading = o.reading;
    if (reading.ok) {
      failures = 0;
      slow_failures = 0;
      record_ok(status, o.ts_ms, reading);
      put_reading(r, parts.binding, value_slots, o.ts_ms, reading);
    } else {
      ++failures;
      if (is_slow_failure(o, s.interval_ms))
        ++slow_failures;
      else
        slow_failures = 0;
      ++status.polls_failed;
      status.last_error = reading.error;
      if (failures == s.offline_after) {
        if (status.status != "offline")
          log::warn("poller", s.ident + " is offline after " + std::to_string(failures) +
                                  " failed polls: " + reading.error);
        status.status = "offline";
        r.has_state = true;
        r.state = {parts.binding.machine_id, o.ts_ms, "OFFLINE"};
      }
    }
    r.status = status;
    send_report(*parts.gauge, parts.writer, std::move(r));  // a refusal is counted by the gauge
  }
};

using poller_self = poller_impl_actor::stateful_pointer<poller_state>;

// A blocking source's next poll, held by the pool until st.due (its timer
// replaces a CAF timer and tick message per poll). The pool thread runs the
// poll and sends the outcome; a full pool queue fails this poll at once.
void schedule_blocking(poller_self self) {
  auto& st = self->state;
  st.in_flight = true;
  poller_impl_actor me = self;
  auto src = st.parts.source;
  st.ticket = st.parts.pool->submit_at(
      st.due,
      [me, src] { caf::anon_send(me, poll_atom::value, run_poll(*src, wall_ms())); },
      st.max_early());
  if (st.ticket == 0) {
    poll_outcome o;
    o.ts_ms = wall_ms();
    o.started = std::chrono::steady_clock::now();
    o.reading.error = "poll not started: all HTTP poll workers busy and their queue full";
    self->send(self, poll_atom::value, std::move(o));
  }
}

// A non-blocking source's next tick, sent by the pool's timer thread at st.due
// (CAF's delayed_send woke CAF's clock thread once per poll; the pool's timer
// wakes once per coalescing window for all pollers). Only a stopping pool
// refuses a tick; CAF's timer then sends it, so the poller keeps polling until
// it is stopped itself.
void schedule_tick(poller_self self) {
  auto& st = self->state;
  poller_impl_actor me = self;
  st.ticket = st.parts.pool->notify_at(
      st.due, [me] { caf::anon_send(me, tick_atom::value); }, st.max_early());
  if (st.ticket == 0) {
    auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
        st.due - std::chrono::steady_clock::now());
    self->delayed_send(self, std::max(std::chrono::milliseconds(0), delay), tick_atom::value);
  }
}

poller_impl_actor::behavior_type poller_impl(poller_self self,
                                             std::shared_ptr<poller_parts> init) {
  auto& st = self->state;
  st.parts = std::move(*init);
  st.status.machine_id = st.parts.binding.machine_id;
  st.status.status = "unknown";
  for (int slot : st.parts.binding.slots)
    st.value_slots = std::max(st.value_slots, slot + 1);
  st.due = std::chrono::steady_clock::now() +
           std::chrono::milliseconds(st.parts.settings.start_delay_ms);
  if (st.parts.source->blocking())
    schedule_blocking(self);
  else
    schedule_tick(self);
  auto finish_stop = [self] {
    if (self->state.stop_promise.pending())
      self->state.stop_promise.deliver(done_atom::value);
    self->quit();
  };
  return {
    [self](tick_atom) {  // non-blocking sources: the poll runs here, in one message
      auto& st = self->state;
      st.ticket = 0;
      if (st.stopping)
        return;
      st.started = std::chrono::steady_clock::now();
      st.take_slot(st.started);
      auto outcome = run_poll(*st.parts.source, wall_ms());
      st.handle(outcome);
      st.advance_due();
      schedule_tick(self);
    },
    [self, finish_stop](poll_atom, poll_outcome& o) {  // blocking sources
      auto& st = self->state;
      st.in_flight = false;
      st.ticket = 0;
      // Held by the pool until due: the slot is taken when the poll started.
      st.started = o.started;
      st.take_slot(o.started);
      st.handle(o);
      if (st.stopping) {
        finish_stop();
        return;
      }
      st.advance_due();
      schedule_blocking(self);
    },
    [self, finish_stop](stop_atom) -> caf::result<done_atom> {
      auto& st = self->state;
      st.stopping = true;
      // A held tick or blocking poll never starts once cancelled. A tick the
      // timer is already sending finds the poller gone; a blocking poll that
      // started is waited for.
      if (st.ticket != 0 && st.parts.pool->cancel(st.ticket)) {
        st.in_flight = false;
        st.ticket = 0;
      }
      if (!st.in_flight) {
        self->quit();
        return done_atom::value;
      }
      st.stop_promise = self->make_response_promise<done_atom>();
      return st.stop_promise;
    },
  };
}

} // namespace

poller_actor spawn_poller(caf::actor_system& sys, poller_parts parts) {
  poller_impl_actor self = sys.spawn(poller_impl, std::make_shared<poller_parts>(std::move(parts)));
  return self;  // the public face: tick and polled are not in it
}

} // namespace edgemes::actors
