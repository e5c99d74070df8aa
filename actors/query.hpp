// actors/query: read-only query workers and the dispatcher in front of them.
//
// Each worker is detached (its own thread: SQLite reads block) and owns one
// storage::reader — a read-only connection that can neither write nor
// checkpoint. The dispatcher hands each read_job to an idle worker; when all
// are busy it queues up to max_pending jobs (FIFO) and answers the rest at
// once with 503 "overloaded". A job whose deadline passed while queued is
// answered 503 without running; a running job past its deadline is
// interrupted by the reader (SQLITE_INTERRUPT -> 503).
//
// Messages (query_actor): read_job -> query_reply.
#pragma once

#include "actors/messages.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <vector>

namespace edgemes::actors {

// Spawns one worker per reader and the dispatcher; returns the dispatcher.
// Exiting the dispatcher (exit message) exits the workers too.
query_actor spawn_query_pool(caf::actor_system& sys,
                             std::vector<std::unique_ptr<storage::reader>> readers,
                             size_t max_pending);

// The JSON body of an API error: {"error": {"code": ..., "message": ...}}.
query_reply error_reply(int status, const std::string& code, const std::string& message);

} // namespace edgemes::actors
