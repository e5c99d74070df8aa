// A poller against a real HTTP server on 127.0.0.1 whose behaviour the test
// switches: unknown -> online -> offline -> online, and a stop that hands in
// the poll in flight.
#include "tests/actors/actor_fixture.hpp"

#include "actors/poller.hpp"
#include "adapters/adapter.hpp"
#include "adapters/blocking_pool.hpp"
#include "clock/clock.hpp"

#include <httplib.h>

#include <atomic>
#include <thread>

using namespace edgemes;
using namespace edgemes::test;

namespace {

// A machine over HTTP: mode 0 answers JSON, 1 answers HTTP 500, 2 answers slowly.
struct fake_machine {
  httplib::Server http;
  std::thread thread;
  int port = 0;
  std::atomic<int> mode{0};
  std::atomic<int> served{0};

  fake_machine() {
    http.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
      int m = mode.load();
      if (m == 1) {
        res.status = 500;
        res.set_content("boom", "text/plain");
        return;
      }
      if (m == 2)
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
      int n = ++served;
      res.set_content("{\"state\": \"RUN\", \"n\": " + std::to_string(n) + ", \"t\": 21.5}",
                      "application/json");
    });
    port = http.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { http.listen_after_bind(); });
  }
  ~fake_machine() {
    http.stop();
    thread.join();
  }
};

struct poller_rig : writer_rig {
  fake_machine machine;
  std::shared_ptr<adapters::blocking_pool> pool = std::make_shared<adapters::blocking_pool>(2, 16);
  actors::poller_actor poller;

  poller_rig() : writer_rig(settings(), 100000) {
    actors::poller_parts parts;
    parts.settings.ident = "smt1-printer1";
    parts.settings.interval_ms = 50;
    parts.settings.max_backoff_ms = 100;
    parts.settings.offline_after = 3;
    parts.binding = bindings.at("smt1-printer1");  // metrics temp_c, speed, cycle_time_s
    std::string err;
    parts.source = adapters::make_http_json(
        "http://127.0.0.1:" + std::to_string(machine.port) + "/status", 1000, 1 << 20,
        adapters::extractor({{"temp_c", "/t"}, {"speed", "/n"}, {"cycle_time_s", "/missing"}},
                            "/state"),
        &err);
    REQUIRE(parts.source);
    parts.writer = writer;
    parts.gauge = gauge;
    parts.pool = pool;
    poller = actors::spawn_poller(sys, std::move(parts));
  }

  ~poller_rig() { caf::anon_send_exit(poller, caf::exit_reason::kill); }

  static actors::writer_settings settings() {
    actors::writer_settings ws;
    ws.max_batch = 1000;
    ws.flush_interval_ms = 20;
    return ws;
  }

  storage::machine_info status() {
    auto r = storage::reader::open(path, opts, head);
    return *r->machine("smt1-printer1");
  }

  std::string states() {
    auto r = storage::reader::open(path, opts);
    return storage::test::query_text(
        r->handle(), "SELECT group_concat(state, ',') FROM (SELECT state FROM state_changes "
                     "ORDER BY ts)");
  }
};

} // namespace

TEST_CASE("poller goes online, offline after 3 failed polls, and online again when the machine "
          "answers",
          "[actors][poller]") {
  poller_rig rig;
  REQUIRE(wait_until([&] { return rig.status().status == "online"; }, std::chrono::seconds(10)));
  auto online = rig.status();
  CHECK(online.state == "RUN");
  // A pointer that matches nothing is a counted problem, the other metrics are still stored.
  CHECK(online.poll_problems >= 1);
  CHECK(online.last_error.find("cycle_time_s") != std::string::npos);
  REQUIRE(wait_until([&] { return rig.gauge->committed_samples() >= 4; }, std::chrono::seconds(10)));

  rig.machine.mode = 1;
  REQUIRE(wait_until([&] { return rig.status().status == "offline"; }, std::chrono::seconds(10)));
  auto offline = rig.status();
  CHECK(offline.last_error.find("HTTP 500") != std::string::npos);
  CHECK(offline.polls_failed >= 3);
  CHECK(offline.state == "OFFLINE");

  rig.machine.mode = 0;
  REQUIRE(wait_until([&] { return rig.status().status == "online"; }, std::chrono::seconds(10)));
  CHECK(rig.status().state == "RUN");
  CHECK(rig.states() == "RUN,OFFLINE,RUN");
}

TEST_CASE("a stopping poller hands in the poll in flight before it quits", "[actors][poller]") {
  poller_rig rig;
  REQUIRE(wait_until([&] { return rig.machine.served.load() >= 2; }, std::chrono::seconds(10)));
  rig.machine.mode = 2;  // every reply now takes 400 ms
  int before = rig.machine.served.load();
  // Wait until a slow poll is in flight, then stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  caf::scoped_actor self{rig.sys};
  bool done = false;
  self->request(rig.poller, std::chrono::seconds(5), actors::stop_atom::value)
      .receive([&](actors::done_atom) { done = true; },
               [&](caf::error& e) { FAIL(caf::to_string(e)); });
  CHECK(done);
  int served = rig.machine.served.load();
  CHECK(served >= before);
  auto totals = rig.stop();
  // Every reply the machine served is stored: one row per reply.
  CHECK(rig.stored_rows() == served);
  CHECK(totals.lost_samples == 0);
}

TEST_CASE("a poll that overruns its interval counts every slot it covered as missed, in the "
          "machine's status and in the gauge",
          "[actors][poller]") {
  poller_rig rig;  // interval 50 ms
  REQUIRE(wait_until([&] { return rig.status().status == "online"; }, std::chrono::seconds(10)));
  rig.machine.mode = 2;  // every reply now takes 400 ms: each poll covers ~8 slots
  REQUIRE(wait_until([&] { return rig.status().polls_missed >= 20; }, std::chrono::seconds(20)));
  auto a = rig.status();
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(wait_until([&] { return rig.status().polls_ok >= a.polls_ok + 5; },
                     std::chrono::seconds(20)));
  auto b = rig.status();
  auto window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - t0).count();
  // Every slot is accounted for: polled, or missed. Each snapshot lags by up to
  // one slow poll (8 slots) plus the writer's flush.
  int64_t slots = (b.polls_ok - a.polls_ok) + (b.polls_failed - a.polls_failed) +
                  (b.polls_missed - a.polls_missed);
  int64_t expected = window_ms / 50;
  CHECK(slots >= expected - 20);
  CHECK(slots <= expected + 20);
  // A slow poll is not a failure: the missed slots are the only sign of it.
  CHECK(b.polls_missed - a.polls_missed >= 4 * (b.polls_ok - a.polls_ok - 1));
  CHECK(b.polls_failed == a.polls_failed);
  CHECK(rig.gauge->missed_polls() >= b.polls_missed);
}

namespace {

// An in-process machine that never blocks, like the simulator: counts its
// polls and remembers the thread of the last one. Its reading is the binding's
// first two metrics, temp_c = 21.5 and speed = the poll's number.
// With `taken_from` set, poll n says its values were taken at taken_from + n s.
struct counting_source final : adapters::source {
  std::atomic<int> polls{0};
  std::atomic<std::thread::id> thread{};
  int64_t taken_from = 0;
  adapters::reading poll() override {
    thread = std::this_thread::get_id();
    adapters::reading r;
    r.ok = true;
    const int n = ++polls;
    r.values = {21.5, static_cast<double>(n)};
    r.state = "RUN";
    if (taken_from != 0)
      r.taken_ms = taken_from + int64_t(n) * 1000;
    return r;
  }
  bool blocking() const override { return false; }
};

// A poller on a counting_source, interval 50 ms, with a one-worker pool.
struct tick_rig : writer_rig {
  std::shared_ptr<counting_source> source = std::make_shared<counting_source>();
  std::shared_ptr<adapters::blocking_pool> pool = std::make_shared<adapters::blocking_pool>(1, 16);
  actors::poller_actor poller;

  tick_rig() : writer_rig(poller_rig::settings(), 100000) {}

  void spawn() {
    actors::poller_parts parts;
    parts.settings.ident = "smt1-printer1";
    parts.settings.interval_ms = 50;
    parts.binding = bindings.at("smt1-printer1");
    parts.source = source;
    parts.writer = writer;
    parts.gauge = gauge;
    parts.pool = pool;
    poller = actors::spawn_poller(sys, std::move(parts));
  }

  ~tick_rig() {
    if (poller)
      caf::anon_send_exit(poller, caf::exit_reason::kill);
  }

  bool stop_poller() {
    caf::scoped_actor self{sys};
    bool done = false;
    self->request(poller, std::chrono::seconds(5), actors::stop_atom::value)
        .receive([&](actors::done_atom) { done = true; },
                 [&](caf::error& e) { FAIL(caf::to_string(e)); });
    return done;
  }
};

using worker_gate = edgemes::test::gate;  // holds a pool's workers until released

} // namespace

TEST_CASE("a non-blocking source is polled in the poller on ticks from the pool's timer, even "
          "while every pool worker is busy",
          "[actors][poller]") {
  tick_rig rig;
  worker_gate gate;
  std::atomic<bool> held{false};
  REQUIRE(rig.pool->submit([&] {
    held = true;
    gate.wait();
  }));
  REQUIRE(wait_until([&] { return held.load(); }, std::chrono::seconds(5)));
  struct release_at_end {
    worker_gate& g;
    ~release_at_end() { g.release(); }
  } release{gate};

  auto t0 = std::chrono::steady_clock::now();
  rig.spawn();
  // The tick waits in the pool between polls (CAF's own timer would leave
  // the pool empty).
  REQUIRE(wait_until([&] { return rig.pool->scheduled() == 1; }, std::chrono::seconds(5)));
  REQUIRE(wait_until([&] { return rig.source->polls.load() >= 10; }, std::chrono::seconds(10)));
  auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0).count();
  // On the 50 ms schedule: 10 polls take at least 9 intervals minus the
  // early start the pool allows (interval / 4).
  CHECK(elapsed_ms >= 9 * 50 - 13);
  CHECK(rig.source->thread.load() != std::this_thread::get_id());
  REQUIRE(wait_until([&] { return rig.gauge->committed_samples() >= 2 * 5; },
                     std::chrono::seconds(10)));
}

TEST_CASE("a stopping poller with a non-blocking source cancels its held tick and quits, its "
          "polls all stored",
          "[actors][poller]") {
  tick_rig rig;
  rig.spawn();
  REQUIRE(wait_until([&] { return rig.source->polls.load() >= 3; }, std::chrono::seconds(10)));
  REQUIRE(wait_until([&] { return rig.pool->scheduled() == 1; }, std::chrono::seconds(5)));
  REQUIRE(rig.stop_poller());
  CHECK(rig.pool->scheduled() == 0);  // the held tick was cancelled
  int polls = rig.source->polls.load();
  auto totals = rig.stop();
  CHECK(rig.stored_rows() == polls);
  CHECK(rig.source->polls.load() == polls);
  CHECK(totals.lost_samples == 0);
}

TEST_CASE("a poller keeps polling a non-blocking source on CAF's timer when the pool has stopped",
          "[actors][poller]") {
  tick_rig rig;
  rig.pool->stop();
  rig.spawn();
  REQUIRE(wait_until([&] { return rig.source->polls.load() >= 5; }, std::chrono::seconds(10)));
  CHECK(rig.pool->scheduled() == 0);
  REQUIRE(rig.stop_poller());
}

TEST_CASE("polls in the same millisecond are stamped 1 ms apart and all stored; a clock stepped "
          "far back keeps its own time",
          "[actors][poller]") {
  clock::manual_clock frozen(1'700'000'000'000);
  tick_rig rig;
  rig.spawn();
  // The wall clock does not move: every poll starts in the same millisecond.
  REQUIRE(wait_until([&] { return rig.source->polls.load() >= 5; }, std::chrono::seconds(10)));
  frozen.set(1'600'000'000'000);  // stepped back 1e11 ms: not shifted
  int before_step = rig.source->polls.load();
  REQUIRE(wait_until([&] { return rig.source->polls.load() >= before_step + 3; },
                     std::chrono::seconds(10)));
  REQUIRE(rig.stop_poller());
  const int polls = rig.source->polls.load();
  rig.stop();
  CHECK(rig.stored_rows() == polls);  // no poll lost as a duplicate
  auto r = storage::reader::open(rig.path, rig.opts);
  auto first = storage::test::query_int(
      r->handle(), "SELECT count(DISTINCT ts) FROM samples WHERE ts >= 1700000000000 AND ts < 1700000001000");
  auto stepped = storage::test::query_int(
      r->handle(), "SELECT count(DISTINCT ts) FROM samples WHERE ts >= 1600000000000 AND ts < 1600000001000");
  CHECK(first + stepped == polls);
  CHECK(stepped >= 3);
  CHECK(storage::test::query_int(r->handle(), "SELECT max(ts) - min(ts) FROM samples WHERE ts >= "
                                              "1700000000000") == first - 1);
}

TEST_CASE("a poll is stamped with the time its source says the values were taken", "[actors][poller]") {
  const int64_t taken_from = 1'650'000'000'000;
  tick_rig rig;
  rig.source->taken_from = taken_from;
  rig.spawn();
  REQUIRE(wait_until([&] { return rig.source->polls.load() >= 3; }, std::chrono::seconds(10)));
  REQUIRE(rig.stop_poller());
  const int polls = rig.source->polls.load();
  rig.stop();
  CHECK(rig.stored_rows() == polls);
  auto r = storage::reader::open(rig.path, rig.opts);
  CHECK(storage::test::query_int(r->handle(), "SELECT min(ts) FROM samples") == taken_from + 1000);
  CHECK(storage::test::query_int(r->handle(), "SELECT max(ts) FROM samples") ==
        taken_from + int64_t(polls) * 1000);
  CHECK(storage::test::query_int(r->handle(), "SELECT count(DISTINCT ts) FROM samples WHERE (ts - " +
                                                  std::to_string(taken_from) + ") % 1000 = 0") == polls);
}
