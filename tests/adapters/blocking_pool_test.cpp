#include "adapters/blocking_pool.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>

using edgemes::adapters::blocking_pool;
using edgemes::test::wait_until;
using namespace std::chrono_literals;

namespace {
// A gate jobs wait on until the test opens it.
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [this] { return open; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(m);
      open = true;
    }
    cv.notify_all();
  }
};
} // namespace

TEST_CASE("blocking_pool runs as many jobs at once as it has threads", "[adapters][blocking_pool]") {
  blocking_pool pool(3, 10);
  gate g;
  std::atomic<int> running{0}, done{0};
  for (int i = 0; i < 5; ++i)
    REQUIRE(pool.submit([&] {
      ++running;
      g.wait();
      ++done;
    }));
  REQUIRE(wait_until([&] { return running == 3; }, 5s));
  REQUIRE(pool.busy() == 3);
  REQUIRE(pool.queued() == 2);
  g.release();
  REQUIRE(wait_until([&] { return done == 5; }, 5s));
  REQUIRE(wait_until([&] { return pool.busy() == 0; }, 5s));
  REQUIRE(pool.queued() == 0);
}

TEST_CASE("blocking_pool rejects a job when its queue is full", "[adapters][blocking_pool]") {
  blocking_pool pool(1, 2);
  gate g;
  std::atomic<bool> started{false};
  REQUIRE(pool.submit([&] {
    started = true;
    g.wait();
  }));
  REQUIRE(wait_until([&] { return started.load(); }, 5s));
  REQUIRE(pool.submit([] {}));
  REQUIRE(pool.submit([] {}));
  REQUIRE_FALSE(pool.submit([] {}));
  g.release();
  REQUIRE(wait_until([&] { return pool.queued() == 0 && pool.busy() == 0; }, 5s));
  REQUIRE(pool.submit([] {}));
}

TEST_CASE("blocking_pool stop waits for running jobs and drops queued ones", "[adapters][blocking_pool]") {
  blocking_pool pool(1, 10);
  gate g;
  std::atomic<bool> started{false}, finished{false}, queued_ran{false};
  REQUIRE(pool.submit([&] {
    started = true;
    g.wait();
    finished = true;
  }));
  REQUIRE(pool.submit([&] { queued_ran = true; }));
  REQUIRE(wait_until([&] { return started.load(); }, 5s));

  auto stopped = std::async(std::launch::async, [&] { pool.stop(); });
  // stop() must still be waiting: the running job has not returned.
  REQUIRE(stopped.wait_for(100ms) == std::future_status::timeout);
  g.release();
  REQUIRE(stopped.wait_for(5s) == std::future_status::ready);
  REQUIRE(finished);
  REQUIRE_FALSE(queued_ran);
  REQUIRE_FALSE(pool.submit([] {}));
  pool.stop();  // idempotent
}

TEST_CASE("blocking_pool survives a job that throws", "[adapters][blocking_pool]") {
  blocking_pool pool(1, 4);
  std::atomic<bool> ran{false};
  REQUIRE(pool.submit([] { throw std::runtime_error("boom"); }));
  REQUIRE(pool.submit([&] { ran = true; }));
  REQUIRE(wait_until([&] { return ran.load(); }, 5s));
}
