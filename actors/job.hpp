// actors/job: what became of a job handed to an actor that answers on a
// reply_slot — a read_job on a query worker (actors/query.hpp) or a write_job
// on the writer (actors/writer.hpp) — and the two halves both use: the
// worker's side runs the job and records its verdict (guarded), the caller's
// side waits for it (collect).
//
// Thread-safety: a pending_job is shared by one caller and one worker; the
// worker writes the verdict before it delivers, and the slot's lock orders
// that before the caller reads it.
#pragma once

#include "actors/messages.hpp"

#include <sqlite3.h>

#include <chrono>
#include <exception>
#include <string>

namespace edgemes::actors {

// What became of a job handed to query_pool::run or run_write.
enum class query_outcome {
  done,            // the job ran: query_result::reply is its own reply
  overloaded,      // refused at once: workers + max_pending jobs already admitted
  timeout,         // its deadline passed (queued, interrupted, or no reply within `wait`)
  stopped,         // the pool (or the writer) is stopping
  storage_error,   // the job threw storage::db_error; detail is its message, code its code
  internal_error,  // the job threw anything else; detail says what
};

struct query_result {
  query_outcome outcome = query_outcome::done;
  query_reply reply;   // the job's reply when done, empty otherwise
  std::string detail;  // storage_error, internal_error: the exception's message
  int code = 0;        // storage_error: SQLite's extended result code (SQLITE_FULL, ...)
};

namespace detail {

// One job in flight: the slot its reply comes back in, and the worker's verdict.
struct pending_job {
  reply_slot slot;
  query_outcome outcome = query_outcome::done;
  std::string detail;
  int code = 0;
};

// Runs fn() and records a throw as the verdict in `p`; never throws. A
// reader's SQLITE_INTERRUPT is its deadline passing: a timeout.
template <class Fn>
query_reply guarded(pending_job& p, Fn&& fn) {
  try {
    return fn();
  } catch (const storage::db_error& e) {
    p.outcome = e.code() == SQLITE_INTERRUPT ? query_outcome::timeout
                                             : query_outcome::storage_error;
    p.detail = e.what();
    p.code = e.code();
  } catch (const std::exception& e) {
    p.outcome = query_outcome::internal_error;
    p.detail = e.what();
  }
  return {};
}

// The caller's side: waits at most `wait` for the worker's reply and verdict.
inline query_result collect(pending_job& p, std::chrono::milliseconds wait) {
  auto reply = p.slot.wait_for(wait);
  if (!reply)
    return {query_outcome::timeout, {}, {}, 0};
  return {p.outcome, std::move(*reply), std::move(p.detail), p.code};
}

} // namespace detail

} // namespace edgemes::actors
