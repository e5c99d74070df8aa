// The writer actor: batching by size and by time, the queue bound, and a
// graceful stop that loses nothing it holds.
#include "tests/actors/actor_fixture.hpp"

#include <filesystem>
#include <thread>

using namespace edgemes;
using namespace edgemes::test;

TEST_CASE("writer commits a batch as soon as it holds max_batch samples", "[actors][writer]") {
  actors::writer_settings ws;
  ws.max_batch = 100;
  ws.flush_interval_ms = 60000;  // the time trigger cannot fire during the test
  writer_rig rig{ws, 100000};
  int64_t ts = 1000000;
  for (int i = 0; i < 9; ++i)
    REQUIRE(rig.send(ts++, 10));
  // 90 samples: below max_batch, so nothing is committed yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(rig.gauge->commits() == 0);
  CHECK(rig.gauge->held_samples() == 90);
  REQUIRE(rig.send(ts++, 10));
  REQUIRE(wait_until([&] { return rig.gauge->committed_samples() == 100; },
                     std::chrono::seconds(10)));
  CHECK(rig.gauge->commits() == 1);
  CHECK(rig.gauge->held_samples() == 0);
  CHECK(rig.stored_rows() == 10);
}

TEST_CASE("writer commits a partial batch when flush_interval_ms passes", "[actors][writer]") {
  actors::writer_settings ws;
  ws.max_batch = 1000000;
  ws.flush_interval_ms = 100;
  writer_rig rig{ws, 100000};
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i)
    REQUIRE(rig.send(2000000 + i, 5));
  REQUIRE(wait_until([&] { return rig.gauge->committed_samples() == 15; },
                     std::chrono::seconds(10)));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < std::chrono::seconds(5));  // generous: the trigger is 100 ms
  CHECK(rig.stored_rows() == 3);
}

TEST_CASE("writer queue stays at max_queue while commits fail, drops and counts the rest, and "
          "loses nothing accepted once the disk is writable again",
          "[actors][writer]") {
  actors::writer_settings ws;
  ws.max_batch = 1000;
  ws.flush_interval_ms = 50;
  writer_rig rig{ws, 100, /*busy_timeout_ms=*/20};
  // Another connection holds the write lock: every commit fails with SQLITE_BUSY.
  auto blocker = std::make_unique<storage::test::raw_db>(rig.path);
  blocker->exec("BEGIN EXCLUSIVE");
  int accepted = 0;
  for (int i = 0; i < 30; ++i)
    accepted += rig.send(3000000 + i, 10) ? 1 : 0;
  CHECK(accepted == 10);  // 10 x 10 samples fill max_queue = 100
  CHECK(rig.gauge->dropped_samples() == 200);
  CHECK(rig.gauge->dropped_reports() == 20);
  CHECK(rig.gauge->held_samples() == 100);
  REQUIRE(wait_until([&] { return rig.gauge->writer_failing(); }, std::chrono::seconds(10)));
  CHECK(rig.gauge->writer_error().find("locked") != std::string::npos);
  CHECK(rig.gauge->committed_samples() == 0);

  blocker->exec("ROLLBACK");
  blocker.reset();
  REQUIRE(wait_until([&] { return rig.gauge->committed_samples() == 100; },
                     std::chrono::seconds(10)));
  CHECK_FALSE(rig.gauge->writer_failing());
  CHECK(rig.gauge->held_samples() == 0);
  CHECK(rig.stored_rows() == 10);
  // Room again: new samples are accepted.
  CHECK(rig.send(3000100, 10));
}

TEST_CASE("writer stop commits everything it holds, checkpoints and closes", "[actors][writer]") {
  actors::writer_settings ws;
  ws.max_batch = 1000000;
  ws.flush_interval_ms = 60000;
  writer_rig rig{ws, 1000000};
  for (int i = 0; i < 500; ++i)
    REQUIRE(rig.send(4000000 + i, 20));
  auto totals = rig.stop();
  CHECK(totals.samples == 10000);
  CHECK(totals.rows == 500);
  CHECK(totals.lost_samples == 0);
  CHECK(rig.gauge->held_samples() == 0);
  std::error_code ec;
  auto wal = std::filesystem::file_size(rig.path + "-wal", ec);
  CHECK((ec || wal == 0));
  CHECK(rig.stored_rows() == 500);
}
