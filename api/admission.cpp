#include "api/admission.hpp"

#include <sqlite3.h>

#include <algorithm>

namespace edgemes::api {

namespace {

// The caller waits this much past the job's deadline, so that the worker's own
// verdict (dropped or interrupted at the deadline) normally arrives first.
constexpr std::chrono::milliseconds verdict_grace{250};

} // namespace

int http_threads_for(size_t query_workers, int64_t max_pending) {
  return static_cast<int>(query_workers) +
         static_cast<int>(std::min<int64_t>(std::max<int64_t>(max_pending, 0), max_queued)) +
         reserved_threads;
}

admission::admission(int http_threads)
    : max_waiting_(std::max(1, http_threads - reserved_threads)) {}

template <class Submit>
query_reply admission::admit(Submit&& submit) {
  struct waiting_slot {
    std::atomic<int>& n;
    ~waiting_slot() { --n; }
  } slot{waiting_};
  if (++waiting_ > max_waiting_)
    return refusal({actors::query_outcome::overloaded, {}, {}, 0});
  auto result = submit();
  if (result.outcome == actors::query_outcome::done)
    return std::move(result.reply);
  return refusal(result);
}

query_reply admission::run(actors::query_pool& pool,
                           std::function<query_reply(storage::reader&)> fn,
                           std::chrono::milliseconds timeout) {
  return admit([&] {
    actors::read_job job{std::move(fn), std::chrono::steady_clock::now() + timeout, nullptr};
    return pool.run(std::move(job), timeout + verdict_grace);
  });
}

query_reply admission::write(const actors::writer_actor& writer,
                             std::function<query_reply(storage::writer&)> fn,
                             std::chrono::milliseconds timeout) {
  return admit([&] {
    actors::write_job job{std::move(fn), std::chrono::steady_clock::now() + timeout, nullptr};
    return actors::run_write(writer, std::move(job), timeout + verdict_grace);
  });
}

query_reply admission::refusal(const actors::query_result& result) {
  using actors::query_outcome;
  switch (result.outcome) {
    case query_outcome::overloaded:
      return error_reply(503, "overloaded", "too many queries waiting; retry shortly");
    case query_outcome::timeout:
      return error_reply(503, "timeout",
                         "the query did not finish in time; narrow the range or retry");
    case query_outcome::stopped:
      return error_reply(503, "shutting_down", "the daemon is stopping");
    case query_outcome::storage_error:
      if ((result.code & 0xff) == SQLITE_FULL)
        return error_reply(507, "disk_full",
                           result.detail + " (the disk is full; nothing of this request was "
                                           "written: free space and retry)");
      return error_reply(500, "storage", result.detail);
    case query_outcome::internal_error:
    case query_outcome::done:  // REQUIRES excludes it; answered as a bug
      break;
  }
  return error_reply(500, "internal", result.detail);
}

} // namespace edgemes::api
