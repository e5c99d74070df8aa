#include "actors/query.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <deque>

namespace edgemes::actors {

query_reply error_reply(int status, const std::string& code, const std::string& message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  // Names echoed from a request or a machine may be invalid UTF-8: replace, never throw.
  return {status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

namespace {

query_reply deadline_reply() {
  return error_reply(503, "timeout",
                     "the query did not finish in time; narrow the range or retry");
}

bool expired(const read_job& job) {
  return std::chrono::steady_clock::now() >= job.deadline;
}

struct worker_state {
  std::shared_ptr<storage::reader> db;  // sole owner: closed when the worker ends
};

query_actor::behavior_type worker_impl(query_actor::stateful_pointer<worker_state> self,
                                       std::shared_ptr<storage::reader> db) {
  self->state.db = std::move(db);
  self->set_exit_handler([self](caf::exit_msg& msg) { self->quit(msg.reason); });
  return {
    [self](read_job& job) -> query_reply {
      if (expired(job))
        return deadline_reply();
      auto& db = *self->state.db;
      db.set_deadline(job.deadline);
      try {
        auto reply = job.run(db);
        db.set_deadline(std::chrono::steady_clock::time_point::max());
        return reply;
      } catch (const storage::db_error& e) {
        db.set_deadline(std::chrono::steady_clock::time_point::max());
        if (e.code() == SQLITE_INTERRUPT)
          return deadline_reply();
        return error_reply(500, "storage", e.what());
      } catch (const std::exception& e) {
        db.set_deadline(std::chrono::steady_clock::time_point::max());
        return error_reply(500, "internal", e.what());
      }
    },
  };
}

struct queued_job {
  read_job job;
  caf::typed_response_promise<query_reply> promise;
};

struct dispatcher_state {
  std::vector<query_actor> workers;
  std::vector<query_actor> idle;
  std::deque<queued_job> queue;
  size_t max_pending = 0;
};

using dispatcher_pointer = query_actor::stateful_pointer<dispatcher_state>;

void run_on(dispatcher_pointer self, query_actor worker, read_job job,
            caf::typed_response_promise<query_reply> promise);

// A worker finished: give it the oldest queued job still worth running.
void release(dispatcher_pointer self, query_actor worker) {
  auto& q = self->state.queue;
  while (!q.empty()) {
    auto next = std::move(q.front());
    q.pop_front();
    if (expired(next.job)) {
      next.promise.deliver(deadline_reply());
      continue;
    }
    run_on(self, worker, std::move(next.job), std::move(next.promise));
    return;
  }
  self->state.idle.push_back(worker);
}

void run_on(dispatcher_pointer self, query_actor worker, read_job job,
            caf::typed_response_promise<query_reply> promise) {
  self->request(worker, caf::infinite, std::move(job))
      .then(
          [self, worker, promise](query_reply& reply) mutable {
            promise.deliver(std::move(reply));
            release(self, worker);
          },
          [self, worker, promise](caf::error& err) mutable {
            promise.deliver(error_reply(500, "internal",
                                        "query worker failed: " + caf::to_string(err)));
            release(self, worker);
          });
}

query_actor::behavior_type dispatcher_impl(dispatcher_pointer self,
                                           std::vector<query_actor> workers,
                                           size_t max_pending) {
  auto& st = self->state;
  st.workers = workers;
  st.idle = workers;
  st.max_pending = max_pending;
  for (auto& w : workers)
    self->link_to(w);
  return {
    [self](read_job& job) -> caf::result<query_reply> {
      auto& st = self->state;
      if (st.idle.empty() && st.queue.size() >= st.max_pending)
        return error_reply(503, "overloaded",
                           "too many queries waiting (" + std::to_string(st.max_pending) +
                               "); retry shortly");
      auto promise = self->make_response_promise<query_reply>();
      if (!st.idle.empty()) {
        auto worker = st.idle.back();
        st.idle.pop_back();
        run_on(self, worker, std::move(job), promise);
      } else {
        st.queue.push_back({std::move(job), promise});
      }
      return promise;
    },
  };
}

} // namespace

query_actor spawn_query_pool(caf::actor_system& sys,
                             std::vector<std::unique_ptr<storage::reader>> readers,
                             size_t max_pending) {
  std::vector<query_actor> workers;
  for (auto& r : readers)
    workers.push_back(sys.spawn<caf::detached>(worker_impl,
                                               std::shared_ptr<storage::reader>(std::move(r))));
  return sys.spawn(dispatcher_impl, std::move(workers), max_pending);
}

} // namespace edgemes::actors
