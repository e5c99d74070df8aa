// api/admission as a unit: the rule's numbers, one reply per refusal reason,
// and each outcome of a real query pool (one worker on a fresh file) as the
// API answers it.
#include "api/admission.hpp"

#include "storage/reader.hpp"
#include "storage/writer.hpp"
#include "tests/support/test_support.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <future>
#include <thread>

namespace {

using namespace edgemes;
using actors::query_outcome;
using namespace std::chrono_literals;

std::string code_of(const api::query_reply& r) {
  return nlohmann::json::parse(r.body)["error"]["code"].get<std::string>();
}

std::string message_of(const api::query_reply& r) {
  return nlohmann::json::parse(r.body)["error"]["message"].get<std::string>();
}

caf::actor_system_config& system_config() {
  static caf::actor_system_config cfg = [] {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", static_cast<size_t>(2));
    actors::register_message_types(c);
    return c;
  }();
  return cfg;
}

// One query worker on a fresh file; the pool admits 1 + max_pending jobs.
struct one_worker {
  explicit one_worker(size_t max_pending) {
    std::vector<std::unique_ptr<storage::reader>> readers;
    readers.push_back(storage::reader::open(path, storage::options{}));
    pool = std::make_unique<actors::query_pool>(sys, std::move(readers), max_pending);
  }
  test::temp_dir dir;
  std::string path = dir.file("q.db");
  std::unique_ptr<storage::writer> file = storage::writer::open(path, storage::options{});
  caf::actor_system sys{system_config()};
  std::unique_ptr<actors::query_pool> pool;  // destroyed first: its workers exit
};

// A job that holds its worker until released, and says when it started.
struct held_job {
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  std::function<api::query_reply(storage::reader&)> fn() {
    return [this](storage::reader&) {
      started.set_value();
      released.wait();
      return api::query_reply{200, "{}"};
    };
  }
};

} // namespace

TEST_CASE("the HTTP pool has a thread per running or queued query plus the reserved ones",
          "[api][admission]") {
  CHECK(api::http_threads_for(2, 256) == 2 + 62 + api::reserved_threads);
  CHECK(api::http_threads_for(2, 4) == 2 + 4 + api::reserved_threads);
  CHECK(api::admission(api::http_threads_for(2, 4)).max_waiting() == 6);
  CHECK(api::admission(1).max_waiting() == 1);  // at least one request may wait
}

TEST_CASE("each refusal reason has one status, code and message", "[api][admission]") {
  struct row {
    query_outcome outcome;
    int status;
    const char* code;
    const char* message;
  };
  const row rows[] = {
      {query_outcome::overloaded, 503, "overloaded", "too many queries waiting; retry shortly"},
      {query_outcome::timeout, 503, "timeout",
       "the query did not finish in time; narrow the range or retry"},
      {query_outcome::stopped, 503, "shutting_down", "the daemon is stopping"},
      {query_outcome::storage_error, 500, "storage", "disk I/O error"},
      {query_outcome::internal_error, 500, "internal", "disk I/O error"},
  };
  for (const auto& r : rows) {
    auto reply = api::admission::refusal({r.outcome, {}, "disk I/O error", SQLITE_IOERR});
    INFO(reply.body);
    CHECK(reply.status == r.status);
    CHECK(code_of(reply) == r.code);
    CHECK(message_of(reply) == r.message);
  }
  // A full disk (a write job's COMMIT) is its own reply, with SQLite's message.
  auto full = api::admission::refusal(
      {query_outcome::storage_error, {}, "write job: commit: database or disk is full",
       SQLITE_FULL});
  CHECK(full.status == 507);
  CHECK(code_of(full) == "disk_full");
  CHECK_THAT(message_of(full), Catch::StartsWith("write job: commit: database or disk is full"));
}

TEST_CASE("an admitted query answers its own reply", "[api][admission]") {
  one_worker w(4);
  api::admission admit(8);
  auto reply = admit.run(*w.pool, [](storage::reader&) { return api::query_reply{404, "{}"}; },
                         1000ms);
  CHECK(reply.status == 404);
  CHECK(reply.body == "{}");
}

TEST_CASE("a query that throws answers 500 storage or 500 internal with its message",
          "[api][admission]") {
  one_worker w(4);
  api::admission admit(8);
  auto storage = admit.run(
      *w.pool, [](storage::reader&) -> api::query_reply { throw storage::db_error(10, "io"); },
      1000ms);
  CHECK(storage.status == 500);
  CHECK(code_of(storage) == "storage");
  CHECK(message_of(storage) == "io");
  auto bug = admit.run(
      *w.pool, [](storage::reader&) -> api::query_reply { throw std::logic_error("bug"); },
      1000ms);
  CHECK(bug.status == 500);
  CHECK(code_of(bug) == "internal");
  CHECK(message_of(bug) == "bug");
}

TEST_CASE("a query past its deadline answers 503 timeout without running", "[api][admission]") {
  one_worker w(4);
  api::admission admit(8);
  std::atomic<bool> ran{false};
  auto reply = admit.run(*w.pool, [&](storage::reader&) {
    ran = true;
    return api::query_reply{200, "{}"};
  }, 0ms);
  CHECK(reply.status == 503);
  CHECK(code_of(reply) == "timeout");
  CHECK_FALSE(ran);
}

TEST_CASE("a stopped pool answers 503 shutting_down", "[api][admission]") {
  one_worker w(4);
  api::admission admit(8);
  w.pool->stop();
  auto reply = admit.run(*w.pool, [](storage::reader&) { return api::query_reply{200, "{}"}; },
                         1000ms);
  CHECK(reply.status == 503);
  CHECK(code_of(reply) == "shutting_down");
}

TEST_CASE("one request more than may wait answers 503 overloaded at once", "[api][admission]") {
  one_worker w(4);
  api::admission admit(api::reserved_threads + 1);  // one request may wait
  REQUIRE(admit.max_waiting() == 1);
  held_job held;
  auto first = std::async(std::launch::async, [&] { return admit.run(*w.pool, held.fn(), 5000ms); });
  held.started.get_future().wait();
  auto t0 = std::chrono::steady_clock::now();
  auto second = admit.run(*w.pool, [](storage::reader&) { return api::query_reply{200, "{}"}; },
                          5000ms);
  CHECK(std::chrono::steady_clock::now() - t0 < 1000ms);
  CHECK(second.status == 503);
  CHECK(code_of(second) == "overloaded");
  held.release.set_value();
  CHECK(first.get().status == 200);
}

TEST_CASE("the pool refuses jobs past workers + max_pending and reports it as an outcome",
          "[api][admission]") {
  one_worker w(0);  // admits one job: the one running
  held_job held;
  auto first = std::async(std::launch::async, [&] {
    return w.pool->run({held.fn(), std::chrono::steady_clock::now() + 5s, nullptr}, 5000ms);
  });
  held.started.get_future().wait();
  auto second = w.pool->run(
      {[](storage::reader&) { return api::query_reply{200, "{}"}; },
       std::chrono::steady_clock::now() + 5s, nullptr},
      5000ms);
  CHECK(second.outcome == query_outcome::overloaded);
  held.release.set_value();
  auto done = first.get();
  CHECK(done.outcome == query_outcome::done);
  CHECK(done.reply.status == 200);
}
