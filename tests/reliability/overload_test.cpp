// Writer overload (actors/writer.cpp with actors/ingest.hpp's bound): the
// writer is made slower than ingest — one fsync'd transaction per poll
// (synchronous=FULL, max_batch=1) against 100 machines polled every 10 ms.
// The queue stays at max_queue, RSS stays flat, and every dropped sample is
// counted in /api/v1/health and in the log.
#include "tests/reliability/rel_support.hpp"

#include <csignal>
#include <iostream>
#include <regex>
#include <thread>

using namespace edgemes::test;
using namespace edgemes::test::rel;
using namespace std::chrono_literals;

TEST_CASE("a writer slower than ingest keeps the queue at max_queue, RSS flat, and counts "
          "and logs every drop",
          "[reliability][overload]") {
  temp_dir dir;
  int api_port = free_port();
  auto db_path = dir.file("factory.db");
  const int64_t max_queue = 2000;
  auto cfg = write_config(dir, api_port, db_path, sim_machines(100, 10), {{"synchronous", "FULL"}},
                          {{"max_batch", 1}, {"flush_interval_ms", 50}, {"max_queue", max_queue}});
  auto daemon = start_daemon(dir, api_port, cfg);

  // 12 s of overload, one reading every 250 ms; RSS compared after the first 3 s
  // (allocator and page cache warm-up) with the end.
  int64_t max_depth = 0, rss_warm = 0, rss_max = 0, dropped_warm = 0;
  json last;
  auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < 12s) {
    last = health(api_port);
    REQUIRE(last.is_object());
    int64_t depth = last["writer"]["queue_depth"];
    REQUIRE(depth <= max_queue);
    max_depth = std::max(max_depth, depth);
    int64_t rss = rss_kib(daemon->pid());
    if (std::chrono::steady_clock::now() - t0 >= 3s) {
      if (rss_warm == 0) {
        rss_warm = rss;
        dropped_warm = last["writer"]["dropped_samples"];
      }
      rss_max = std::max(rss_max, rss);
    }
    std::this_thread::sleep_for(250ms);
  }
  int64_t dropped = last["writer"]["dropped_samples"];
  int64_t committed = last["writer"]["samples_committed"];
  std::cout << "[overload] 12 s: committed=" << committed << " samples, dropped=" << dropped
            << " samples (" << last["writer"]["dropped_reports"] << " polls), max queue_depth="
            << max_depth << " of " << max_queue << ", VmRSS after 3 s=" << rss_warm / 1024
            << " MiB, max after=" << rss_max / 1024 << " MiB\n";
  INFO(daemon->log());
  REQUIRE(dropped > dropped_warm);      // overloaded all along
  REQUIRE(dropped > committed / 10);    // really slower than ingest
  REQUIRE(max_depth >= max_queue / 2);  // the queue sits at its bound
  // Flat: the samples dropped after warm-up would need far more memory than this.
  REQUIRE(rss_max - rss_warm < 16 * 1024);

  daemon->signal(SIGTERM);
  REQUIRE(daemon->wait(30s) == 0);
  auto log = daemon->log();
  // Logged with counts, rate-limited (one line per 5 s at most, plus one at stop).
  std::regex line(R"(queue full \(writer\.max_queue 2000 samples\): dropped (\d+) samples of (\d+) polls since the last report, (\d+) samples since start)");
  int64_t lines = 0, logged_total = 0, last_since_start = 0;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it) {
    ++lines;
    logged_total += std::stoll((*it)[1]);
    last_since_start = std::stoll((*it)[3]);
  }
  INFO(log);
  REQUIRE(lines >= 2);
  REQUIRE(lines <= 12 / 5 + 3);
  REQUIRE(logged_total == last_since_start);  // every dropped sample is in some line
  REQUIRE(last_since_start >= dropped);
  ro_db db(db_path);
  REQUIRE(db.integrity() == "ok");
}
