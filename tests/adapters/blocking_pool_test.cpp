#include "adapters/blocking_pool.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using edgemes::adapters::blocking_pool;
using edgemes::test::wait_until;
using edgemes::test::gate;
using namespace std::chrono_literals;

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
  // A job submitted "now" waits in the timer's hold until the timer hands it
  // to the FIFO, so the two waiting jobs may still be in either place.
  REQUIRE(wait_until([&] { return pool.queued() == 2; }, 5s));
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
  // The queue bound counts held jobs too: wait until the timer has handed
  // both to the worker and the worker has run them.
  REQUIRE(wait_until([&] { return pool.queued() == 0 && pool.scheduled() == 0 && pool.busy() == 0; }, 5s));
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

namespace {
using steady = std::chrono::steady_clock;

// When each job of a test started, in the order they started.
struct start_log {
  std::mutex m;
  std::vector<std::pair<int, steady::time_point>> starts;
  void add(int id) {
    std::lock_guard<std::mutex> lock(m);
    starts.emplace_back(id, steady::now());
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(m);
    return starts.size();
  }
};
} // namespace

TEST_CASE("blocking_pool submit_at runs held jobs in due order, never before they are due",
          "[adapters][blocking_pool]") {
  blocking_pool pool(1, 10, 0ms);
  start_log log;
  auto t0 = steady::now();
  std::vector<std::pair<int, steady::time_point>> dues{
      {3, t0 + 300ms}, {1, t0 + 100ms}, {2, t0 + 200ms}};
  for (auto& [id, due] : dues)
    REQUIRE(pool.submit_at(due, [&log, id = id] { log.add(id); }) != 0);
  CHECK(pool.scheduled() == 3);
  REQUIRE(wait_until([&] { return log.size() == 3; }, 5s));
  CHECK(pool.scheduled() == 0);
  std::lock_guard<std::mutex> lock(log.m);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(log.starts[i].first == static_cast<int>(i + 1));
    CHECK(log.starts[i].second >= t0 + std::chrono::milliseconds(100 * (i + 1)));
  }
}

TEST_CASE("blocking_pool submit_at starts jobs due within the coalescing window together",
          "[adapters][blocking_pool]") {
  blocking_pool pool(2, 10, 80ms);
  start_log log;
  auto t0 = steady::now();
  REQUIRE(pool.submit_at(t0 + 200ms, [&] { log.add(1); }));
  REQUIRE(pool.submit_at(t0 + 250ms, [&] { log.add(2); }));   // inside the window: early
  REQUIRE(pool.submit_at(t0 + 600ms, [&] { log.add(3); }));   // outside: on time
  REQUIRE(wait_until([&] { return log.size() == 3; }, 5s));
  std::lock_guard<std::mutex> lock(log.m);
  std::map<int, steady::time_point> at(log.starts.begin(), log.starts.end());
  CHECK(at[1] >= t0 + 200ms);
  CHECK(at[2] >= t0 + 170ms);              // at most the window early
  CHECK(at[2] < t0 + 250ms);               // started with job 1, before its own due
  CHECK(at[3] >= t0 + 600ms - 80ms);
  CHECK(at[3] > at[2] + 200ms);            // not pulled into the first window
}

TEST_CASE("blocking_pool wakes its timer for a job earlier than the one it sleeps for",
          "[adapters][blocking_pool]") {
  blocking_pool pool(1, 10, 0ms);
  std::atomic<bool> late_ran{false}, early_ran{false};
  auto t0 = steady::now();
  REQUIRE(pool.submit_at(t0 + 3s, [&] { late_ran = true; }));
  std::this_thread::sleep_for(50ms);  // the timer now sleeps until t0 + 3 s
  REQUIRE(pool.submit_at(steady::now() + 50ms, [&] { early_ran = true; }));
  REQUIRE(wait_until([&] { return early_ran.load(); }, 2s));
  CHECK(steady::now() < t0 + 2500ms);
  CHECK_FALSE(late_ran);
}

TEST_CASE("blocking_pool cancel removes a held job; a started one cannot be cancelled",
          "[adapters][blocking_pool]") {
  blocking_pool pool(1, 10, 0ms);
  std::atomic<bool> cancelled_ran{false};
  gate g;
  std::atomic<bool> started{false};
  auto held = pool.submit_at(steady::now() + 200ms, [&] { cancelled_ran = true; });
  auto soon = pool.submit_at(steady::now(), [&] {
    started = true;
    g.wait();
  });
  REQUIRE(held != 0);
  REQUIRE(soon != 0);
  CHECK(held != soon);
  REQUIRE(wait_until([&] { return started.load(); }, 5s));
  CHECK(pool.cancel(held));
  CHECK_FALSE(pool.cancel(held));  // already gone
  CHECK_FALSE(pool.cancel(soon));  // running
  g.release();
  std::this_thread::sleep_for(400ms);
  CHECK_FALSE(cancelled_ran);
  CHECK(pool.scheduled() == 0);
}

TEST_CASE("blocking_pool counts held jobs against its queue bound and stop drops them",
          "[adapters][blocking_pool]") {
  std::atomic<int> ran{0};
  {
    blocking_pool pool(1, 2, 0ms);
    REQUIRE(pool.submit_at(steady::now() + 10s, [&] { ++ran; }));
    REQUIRE(pool.submit_at(steady::now() + 10s, [&] { ++ran; }));
    CHECK(pool.submit_at(steady::now() + 10s, [&] { ++ran; }) == 0);
    CHECK_FALSE(pool.submit([&] { ++ran; }));
    auto t0 = steady::now();
    pool.stop();
    CHECK(steady::now() - t0 < 2s);  // stop does not wait for held jobs
    CHECK(pool.submit_at(steady::now(), [&] { ++ran; }) == 0);
  }
  CHECK(ran == 0);
}

TEST_CASE("blocking_pool notify_at calls back on the timer thread while every worker is busy",
          "[adapters][blocking_pool]") {
  blocking_pool pool(1, 10, 0ms);
  gate g;
  std::atomic<bool> worker_started{false};
  std::thread::id worker;
  REQUIRE(pool.submit([&] {
    worker = std::this_thread::get_id();
    worker_started = true;
    g.wait();
  }));
  REQUIRE(wait_until([&] { return worker_started.load(); }, 5s));
  // The only worker is held by the gate: a callback handed to a worker would
  // not run before the gate opens.
  std::atomic<bool> called{false};
  std::thread::id caller;
  steady::time_point called_at;
  auto due = steady::now() + 100ms;
  REQUIRE(pool.notify_at(due, [&] {
    caller = std::this_thread::get_id();
    called_at = steady::now();
    called = true;
  }) != 0);
  bool ran = wait_until([&] { return called.load(); }, 5s);
  g.release();
  REQUIRE(ran);
  CHECK(caller != worker);
  CHECK(caller != std::this_thread::get_id());
  CHECK(called_at >= due);  // coalesce 0: never early
  CHECK(pool.scheduled() == 0);
}

TEST_CASE("blocking_pool cancel removes a held callback", "[adapters][blocking_pool]") {
  blocking_pool pool(1, 10, 0ms);
  std::atomic<bool> cancelled_ran{false}, later_ran{false};
  auto t0 = steady::now();
  auto held = pool.notify_at(t0 + 100ms, [&] { cancelled_ran = true; });
  REQUIRE(held != 0);
  REQUIRE(pool.notify_at(t0 + 200ms, [&] { later_ran = true; }) != 0);
  CHECK(pool.scheduled() == 2);
  CHECK(pool.cancel(held));
  CHECK_FALSE(pool.cancel(held));  // already gone
  // Callbacks run in due order on one thread: once the later one ran, the
  // cancelled one would have run before it.
  REQUIRE(wait_until([&] { return later_ran.load(); }, 5s));
  CHECK_FALSE(cancelled_ran);
  CHECK(pool.scheduled() == 0);
}

TEST_CASE("blocking_pool coalesces callbacks, never more than their max_early before due",
          "[adapters][blocking_pool]") {
  blocking_pool pool(1, 10, 200ms);
  start_log log;
  auto t0 = steady::now();
  REQUIRE(pool.notify_at(t0 + 300ms, [&] { log.add(1); }));
  REQUIRE(pool.notify_at(t0 + 450ms, [&] { log.add(2); }));        // pulled into 1's window
  REQUIRE(pool.notify_at(t0 + 450ms, [&] { log.add(3); }, 20ms));  // at most 20 ms early
  REQUIRE(wait_until([&] { return log.size() == 3; }, 5s));
  std::lock_guard<std::mutex> lock(log.m);
  std::map<int, steady::time_point> at(log.starts.begin(), log.starts.end());
  CHECK(at[1] >= t0 + 300ms);
  CHECK(at[2] >= t0 + 250ms);  // at most the window early
  CHECK(at[2] < t0 + 450ms);   // called with 1, before its own due
  CHECK(at[3] >= t0 + 430ms);
}

TEST_CASE("blocking_pool does not count callbacks against its queue bound; stop drops them",
          "[adapters][blocking_pool]") {
  std::atomic<int> ran{0};
  {
    blocking_pool pool(1, 1, 0ms);
    REQUIRE(pool.submit_at(steady::now() + 10s, [&] { ++ran; }));
    CHECK(pool.submit_at(steady::now() + 10s, [&] { ++ran; }) == 0);  // full
    for (int i = 0; i < 5; ++i)
      CHECK(pool.notify_at(steady::now() + 10s, [&] { ++ran; }) != 0);
    CHECK(pool.scheduled() == 6);
    CHECK(pool.submit_at(steady::now() + 10s, [&] { ++ran; }) == 0);  // still full
    pool.stop();
    CHECK(pool.scheduled() == 0);
    CHECK(pool.notify_at(steady::now(), [&] { ++ran; }) == 0);
  }
  CHECK(ran == 0);
}
