#include "actors/query.hpp"

#include <caf/all.hpp>
#include <sqlite3.h>

namespace edgemes::actors {

namespace {

using detail::pending_job;

// Runs `fn` on the worker's connection within `deadline` and records the
// outcome in `p`; never throws.
query_reply run_guarded(storage::reader& db,
                        const std::function<query_reply(storage::reader&)>& fn,
                        std::chrono::steady_clock::time_point deadline, pending_job& p) {
  if (std::chrono::steady_clock::now() >= deadline) {
    p.outcome = query_outcome::timeout;  // waited too long in the mailbox
    return {};
  }
  struct clear_deadline {
    storage::reader& db;
    ~clear_deadline() { db.set_deadline(std::chrono::steady_clock::time_point::max()); }
  } guard{db};
  db.set_deadline(deadline);
  return detail::guarded(p, [&] { return fn(db); });
}

struct worker_state {
  std::shared_ptr<storage::reader> db;  // sole owner: closed when the worker ends
  std::shared_ptr<std::atomic<int>> load;
  std::shared_ptr<std::atomic<size_t>> admitted;
};

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
      auto reply = job.run(*self->state.db);  // query_pool::run made it run_guarded
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

query_pool::worker& query_pool::least_busy() {
  worker* pick = &workers_.front();
  int least = pick->load->load();
  for (auto& w : workers_) {
    int l = w.load->load();
    if (l < least) {
      least = l;
      pick = &w;
    }
  }
  return *pick;
}

query_result query_pool::run(read_job job, std::chrono::milliseconds wait) {
  if (stopped_ || workers_.empty())
    return {query_outcome::stopped, {}, {}, 0};
  if (admitted_->fetch_add(1) >= limit_) {
    --*admitted_;
    return {query_outcome::overloaded, {}, {}, 0};
  }
  worker& pick = least_busy();
  ++*pick.load;
  auto p = std::make_shared<detail::pending_job>();
  job.reply_to = std::shared_ptr<reply_slot>(p, &p->slot);
  job.run = [fn = std::move(job.run), deadline = job.deadline, p](storage::reader& db) {
    return run_guarded(db, fn, deadline, *p);
  };
  caf::anon_send(pick.handle, std::move(job));
  return detail::collect(*p, wait);
}

} // namespace edgemes::actors
