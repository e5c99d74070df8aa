// tests/e2e: helpers shared by the end-to-end tests — a daemon and a
// simulator started as real processes on free loopback ports, and a
// read-only look into their SQLite file (it can never write or checkpoint).
#pragma once

#include "tests/support/test_support.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace edgemes::test {

// Every stored poll as rows (machine_id, ts), wherever it is (schema v4:
// chunks or the ingest log); use as `FROM <stored_polls> t`.
inline const std::string stored_polls =
    "(SELECT DISTINCT machine_id, ts FROM (SELECT c.machine_id, p.ts FROM chunks c, "
    "edgemes_chunk(c.data) p UNION ALL SELECT p.machine_id, p.ts FROM ingest_log l, "
    "edgemes_log(l.data) p))";

// (machine_id, ts) pairs stored in more than one row (a chunk and a log row,
// or two of either): the storage invariant says none.
inline const std::string polls_stored_twice =
    "SELECT count(*) FROM (SELECT machine_id, ts FROM (SELECT DISTINCT 'c' || c.start AS row, "
    "c.machine_id, p.ts FROM chunks c, edgemes_chunk(c.data) p UNION ALL SELECT DISTINCT "
    "'l' || l.id, p.machine_id, p.ts FROM ingest_log l, edgemes_log(l.data) p) "
    "GROUP BY machine_id, ts HAVING count(*) > 1)";

// A read-only connection to the daemon's file, like the daemon's query workers,
// with edgemes's loadable extension (bin/edgemes.so) loaded as a user of the
// stock sqlite3 shell would: the views and the SQL above need it.
class ro_db {
public:
  explicit ro_db(const std::string& path) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
    INFO(path << ": " << (db_ ? sqlite3_errmsg(db_) : "no handle"));
    REQUIRE(rc == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, nullptr);
    char* err = nullptr;
    rc = sqlite3_load_extension(db_, EDGEMES_BINARY_DIR "/bin/edgemes", nullptr, &err);
    INFO("load " EDGEMES_BINARY_DIR "/bin/edgemes: " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  ~ro_db() { sqlite3_close(db_); }
  ro_db(const ro_db&) = delete;
  ro_db& operator=(const ro_db&) = delete;
  sqlite3* get() const { return db_; }

  int64_t integer(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr);
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_OK);
    rc = sqlite3_step(s);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    std::string err = sqlite3_errmsg(db_);
    sqlite3_finalize(s);
    INFO(sql << ": " << err);
    REQUIRE((rc == SQLITE_ROW || rc == SQLITE_DONE));
    return v;
  }

  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    std::vector<std::vector<std::string>> out;
    sqlite3_stmt* s = nullptr;
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        auto t = sqlite3_column_text(s, i);
        row.push_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    REQUIRE(rc == SQLITE_DONE);
    return out;
  }

  std::string integrity() {
    auto r = rows("PRAGMA integrity_check");
    std::string out;
    for (auto& row : r)
      out += row.at(0) + ";";
    return out == "ok;" ? "ok" : out;
  }

private:
  sqlite3* db_ = nullptr;
};


inline nlohmann::json get_json(int port, const std::string& target, int* status = nullptr) {
  auto r = http_get(port, target);
  if (status)
    *status = r.status;
  if (r.status == 0)
    return nullptr;
  return nlohmann::json::parse(r.body, nullptr, false);
}

// Starts `edgemes-sim` for the machines of `config_path` and waits until it answers.
inline std::unique_ptr<process> start_sim(const temp_dir& dir, int port,
                                          const std::string& config_path,
                                          const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{binary("edgemes-sim"), "--port", std::to_string(port), "--config",
                                config_path};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = std::make_unique<process>(argv, dir.file("sim.log"));
  bool up = wait_until([&] { return http_get(port, "/machines").status == 200; },
                       std::chrono::seconds(10));
  INFO(p->log());
  REQUIRE(up);
  return p;
}

// Starts `edgemes run --config FILE` and waits until /api/v1/health answers
// (`healthy`, for a daemon with a token: until it says so).
inline std::unique_ptr<process> start_daemon(const temp_dir& dir, int port,
                                             const std::string& config_path,
                                             const std::string& log_name = "edgemes.log",
                                             std::function<bool()> healthy = {}) {
  if (!healthy)
    healthy = [port] { return http_get(port, "/api/v1/health").status == 200; };
  auto p = std::make_unique<process>(
      std::vector<std::string>{binary("edgemes"), "run", "--config", config_path},
      dir.file(log_name));
  bool up = wait_until([&] { return healthy() || !p->running(); }, std::chrono::seconds(15));
  INFO(p->log());
  REQUIRE(up);
  REQUIRE(p->running());
  return p;
}

} // namespace edgemes::test
