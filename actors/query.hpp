// actors/query: read-only query workers and the pool that feeds them.
//
// Each worker is detached (its own thread: SQLite reads block) and owns one
// storage::reader — a read-only connection that can neither write nor
// checkpoint. query_pool::run sends a read_job straight to the least busy
// worker from the caller's thread and waits on the job's reply_slot for the
// worker's reply: two thread hand-offs per request (caller -> worker ->
// caller). An earlier dispatcher actor in between, a scoped_actor per request
// and its request timer on CAF's clock thread cost four more wake-ups, and on
// this 2-core box every wake-up is a futex call and a context switch
// (docs/BENCHMARKS.md, "API under ingest").
//
// The pool's bound: at most workers + max_pending jobs are admitted at once
// (running or waiting in a worker's mailbox, counted until the worker is done
// with the job even when its caller stopped waiting); past it run() refuses at
// once. A job whose deadline passed while it waited is dropped without
// running; a running job past its deadline is interrupted by the reader
// (SQLITE_INTERRUPT). Who may ask at all, and what a refused caller is told,
// is the API's admission (api/admission.hpp): the pool reports outcomes only.
//
// Messages (query_actor, one per worker): read_job (reply to its reply_slot).
#pragma once

#include "actors/job.hpp"
#include "actors/messages.hpp"

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace edgemes::actors {

class query_pool {
public:
  query_pool(caf::actor_system& sys, std::vector<std::unique_ptr<storage::reader>> readers,
             size_t max_pending);
  ~query_pool();  // stop()
  query_pool(const query_pool&) = delete;
  query_pool& operator=(const query_pool&) = delete;

  // Runs `job` on a worker and waits at most `wait` for it. Thread-safe;
  // blocks the calling thread, so never call it from a CAF scheduler thread.
  query_result run(read_job job, std::chrono::milliseconds wait);

  // Exits the workers (each finishes the job it runs); run() reports stopped after.
  void stop();

  size_t workers() const { return workers_.size(); }

private:
  struct worker {
    query_actor handle;
    std::shared_ptr<std::atomic<int>> load;  // jobs admitted to it and not finished
  };
  worker& least_busy();

  std::vector<worker> workers_;
  std::shared_ptr<std::atomic<size_t>> admitted_;  // over all workers
  size_t limit_;
  std::atomic<bool> stopped_{false};
};

} // namespace edgemes::actors
