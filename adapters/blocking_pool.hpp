// adapters/blocking_pool: a fixed set of threads for blocking polls, and the
// timer that starts them — and that also times non-blocking polls.
//
// Blocking I/O (an HTTP GET with a 2 s timeout) must never run on CAF's
// scheduler threads. Pollers submit their blocking poll here; one shared FIFO
// queue feeds `threads` workers, so a hanging machine holds one worker for at
// most its timeout and never queues other machines behind it on a fixed thread.
//
// submit_at() holds a job until it is due. One timer thread moves due jobs to
// the FIFO, and with them every job due within `coalesce` after: at 2 667
// polls/s a per-poll timer (CAF's clock thread, then a tick message, then a
// hand-off to this pool) was three thread wake-ups per poll, and each
// wake-up costs a futex call and a context switch (docs/BENCHMARKS.md).
// Coalescing starts a poll at most `coalesce` early (less when the caller
// bounds it: max_early) and wakes the timer about once per window.
//
// notify_at() is the same timer for callers that need no worker: a cheap,
// non-blocking callback (a poller's tick message) runs on the timer thread
// itself, coalesced like the jobs. Non-blocking sources used CAF's
// delayed_send, whose clock thread then woke once per poll — 18 % of all CPU
// at 200 000 polls/s in the ingest-pipeline benchmark, mostly futex calls.
//
// The queue is bounded: submit()/submit_at() refuse when `max_queue` jobs
// wait (due or not). Callbacks are not counted: they never wait for a worker,
// and each caller holds a bounded number of them (a poller at most one).
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace edgemes::adapters {

class blocking_pool {
public:
  using clock_type = std::chrono::steady_clock;

  blocking_pool(size_t threads, size_t max_queue,
                std::chrono::milliseconds coalesce = std::chrono::milliseconds(5));
  ~blocking_pool();  // stop(): waits for running jobs, drops queued ones
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  // Runs `job` as soon as a worker is free (submit_at now); false when the
  // queue is full or the pool stops.
  bool submit(std::function<void()> job) { return submit_at(clock_type::now(), std::move(job)) != 0; }

  // Runs `job` on a worker once `due` has come, or up to min(`coalesce`,
  // `max_early`) before it. Returns a ticket for cancel(), or 0 when the queue
  // is full or the pool stops.
  uint64_t submit_at(clock_type::time_point due, std::function<void()> job,
                     clock_type::duration max_early = clock_type::duration::max());

  // Calls `callback` on the timer thread once `due` has come, or up to
  // min(`coalesce`, `max_early`) before it. The callback must be quick and
  // never block (it delays every other due job and callback); what it throws
  // is ignored. Not counted against max_queue. Returns a ticket for cancel(),
  // or 0 when the pool stops.
  uint64_t notify_at(clock_type::time_point due, std::function<void()> callback,
                     clock_type::duration max_early = clock_type::duration::max());

  // Removes a job or callback the timer still holds: true when it will never
  // run, false when it already went to a worker or is being called (or never
  // existed).
  bool cancel(uint64_t ticket);

  void stop();
  size_t queued() const;     // due jobs waiting for a worker
  size_t scheduled() const;  // jobs and callbacks held until they are due
  size_t busy() const;

private:
  // A job or callback held until it is due.
  struct held {
    clock_type::time_point due;
    clock_type::duration early;  // it may start this much before due: min(coalesce, max_early)
    bool on_timer;               // a notify_at() callback, run by the timer thread
    std::function<void()> run;
  };
  uint64_t hold(clock_type::time_point due, std::function<void()> run,
                clock_type::duration max_early, bool on_timer);
  void run();
  void run_timer();
  mutable std::mutex mtx_;
  std::condition_variable cv_;        // workers: a due job is queued
  std::condition_variable timer_cv_;  // the timer: an earlier job, or stop
  std::deque<std::function<void()>> queue_;
  std::set<std::pair<clock_type::time_point, uint64_t>> order_;  // (due, ticket)
  std::unordered_map<uint64_t, held> timed_;
  size_t held_jobs_ = 0;  // entries of timed_ that are jobs (counted against max_queue)
  clock_type::time_point timer_wakes_ = clock_type::time_point::min();  // when the timer sleeps until
  uint64_t next_ticket_ = 1;
  std::vector<std::thread> threads_;
  std::thread timer_;
  size_t max_queue_;
  std::chrono::milliseconds coalesce_;
  size_t busy_ = 0;
  bool stopping_ = false;
};

} // namespace edgemes::adapters
