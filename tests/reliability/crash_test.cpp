// Crash safety and graceful stop of the whole daemon (actors/writer.cpp,
// storage/writer.cpp, daemon/run.cpp's stop order), with real processes:
// - kill -9 in the middle of heavy ingest, 20 times at random moments, with
//   2 s compaction windows so that kills also land mid-compaction: the file is
//   intact, nothing committed is lost, no poll is in two rows (a chunk and the
//   ingest log), and polling resumes at once after the restart; every other
//   run has a head memory limit small enough that the writer spills its
//   oldest polls on most commits (readers and compaction then read them from
//   the log), and each restart switches between the two;
// - SIGTERM / SIGINT under load with a machine hanging mid-poll: exit 0 in a
//   bounded time, every reply the daemon received is stored, WAL checkpointed.
#include "tests/reliability/rel_support.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <random>
#include <regex>
#include <thread>

using namespace edgemes::test;
using namespace edgemes::test::rel;
using namespace std::chrono_literals;

namespace {

// A config for edgemes-sim listing only the http machines (ids + types).
std::string sim_config(const temp_dir& dir, const json& http_machines) {
  json cfg = {{"lines", {{{"id", "l1"}, {"machines", http_machines}}}}};
  auto path = dir.file("sim.json");
  write_file(path, cfg.dump());
  return path;
}

json http_machines(int n, int sim_port, int interval_ms) {
  json out = json::array();
  for (int i = 0; i < n; ++i)
    out.push_back(http_machine("h" + std::to_string(i + 1), sim_port, interval_ms));
  return out;
}

json concat(json a, const json& b) {
  for (auto& x : b)
    a.push_back(x);
  return a;
}

// machine_id -> (rows, max ts), as committed right now.
std::map<int64_t, std::pair<int64_t, int64_t>> committed_per_machine(ro_db& db) {
  std::map<int64_t, std::pair<int64_t, int64_t>> out;
  for (auto& r : db.rows("SELECT machine_id, count(*), max(ts) FROM " + stored_polls +
                         " t GROUP BY machine_id"))
    out[std::stoll(r[0])] = {std::stoll(r[1]), std::stoll(r[2])};
  return out;
}

int64_t median(std::vector<int64_t> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

TEST_CASE("kill -9 during heavy ingest, 20 times, loses nothing committed and stores nothing twice",
          "[reliability][crash]") {
  temp_dir dir;
  int sim_port = free_port(), api_port = free_port();
  const int sim_n = 180, http_n = 20, sim_interval = 25, http_interval = 50;
  auto http = http_machines(http_n, sim_port, http_interval);
  auto sim = start_sim(dir, sim_port, sim_config(dir, http));
  auto db_path = dir.file("factory.db");
  const json machines_json = concat(sim_machines(sim_n, sim_interval), http);
  auto spill_cfg = dir.file("edgemes-spill.json");
  write_file(spill_cfg, read_file(write_config(dir, api_port, db_path, machines_json,
                                               {{"chunk_window_ms", 2000},
                                                {"compaction_grace_ms", 300},
                                                {"head_memory_limit_kib", 512}})));
  auto cfg = write_config(dir, api_port, db_path, machines_json,
                          {{"chunk_window_ms", 2000}, {"compaction_grace_ms", 300}});
  const int machines = sim_n + http_n;

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> ingest_ms(100, 700);
  std::vector<int64_t> resume_ms, first_poll_sim, first_poll_http;
  int64_t last_kill_wall = 0, rows_before = 0, kills = 0, max_lost = 0, spills = 0;

  for (int round = 0; round < 20; ++round) {
    int64_t spawn_wall = now_ms();
    auto daemon = start_daemon(dir, api_port, round % 2 ? spill_cfg : cfg,
                               "edgemes-" + std::to_string(round) + ".log");
    auto up = std::chrono::steady_clock::now();
    ro_db db(db_path);
    if (round > 0) {
      // Every machine has a row polled after the restart: polling resumed.
      bool resumed = wait_until([&] {
        return db.integer("SELECT count(DISTINCT machine_id) FROM " + stored_polls +
                          " t WHERE t.ts>" + std::to_string(last_kill_wall)) == machines;
      }, 10s);
      INFO(daemon->log());
      REQUIRE(resumed);
      resume_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - up).count());
      // First poll of each machine after the restart, from the daemon's spawn.
      for (auto& r : db.rows("SELECT m.adapter, max(f.first) FROM machines m JOIN (SELECT "
                             "machine_id, min(ts) AS first FROM " + stored_polls + " t WHERE "
                             "t.ts>" + std::to_string(last_kill_wall) + " GROUP BY machine_id) f "
                             "ON f.machine_id = m.id GROUP BY m.adapter"))
        (r[0] == "sim" ? first_poll_sim : first_poll_http).push_back(std::stoll(r[1]) - spawn_wall);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ingest_ms(rng)));  // a random moment
    if (round % 2) {
      auto h = health(api_port);
      if (h.is_object())
        spills += h["writer"]["head_spills"].get<int64_t>();
    }

    // What is committed right now; a commit after this read only adds rows.
    auto committed = committed_per_machine(db);
    int64_t rows = 0;
    for (auto& kv : committed)
      rows += kv.second.first;
    daemon->signal(SIGKILL);
    REQUIRE(daemon->wait(5s) == 128 + SIGKILL);
    last_kill_wall = now_ms();
    ++kills;
    INFO("round " << round << ": " << rows << " rows committed, " << rows_before << " before");
    REQUIRE(rows > rows_before);  // ingest was running: rows grew since the last kill
    rows_before = rows;

    // The file after the kill (a read-only connection never writes it).
    ro_db after(db_path);
    REQUIRE(after.integrity() == "ok");
    REQUIRE(after.integer(polls_stored_twice) == 0);
    std::map<int64_t, int64_t> still;  // machine -> polls up to its committed max ts
    for (auto& r : after.rows("SELECT machine_id, ts FROM " + stored_polls + " t")) {
      auto c = committed.find(std::stoll(r[0]));
      if (c != committed.end() && std::stoll(r[1]) <= c->second.second)
        ++still[c->first];
    }
    for (auto& [machine, c] : committed) {
      max_lost = std::max(max_lost, c.first - still[machine]);
      INFO("machine " << machine << " had " << c.first << " polls up to " << c.second);
      REQUIRE(still[machine] == c.first);
    }
  }

  // Nothing stored twice: edgemes-sim's seq grows across daemon restarts, so the
  // seqs stored for a machine, in ts order, are strictly increasing.
  auto daemon = start_daemon(dir, api_port, cfg, "edgemes-final.log");
  daemon->signal(SIGTERM);
  REQUIRE(daemon->wait(15s) == 0);
  ro_db db(db_path);
  REQUIRE(db.integrity() == "ok");
  int64_t http_rows = 0;
  for (auto& m : http) {
    auto seqs = stored_seqs(db, m.at("id"));
    http_rows += static_cast<int64_t>(seqs.size());
    REQUIRE(std::adjacent_find(seqs.begin(), seqs.end(),
                               [](int64_t a, int64_t b) { return b <= a; }) == seqs.end());
  }
  REQUIRE(http_rows > 0);
  // Compaction ran between the kills: most polls are in chunks, none twice.
  REQUIRE(db.integer(polls_stored_twice) == 0);
  REQUIRE(db.integer("SELECT count(*) FROM chunks") > machines);
  REQUIRE(spills > 0);  // the limited runs did spill
  // Polling resumed at once (generous bound for a loaded machine; typical: tens of ms).
  CHECK(*std::max_element(first_poll_sim.begin(), first_poll_sim.end()) < 3000);
  std::cout << "[crash] kills=" << kills << " head_spills_seen=" << spills
            << " integrity_errors=0 max_lost_committed=" << max_lost
            << " polls=" << db.integer("SELECT count(*) FROM " + stored_polls + " t")
            << " chunks=" << db.integer("SELECT count(*) FROM chunks")
            << " health_up_to_all_polls_stored_ms median=" << median(resume_ms)
            << " max=" << *std::max_element(resume_ms.begin(), resume_ms.end())
            << "; spawn_to_last_first_poll_ms sim median=" << median(first_poll_sim)
            << " max=" << *std::max_element(first_poll_sim.begin(), first_poll_sim.end())
            << ", http median=" << median(first_poll_http)
            << " max=" << *std::max_element(first_poll_http.begin(), first_poll_http.end()) << "\n";
}

namespace {

// Stops a loaded daemon with `sig` while machine "slow" hangs mid-poll.
void graceful_stop_under_load(int sig) {
  temp_dir dir;
  int sim_port = free_port(), api_port = free_port();
  const int slow_timeout_ms = 3000;
  auto http = http_machines(10, sim_port, 20);
  json slow = http_machine("slow", sim_port, 100, slow_timeout_ms);
  auto sim = start_sim(dir, sim_port, sim_config(dir, concat(http, json::array({slow}))),
                       {"--fault", "slow=slow", "--slow-ms", "60000"});
  auto db_path = dir.file("factory.db");
  auto cfg = write_config(dir, api_port, db_path,
                          concat(concat(sim_machines(150, 20), http), json::array({slow})));
  auto daemon = start_daemon(dir, api_port, cfg);

  // Under load: rows are being committed, and the slow machine's poll is in flight.
  REQUIRE(wait_until([&] {
    auto h = health(api_port);
    return h.is_object() && h["writer"]["rows_committed"].get<int64_t>() > 5000;
  }, 30s));
  auto h = health(api_port);
  REQUIRE(h["writer"]["dropped_samples"] == 0);

  auto t0 = std::chrono::steady_clock::now();
  daemon->signal(sig);
  int code = daemon->wait(30s);
  auto stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - t0).count();
  auto log = daemon->log();
  INFO(log);
  REQUIRE(code == 0);
  // Bound: the hanging poll's timeout_ms, then the final commit and checkpoint.
  CHECK(stop_ms < slow_timeout_ms + 3000);

  // The writer's own totals equal what is in the file: nothing held was lost.
  std::smatch m;
  REQUIRE(std::regex_search(log, m, std::regex(R"(writer closed: (\d+) samples in (\d+) rows)")));
  REQUIRE(log.find("could not be committed") == std::string::npos);
  REQUIRE(file_size(db_path + "-wal") == 0);  // TRUNCATE checkpoint at close
  ro_db db(db_path);
  REQUIRE(db.integrity() == "ok");
  int64_t rows = db.integer("SELECT count(*) FROM " + stored_polls + " t");
  REQUIRE(rows == std::stoll(m[2]));
  // Every reply edgemes-sim sent whole to the daemon is stored, none twice. On a
  // loaded box a reply may be sent after the poll's timeout_ms: the daemon never
  // got it, and counted the poll as failed (machines.polls_failed).
  size_t served_total = 0;
  int64_t late = 0;
  for (auto& mc : http) {
    std::string id = mc.at("id");
    auto stored = stored_seqs(db, id);
    auto served = served_seqs(sim_port, id);
    std::set<int64_t> uniq(stored.begin(), stored.end());
    served_total += served.size();
    REQUIRE(uniq.size() == stored.size());
    REQUIRE(std::includes(served.begin(), served.end(), uniq.begin(), uniq.end()));
    int64_t missing = static_cast<int64_t>(served.size() - uniq.size());
    INFO(id << ": " << missing << " served replies not stored");
    REQUIRE(missing <= db.integer("SELECT polls_failed FROM machines WHERE ident='" + id + "'"));
    late += missing;
  }
  std::cout << "[graceful " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << "] stop_ms=" << stop_ms
            << " (hanging poll timeout " << slow_timeout_ms << " ms) rows=" << rows
            << " http_replies_served=" << served_total << " stored=" << served_total - late
            << " (late past timeout: " << late << "), wal_bytes=0\n";
}

} // namespace

TEST_CASE("SIGTERM under load stores every received poll, checkpoints the WAL and exits 0 in bounded time",
          "[reliability][stop]") {
  graceful_stop_under_load(SIGTERM);
}

TEST_CASE("SIGINT under load stores every received poll, checkpoints the WAL and exits 0 in bounded time",
          "[reliability][stop]") {
  graceful_stop_under_load(SIGINT);
}
