// adapters/blocking_pool: one mutex guards the FIFO, the held jobs, the busy
// count and the stopping flag. Workers take due jobs in FIFO order; the timer
// thread sleeps until the earliest held job and is woken only when a job
// earlier than that arrives. stop() wakes everyone, drops what is still queued
// or held, and joins once the running jobs have returned.
#include "adapters/blocking_pool.hpp"

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

uint64_t blocking_pool::submit_at(clock_type::time_point due, std::function<void()> job) {
  uint64_t ticket = 0;
  bool wake_timer = false;
  {
    std::lock_guard<std::mutex> lock(mtx_);
    if (stopping_ || queue_.size() + timed_.size() >= max_queue_)
      return 0;
    ticket = next_ticket_++;
    order_.emplace(due, ticket);
    timed_.emplace(ticket, std::make_pair(due, std::move(job)));
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
  order_.erase({it->second.first, ticket});
  dropped = std::move(it->second.second);
  timed_.erase(it);
  return true;
}

void blocking_pool::stop() {
  std::vector<std::thread> joining;
  std::thread timer;
  std::deque<std::function<void()>> dropped;
  std::unordered_map<uint64_t, std::pair<clock_type::time_point, std::function<void()>>> held;
  {
    std::lock_guard<std::mutex> lock(mtx_);
    stopping_ = true;
    joining.swap(threads_);
    timer.swap(timer_);
    dropped.swap(queue_);
    held.swap(timed_);
    order_.clear();
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
  // `dropped` and `held` are destroyed here, outside the lock: a job's captures
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
    size_t moved = 0;
    auto horizon = now + coalesce_;
    while (!order_.empty() && order_.begin()->first <= horizon) {
      auto it = timed_.find(order_.begin()->second);
      queue_.push_back(std::move(it->second.second));
      timed_.erase(it);
      order_.erase(order_.begin());
      ++moved;
    }
    lock.unlock();
    for (size_t i = 0; i < moved; ++i)
      cv_.notify_one();
    lock.lock();
  }
}

} // namespace edgemes::adapters
