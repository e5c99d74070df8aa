// The schema v3 -> v4 migration of a real file, interrupted by kill -9: the
// migration is one transaction, so a kill leaves the file at version 3 with
// everything in it, and the next start migrates it whole. The file is
// tests/storage/data/v3-factory.db (written by the v3 release) enlarged 600
// times with the same rows shifted back in time, so that the migration takes
// long enough to be killed in the middle.
#include "storage/codec.hpp"
#include "tests/reliability/rel_support.hpp"

#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

using namespace edgemes::test;
using namespace edgemes::test::rel;
using namespace std::chrono_literals;

namespace {

// (machine, ts, slot) -> value bits of every sample of a version 3 file.
using sample_key = std::tuple<int64_t, int64_t, int64_t>;

std::map<sample_key, double> v3_samples(sqlite3* db) {
  std::map<sample_key, double> out;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT machine_id, ts, v FROM telemetry", -1, &s, nullptr) ==
          SQLITE_OK);
  std::vector<double> values;
  while (sqlite3_step(s) == SQLITE_ROW) {
    REQUIRE(edgemes::storage::decode_all(reinterpret_cast<const char*>(sqlite3_column_text(s, 2)),
                                         static_cast<size_t>(sqlite3_column_bytes(s, 2)), values));
    for (size_t i = 0; i < values.size(); ++i)
      if (std::isfinite(values[i]))
        out[{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), static_cast<int64_t>(i)}] =
            values[i];
  }
  sqlite3_finalize(s);
  return out;
}

int64_t user_version(const std::string& path) {
  ro_db db(path);
  return db.integer("PRAGMA user_version");
}

} // namespace

TEST_CASE("kill -9 in the middle of the v3 to v4 migration loses nothing and the next start "
          "finishes it",
          "[reliability][migration]") {
  temp_dir dir;
  const std::string path = dir.file("factory.db");
  std::filesystem::copy_file(EDGEMES_SOURCE_DIR "/tests/storage/data/v3-factory.db", path);
  std::map<sample_key, double> want;
  int64_t v3_max_ts = 0;
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(
        db,
        "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 600) "
        "INSERT INTO telemetry SELECT t.machine_id, t.ts - k.n * 30000, t.v FROM telemetry t, k",
        nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
    want = v3_samples(db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT max(ts) FROM telemetry", -1, &s, nullptr);
    sqlite3_step(s);
    v3_max_ts = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  REQUIRE(want.size() > 1'500'000);
  const std::string pristine = dir.file("v3-enlarged.db");
  std::filesystem::copy_file(path, pristine);

  // The fixture's machines, polled by the daemon once the file is migrated.
  json machines = json::array();
  for (auto [id, type] : {std::pair{"smt1-printer1", "printer"}, {"smt1-placer1", "placer"},
                          {"smt1-reflow1", "reflow"}, {"smt2-placer1", "placer"},
                          {"smt2-aoi1", "aoi"}})
    machines.push_back(sim_machine(id, type, 200));
  const int api_port = free_port();
  auto cfg = write_config(dir, api_port, path, machines);

  std::mt19937 rng(std::random_device{}());
  int interrupted = 0;
  for (int round = 0; round < 12 && interrupted < 3; ++round) {
    process daemon({binary("edgemes"), "run", "--config", cfg},
                   dir.file("migrate-" + std::to_string(round) + ".log"));
    // Kill it a random moment after it announced the migration.
    bool announced = wait_until([&] {
      return daemon.log().find("migrating") != std::string::npos || !daemon.running();
    }, 20s);
    INFO(daemon.log());
    REQUIRE(announced);
    REQUIRE(daemon.running());
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(0, 200)(rng)));
    daemon.signal(SIGKILL);
    REQUIRE(daemon.wait(5s) == 128 + SIGKILL);
    const int64_t version = user_version(path);
    INFO("round " << round << ": version " << version << " after the kill");
    REQUIRE((version == 3 || version == 5));
    if (version == 5) {
      // The migration finished before the kill: start over from the version 3 file.
      for (const char* ext : {"-wal", "-shm"})
        std::filesystem::remove(path + ext);
      std::filesystem::copy_file(pristine, path, std::filesystem::copy_options::overwrite_existing);
      continue;
    }
    ++interrupted;
    ro_db db(path);
    REQUIRE(db.integrity() == "ok");
    REQUIRE(db.integer("SELECT count(*) FROM telemetry") > 1'500'000 / 7);
  }
  INFO(interrupted << " kills landed in the migration");
  CHECK(interrupted >= 1);

  // A clean start finishes it; then every sample of the version 3 file is
  // there, exactly once, with the same value bits.
  auto daemon = start_daemon(dir, api_port, cfg, "final.log");
  daemon->signal(SIGTERM);
  REQUIRE(daemon->wait(15s) == 0);
  ro_db db(path);
  REQUIRE(db.integer("PRAGMA user_version") == 5);
  REQUIRE(db.integrity() == "ok");
  REQUIRE(db.integer(polls_stored_twice) == 0);
  sqlite3_stmt* s = nullptr;
  const std::string sql =
      "SELECT c.machine_id, p.ts, p.slot, p.value FROM chunks c, edgemes_chunk(c.data) p "
      "UNION ALL SELECT p.machine_id, p.ts, p.slot, p.value FROM ingest_log l, "
      "edgemes_log(l.data) p";
  REQUIRE(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  int64_t matched = 0, extra_old = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    const int64_t ts = sqlite3_column_int64(s, 1);
    if (ts > v3_max_ts)
      continue;  // polled after the migration
    auto it = want.find({sqlite3_column_int64(s, 0), ts, sqlite3_column_int64(s, 2)});
    if (it == want.end()) {
      ++extra_old;
      continue;
    }
    const double v = sqlite3_column_double(s, 3);
    REQUIRE(std::memcmp(&v, &it->second, sizeof v) == 0);
    ++matched;
  }
  sqlite3_finalize(s);
  CHECK(extra_old == 0);
  CHECK(matched == static_cast<int64_t>(want.size()));
  std::cout << "[migration] " << want.size() << " samples of a v3 file, " << interrupted
            << " kill -9 in the migration, all " << matched << " read back bit for bit\n";
}
