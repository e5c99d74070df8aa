#include "actors/query.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

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

struct worker_state {
  std::shared_ptr<storage::reader> db;  // sole owner: closed when the worker ends
  std::shared_ptr<std::atomic<int>> load;
  std::shared_ptr<std::atomic<size_t>> admitted;
};

// Runs one job on the worker's connection; never throws.
query_reply run_job(storage::reader& db, read_job& job) {
  if (std::chrono::steady_clock::now() >= job.deadline)
    return deadline_reply();  // waited too long in the mailbox
  struct clear_deadline {
    storage::reader& db;
    ~clear_deadline() { db.set_deadline(std::chrono::steady_clock::time_point::max()); }
  } guard{db};
  db.set_deadline(job.deadline);
  try {
    return job.run(db);
  } catch (const storage::db_error& e) {
    if (e.code() == SQLITE_INTERRUPT)
      return deadline_reply();
    return error_reply(500, "storage", e.what());
  } catch (const std::exception& e) {
    return error_reply(500, "internal", e.what());
  }
}

query_actor::behavior_type worker_impl(query_actor::stateful_pointer<worker_state> self,
                                       std::shared_ptr<storage::reader> db,
                                       std::shared_ptr<std::atomic<int>> load,
                                       std::shared_ptr<std::atomic<size_t>> admitted) {
  self->state.db = std::move(db);
  self->state.load = std::move(load);
  self->state.admitted = std::move(admitted);
  self->set_exit_handler([self](caf::exit_msg& msg) { self->quit(msg.reason); });
  return {
    [self](read_job& job) {
      auto reply = run_job(*self->state.db, job);
      // Released here, not by the caller: a caller that gave up waiting must
      // not free the slot of a job that still runs or waits.
      --*self->state.load;
      --*self->state.admitted;
      if (job.reply_to)
        job.reply_to->deliver(std::move(reply));
    },
  };
}

} // namespace

query_pool::query_pool(caf::actor_system& sys,
                       std::vector<std::unique_ptr<storage::reader>> readers,
                       size_t max_pending)
    : admitted_(std::make_shared<std::atomic<size_t>>(0)),
      limit_(readers.size() + max_pending) {
  for (auto& r : readers) {
    auto load = std::make_shared<std::atomic<int>>(0);
    auto handle = sys.spawn<caf::detached>(
        worker_impl, std::shared_ptr<storage::reader>(std::move(r)), load, admitted_);
    workers_.push_back({std::move(handle), std::move(load)});
  }
}

query_pool::~query_pool() { stop(); }

void query_pool::stop() {
  if (stopped_.exchange(true))
    return;
  for (auto& w : workers_)
    caf::anon_send_exit(w.handle, caf::exit_reason::user_shutdown);
}

query_reply query_pool::run(read_job job, std::chrono::milliseconds wait) {
  if (stopped_ || workers_.empty())
    return error_reply(503, "shutting_down", "the daemon is stopping");
  if (admitted_->fetch_add(1) >= limit_) {
    --*admitted_;
    return error_reply(503, "overloaded",
                       "too many queries waiting (" + std::to_string(limit_ - workers_.size()) +
                           "); retry shortly");
  }
  worker* pick = &workers_.front();
  int least = pick->load->load();
  for (auto& w : workers_) {
    int l = w.load->load();
    if (l < least) {
      least = l;
      pick = &w;
    }
  }
  ++*pick->load;
  auto slot = std::make_shared<reply_slot>();
  job.reply_to = slot;
  caf::anon_send(pick->handle, std::move(job));
  if (auto reply = slot->wait_for(wait))
    return std::move(*reply);
  return error_reply(503, "timeout", "no answer from the query workers in time");
}

} // namespace edgemes::actors
