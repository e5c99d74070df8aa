// adapters/blocking_pool: a fixed set of threads for blocking polls.
//
// Blocking I/O (an HTTP GET with a 2 s timeout) must never run on CAF's
// scheduler threads. Pollers submit their blocking poll here; one shared FIFO
// queue feeds `threads` workers, so a hanging machine holds one worker for at
// most its timeout and never queues other machines behind it on a fixed thread.
// The queue is bounded: submit() returns false when `max_queue` jobs wait.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace edgemes::adapters {

class blocking_pool {
public:
  blocking_pool(size_t threads, size_t max_queue);
  ~blocking_pool();  // stop(): waits for running jobs, drops queued ones
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  bool submit(std::function<void()> job);
  void stop();
  size_t queued() const;
  size_t busy() const;

private:
  void run();
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t max_queue_;
  size_t busy_ = 0;
  bool stopping_ = false;
};

} // namespace edgemes::adapters
