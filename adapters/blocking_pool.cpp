// adapters/blocking_pool: one mutex guards the queue, the busy count and the
// stopping flag. Workers take jobs in FIFO order; stop() wakes them all, drops
// what is still queued, and joins once the running jobs have returned.
#include "adapters/blocking_pool.hpp"

namespace edgemes::adapters {

blocking_pool::blocking_pool(size_t threads, size_t max_queue) : max_queue_(max_queue) {
  if (threads == 0)
    threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

blocking_pool::~blocking_pool() { stop(); }

bool blocking_pool::submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mtx_);
    if (stopping_ || queue_.size() >= max_queue_)
      return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void blocking_pool::stop() {
  std::vector<std::thread> joining;
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mtx_);
    stopping_ = true;
    joining.swap(threads_);
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : joining) {
    if (t.get_id() == std::this_thread::get_id())
      t.detach();  // stop() from inside a job: that worker exits when the job returns
    else if (t.joinable())
      t.join();
  }
  // `dropped` is destroyed here, outside the lock: a job's captures may do work
  // in their destructors.
}

size_t blocking_pool::queued() const {
  std::lock_guard<std::mutex> lock(mtx_);
  return queue_.size();
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

} // namespace edgemes::adapters
