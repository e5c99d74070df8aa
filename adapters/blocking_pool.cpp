// adapters/blocking_pool: one mutex guards the FIFO, the held jobs and
// callbacks, the busy count and the stopping flag. Workers take due jobs in
// FIFO order; the timer thread sleeps until the earliest held entry is due and
// is woken only when an earlier one arrives. Woken, it takes every entry due
// within its own window (min(coalesce, max_early)) of now: jobs go to the FIFO,
// callbacks are called by the timer itself after it has released the lock (a
// callback may take other locks, e.g. a CAF mailbox's). stop() wakes everyone,
// drops what is still queued or held, and joins once the running jobs have
// returned.
#include "adapters/blocking_pool.hpp"

#include <algorithm>

namespace edgemes::adapters {

blocking_pool::blocking_pool(size_t threads, size_t max_queue,
                             std::chrono::milliseconds coalesce)
    : max_queue_(max_queue), coalesce_(coalesce) {
  if (threads == 0)
    threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
  timer_ = std::thread([this] { run_timer(); });
}

blocking_pool::~blocking_pool() { stop(); }

uint64_t blocking_pool::submit_at(clock_type::time_point due, std::function<void()> job,
                                  clock_type::duration max_early) {
  return hold(due, std::move(job), max_early, false);
}

uint64_t blocking_pool::notify_at(clock_type::time_point due, std::function<void()> callback,
                                  clock_type::duration max_early) {
  return hold(due, std::move(callback), max_early, true);
}

uint64_t blocking_pool::hold(clock_type::time_point due, std::function<void()> run,
                             clock_type::duration max_early, bool on_timer) {
  uint64_t ticket = 0;
  bool wake_timer = false;
  {
    std::lock_guard<std::mutex> lock(mtx_);
    if (stopping_ || (!on_timer && queue_.size() + held_jobs_ >= max_queue_))
      return 0;
    ticket = next_ticket_++;
    order_.emplace(due, ticket);
    timed_.emplace(ticket, held{due, std::min<clock_type::duration>(coalesce_, max_early),
                                on_timer, std::move(run)});
    if (!on_timer)
      ++held_jobs_;
    wake_timer = due < timer_wakes_;
  }
  if (wake_timer)
    timer_cv_.notify_one();
  return ticket;
}

bool blocking_pool::cancel(uint64_t ticket) {
  std::function<void()> dropped;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(mtx_);
  auto it = timed_.find(ticket);
  if (it == timed_.end())
    return false;
  order_.erase({it->second.due, ticket});
  if (!it->second.on_timer)
    --held_jobs_;
  dropped = std::move(it->second.run);
  timed_.erase(it);
  return true;
}

void blocking_pool::stop() {
  std::vector<std::thread> joining;
  std::thread timer;
  std::deque<std::function<void()>> dropped;
  std::unordered_map<uint64_t, held> still_held;
  {
    std::lock_guard<std::mutex> lock(mtx_);
    stopping_ = true;
    joining.swap(threads_);
    timer.swap(timer_);
    dropped.swap(queue_);
    still_held.swap(timed_);
    order_.clear();
    held_jobs_ = 0;
  }
  cv_.notify_all();
  timer_cv_.notify_all();
  if (timer.joinable())
    timer.join();
  for (auto& t : joining) {
    if (t.get_id() == std::this_thread::get_id())
      t.detach();  // stop() from inside a job: that worker exits when the job returns
    else if (t.joinable())
      t.join();
  }
  // `dropped` and `still_held` are destroyed here, outside the lock: a job's captures
  // may do work in their destructors.
}

size_t blocking_pool::queued() const {
  std::lock_guard<std::mutex> lock(mtx_);
  return queue_.size();
}

size_t blocking_pool::scheduled() const {
  std::lock_guard<std::mutex> lock(mtx_);
  return timed_.size();
}

size_t blocking_pool::busy() const {
  std::lock_guard<std::mutex> lock(mtx_);
  return busy_;
}

void blocking_pool::run() {
  std::unique_lock<std::mutex> lock(mtx_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_)
      return;
    auto job = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    try {
      job();
    } catch (...) {
      // A job's failure is its own business; the worker must survive it.
    }
    job = nullptr;
    lock.lock();
    --busy_;
  }
}

void blocking_pool::run_timer() {
  std::vector<std::function<void()>> callbacks;  // due callbacks, called outside the lock
  std::unique_lock<std::mutex> lock(mtx_);
  while (!stopping_) {
    if (order_.empty()) {
      timer_wakes_ = clock_type::time_point::max();
      timer_cv_.wait(lock);
      timer_wakes_ = clock_type::time_point::min();
      continue;
    }
    auto now = clock_type::now();
    auto first = order_.begin()->first;
    if (first > now) {
      timer_wakes_ = first;
      timer_cv_.wait_until(lock, first);
      timer_wakes_ = clock_type::time_point::min();
      continue;
    }
    // Everything due within its window. An entry with a narrower window than
    // coalesce_ may be passed over; the next wake-up is at the earliest due,
    // so it is taken by then at the latest.
    size_t moved = 0;
    auto horizon = now + coalesce_;
    for (auto o = order_.begin(); o != order_.end() && o->first <= horizon;) {
      auto it = timed_.find(o->second);
      if (o->first - it->second.early > now) {
        ++o;
        continue;
      }
      if (it->second.on_timer) {
        callbacks.push_back(std::move(it->second.run));
      } else {
        queue_.push_back(std::move(it->second.run));
        --held_jobs_;
        ++moved;
      }
      timed_.erase(it);
      o = order_.erase(o);
    }
    lock.unlock();
    for (size_t i = 0; i < moved; ++i)
      cv_.notify_one();
    for (auto& callback : callbacks) {
      try {
        callback();
      } catch (...) {
        // As for jobs: a callback's failure is its own; the timer must survive it.
      }
    }
    callbacks.clear();  // their captures are released here, outside the lock
    lock.lock();
  }
}

} // namespace edgemes::adapters
