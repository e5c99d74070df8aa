// api/admission: which API requests may wait for a query, and what the
// others are told. The one place the API's overload policy lives.
//
// The rule. A request that needs a query waits for it on its own HTTP thread.
// The HTTP pool has
//
//     http_threads = query_workers + min(max_pending, max_queued) + reserved_threads
//
// threads (http_threads_for), and at most http_threads - reserved_threads
// requests may wait for a query at once; one more is answered 503
// "overloaded" at once. So the reserved threads never wait: /health (which
// needs no query) and every 4xx answer stay fast under any query load. An
// admitted request waits at most request_timeout_ms (plus a short grace for
// the worker's own verdict) and then gets 503 "timeout".
//
// Behind the rule the query pool keeps its own bound, workers + max_pending
// jobs (actors/query.hpp). The rule admits no more than that, so the pool
// refuses only jobs whose callers gave up (timed out) and left them queued
// until a worker drops them; it answers the same 503 "overloaded".
//
// Each reason has one reply (refusal):
//   overloaded      503 overloaded      too many queries waiting; retry shortly
//   timeout         503 timeout         the query did not finish in time; narrow the range or retry
//   stopped         503 shutting_down   the daemon is stopping
//   storage_error   500 storage         the database's message
//                   507 disk_full       the same, when SQLite's code is SQLITE_FULL
//   internal_error  500 internal        the exception's message
//
// Writes (the MES layer's, actors/writer.hpp run_write) wait on an HTTP thread
// too, so they count against the same rule; they wait for the one writer
// instead of a worker, behind at most its commit in progress.
//
// Thread-safe: one per server, used by every HTTP thread.
#pragma once

#include "actors/query.hpp"
#include "actors/writer.hpp"
#include "api/errors.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

namespace edgemes::api {

// Threads of the HTTP pool that never wait for a query.
constexpr int reserved_threads = 2;
// Queued queries that each hold an HTTP thread: max_pending above this adds no threads.
constexpr int64_t max_queued = 62;

// The HTTP threads for `query_workers` workers and api.max_pending (the rule above).
int http_threads_for(size_t query_workers, int64_t max_pending);

class admission {
public:
  // `http_threads` is the HTTP pool's size; at least one request may always wait.
  explicit admission(int http_threads);
  admission(const admission&) = delete;
  admission& operator=(const admission&) = delete;

  // Requests that may wait for a query at once.
  int max_waiting() const { return max_waiting_; }

  // Runs `fn` on a worker of `pool` if the rule admits it, waiting at most
  // `timeout`; returns the query's own reply or the refusal for its outcome.
  query_reply run(actors::query_pool& pool, std::function<query_reply(storage::reader&)> fn,
                  std::chrono::milliseconds timeout);

  // Runs `fn` as a write job on `writer` (one transaction, actors/messages.hpp
  // write_job) if the rule admits it, waiting at most `timeout`; returns the
  // job's own reply or the refusal for its outcome.
  query_reply write(const actors::writer_actor& writer,
                    std::function<query_reply(storage::writer&)> fn,
                    std::chrono::milliseconds timeout);

  // The reply for a job that did not run to its own reply (outcome != done).
  static query_reply refusal(const actors::query_result& result);

private:
  // Holds a waiting place while `submit` runs; the refusal when none is free.
  template <class Submit>
  query_reply admit(Submit&& submit);

  const int max_waiting_;
  std::atomic<int> waiting_{0};  // requests waiting for a query now
};

} // namespace edgemes::api
