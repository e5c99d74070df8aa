// WAL housekeeping (actors/writer.cpp keep_wal_bounded, routine_checkpoint):
// readers that never pause starve PASSIVE checkpoints, so without the
// writer's own TRUNCATE checkpoints the -wal file grows with every commit.
// Here readers hammer the file the whole time while 100 machines ingest, and
// the -wal file must stay under database.wal_max_bytes.
#include "tests/reliability/rel_support.hpp"

#include <atomic>
#include <csignal>
#include <iostream>
#include <random>
#include <thread>

using namespace edgemes::test;
using namespace edgemes::test::rel;
using namespace std::chrono_literals;

TEST_CASE("the -wal file stays under wal_max_bytes while readers never pause",
          "[reliability][wal]") {
  temp_dir dir;
  int api_port = free_port();
  auto db_path = dir.file("factory.db");
  const int64_t wal_max = 2 << 20;
  auto cfg = write_config(dir, api_port, db_path, sim_machines(100, 20),
                          {{"wal_max_bytes", wal_max}, {"checkpoint_interval_ms", 200}});
  auto daemon = start_daemon(dir, api_port, cfg);

  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0}, api_reads{0}, max_wal{0};
  std::vector<std::thread> threads;
  // Direct readers: each read is one short transaction on its own read-only
  // connection, back to back, four threads overlapping.
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      sqlite3* db = nullptr;
      sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
      sqlite3_busy_timeout(db, 5000);
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db, "SELECT count(*), max(id) FROM ingest_log WHERE id>? - ?",
                         -1, &s, nullptr);
      std::mt19937 rng(static_cast<unsigned>(t));
      while (!stop) {
        sqlite3_bind_int64(s, 1, 1 + static_cast<int64_t>(rng() % 100));
        sqlite3_bind_int64(s, 2, now_ms() - 5000);
        while (sqlite3_step(s) == SQLITE_ROW) {
        }
        sqlite3_reset(s);
        ++reads;
      }
      sqlite3_finalize(s);
      sqlite3_close(db);
    });
  // And through the API (the daemon's own read-only query workers).
  threads.emplace_back([&] {
    while (!stop) {
      if (http_get(api_port, "/api/v1/machines/s0001/samples?metric=cycle_time_s&limit=50").status ==
          200)
        ++api_reads;
    }
  });
  threads.emplace_back([&] {
    while (!stop) {
      max_wal = std::max<int64_t>(max_wal, file_size(db_path + "-wal"));
      std::this_thread::sleep_for(2ms);
    }
  });

  auto h0 = health(api_port);
  std::this_thread::sleep_for(15s);  // the load runs for a fixed time; nothing waits on it
  auto h1 = health(api_port);
  stop = true;
  for (auto& t : threads)
    t.join();

  int64_t rows = h1["writer"]["rows_committed"].get<int64_t>() -
                 h0["writer"]["rows_committed"].get<int64_t>();
  std::cout << "[wal] 15 s: rows=" << rows << " direct_reads=" << reads
            << " api_reads=" << api_reads << " max_wal_bytes=" << max_wal
            << " limit=" << wal_max << "\n";
  INFO(daemon->log());
  // Writes and reads all along (low bars: the box may be loaded by other work).
  REQUIRE(rows > 2000);
  REQUIRE(reads > 10000);
  REQUIRE(api_reads > 100);
  REQUIRE(max_wal > 0);
  REQUIRE(max_wal < wal_max);
  daemon->signal(SIGTERM);
  REQUIRE(daemon->wait(15s) == 0);
  ro_db db(db_path);
  REQUIRE(db.integrity() == "ok");
}
