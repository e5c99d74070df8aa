// Disk full while running (actors/writer.cpp's failed-commit path): the
// database lives on a small tmpfs; a filler file takes the rest of it. The
// writer reports the error in /api/v1/health and the log, keeps what it can
// in its bounded queue, counts the rest as dropped, retries, and recovers when
// the filler is removed — with an intact file and every sample either stored
// or counted. Needs root for the tmpfs mount (CI runs as root); elsewhere the
// test says so and does nothing.
#include "tests/reliability/rel_support.hpp"

#include <csignal>
#include <iostream>
#include <regex>
#include <thread>

using namespace edgemes::test;
using namespace edgemes::test::rel;
using namespace std::chrono_literals;

TEST_CASE("a full disk degrades health, drops are counted, and ingest recovers when space returns",
          "[reliability][diskfull]") {
  temp_dir dir;
  tmpfs_mount mnt(dir.file("mnt"), "16m");
  if (!mnt.mounted()) {
    WARN("mounting a tmpfs is not permitted here (needs root): disk-full test not run");
    return;
  }
  int sim_port = free_port(), api_port = free_port();
  json machines = json::array();
  for (int i = 0; i < 10; ++i)
    machines.push_back(http_machine("h" + std::to_string(i + 1), sim_port, 20));
  json sim_cfg = {{"lines", {{{"id", "l1"}, {"machines", machines}}}}};
  write_file(dir.file("sim.json"), sim_cfg.dump());
  auto sim = start_sim(dir, sim_port, dir.file("sim.json"));
  auto db_path = dir.file("mnt/factory.db");
  const int64_t max_queue = 2000;
  auto cfg = write_config(dir, api_port, db_path, machines, {{"wal_max_bytes", 1 << 20}},
                          {{"max_batch", 500}, {"max_queue", max_queue}});
  auto daemon = start_daemon(dir, api_port, cfg);
  REQUIRE(wait_until([&] { return health(api_port)["writer"]["rows_committed"] > 500; }, 20s));

  int64_t filled = fill(dir.file("mnt/filler"));
  // The writer notices: health degraded with the reason, queue full, drops counted.
  json h;
  bool degraded = wait_until([&] {
    h = health(api_port);
    return h["status"] == "degraded" && h["writer"]["dropped_samples"] > 0;
  }, 30s);
  INFO(daemon->log());
  REQUIRE(degraded);
  std::string error = h["writer"]["error"];
  CHECK(error.find("full") != std::string::npos);
  CHECK(h["writer"]["queue_depth"] <= max_queue);
  std::this_thread::sleep_for(1s);  // stay full a while: retries keep failing, nothing grows
  h = health(api_port);
  CHECK(h["status"] == "degraded");
  CHECK(h["writer"]["queue_depth"] <= max_queue);

  // Space returns: commits succeed again without a restart.
  std::filesystem::remove(dir.file("mnt/filler"));
  int64_t committed_at_return = h["writer"]["rows_committed"];
  bool recovered = wait_until([&] {
    h = health(api_port);
    return h["status"] == "ok" && h["writer"]["rows_committed"] > committed_at_return + 500;
  }, 30s);
  REQUIRE(recovered);

  daemon->signal(SIGTERM);
  REQUIRE(daemon->wait(30s) == 0);
  auto log = daemon->log();
  INFO(log);
  CHECK(log.find("commit failed, will retry") != std::string::npos);
  CHECK(log.find("commits succeed again") != std::string::npos);
  CHECK(log.find("queue full") != std::string::npos);
  // Polls dropped over the whole run, the last ones included (a loaded box can
  // fill the small queue again after recovery, after the last health read):
  // the writer's drop lines, the final one written at stop, each count the
  // polls dropped since the one before.
  int64_t dropped_reports = 0;
  const std::regex drop_line{"of ([0-9]+) polls since the last report"};
  for (std::sregex_iterator it{log.begin(), log.end(), drop_line}, end; it != end; ++it)
    dropped_reports += std::stoll((*it)[1].str());
  CHECK(dropped_reports >= h["writer"]["dropped_reports"].get<int64_t>());
  // A poll stamped with the same millisecond as the machine's previous one (a
  // late poll started as the previous one ended, on a loaded box) is not
  // stored and is counted as a duplicate: the stop line gives the total.
  int64_t duplicates = 0;
  std::smatch dup;
  if (std::regex_search(log, dup, std::regex{"([0-9]+) duplicate polls not stored"}))
    duplicates = std::stoll(dup[1].str());
  ro_db db(db_path);
  REQUIRE(db.integrity() == "ok");
  // Every reply edgemes-sim served is stored once, or was counted as dropped (or,
  // sent after the poll's timeout_ms on a loaded box, as a failed poll).
  int64_t served = 0, stored = 0, twice = 0,
          failed = db.integer("SELECT sum(polls_failed) FROM machines");
  for (auto& m : machines) {
    auto s = stored_seqs(db, m["id"]);
    auto srv = served_seqs(sim_port, m["id"]);
    std::set<int64_t> uniq(s.begin(), s.end());
    twice += static_cast<int64_t>(s.size() - uniq.size());
    for (auto seq : uniq)
      REQUIRE(srv.count(seq) == 1);
    served += static_cast<int64_t>(srv.size());
    stored += static_cast<int64_t>(uniq.size());
    // For a failure's diagnosis: the served replies not stored (dropped,
    // failed or duplicate polls are among them), the last few per machine.
    std::vector<int64_t> missing;
    for (auto seq : srv)
      if (!uniq.count(seq))
        missing.push_back(seq);
    std::string tail;
    for (size_t i = missing.size() > 5 ? missing.size() - 5 : 0; i < missing.size(); ++i)
      tail += " " + std::to_string(missing[i]);
    UNSCOPED_INFO(m["id"].get<std::string>() << ": served " << srv.size() << ", stored "
                                             << uniq.size() << ", last not stored:" << tail);
  }
  std::cout << "[diskfull] filler " << filled / 1024 << " KiB, error \"" << error
            << "\"; served=" << served << " stored=" << stored << " dropped=" << dropped_reports
            << " failed_polls=" << failed << " duplicates=" << duplicates
            << " lost=" << served - stored - dropped_reports - failed - duplicates << "\n";
  CHECK(twice == 0);
  CHECK(served - stored <= dropped_reports + failed + duplicates);
}
