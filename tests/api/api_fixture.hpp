// tests/api: one real edgemes daemon shared by the API tests of a test
// process, and a raw HTTP call that keeps what the API tests look at (status,
// body parsed as JSON, Content-Type, Allow).
//
// The daemon runs two lines of simulated machines polled every 50 ms, so a
// few seconds after start-up there are enough points to page through.
// catch_discover_tests runs each TEST_CASE in its own process, so under CTest
// every test case gets a fresh daemon; run directly, they share one.
#pragma once

#include "tests/e2e/e2e_support.hpp"

#include <httplib.h>
#include <sqlite3.h>

namespace edgemes::test::api {

using nlohmann::json;

struct reply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
  json doc;  // discarded (is_discarded()) when the body is not JSON
};

inline reply call(int port, const std::string& method, const std::string& target,
                  const httplib::Headers& headers = {}) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(10, 0);
  cli.set_write_timeout(10, 0);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "GET")
    res = cli.Get(target.c_str(), headers);
  else if (method == "POST")
    res = cli.Post(target.c_str(), headers, "{}", "application/json");
  else if (method == "PUT")
    res = cli.Put(target.c_str(), headers, "{}", "application/json");
  else if (method == "PATCH")
    res = cli.Patch(target.c_str(), headers, "{}", "application/json");
  else if (method == "DELETE")
    res = cli.Delete(target.c_str(), headers);
  else if (method == "OPTIONS")
    res = cli.Options(target.c_str(), headers);
  reply out;
  if (!res)
    return out;
  out.status = res->status;
  out.body = res->body;
  out.content_type = res->get_header_value("Content-Type");
  out.allow = res->get_header_value("Allow");
  out.doc = json::parse(out.body, nullptr, false);
  return out;
}

inline reply get(int port, const std::string& target) {
  return call(port, "GET", target);
}

// A 200 JSON object reply of `target` (fails the test otherwise).
inline json ok_doc(int port, const std::string& target) {
  auto r = get(port, target);
  INFO(target << " -> " << r.status << " " << r.body.substr(0, 300));
  REQUIRE(r.status == 200);
  CHECK(r.content_type.rfind("application/json", 0) == 0);
  REQUIRE(r.doc.is_object());
  return r.doc;
}

// `target` answers `status` with error `code` and a message that mentions `mention`.
inline void check_error(int port, const std::string& target, int status, const std::string& code,
                        const std::string& mention) {
  auto r = get(port, target);
  INFO(target << " -> " << r.status << " " << r.body.substr(0, 300));
  CHECK(r.status == status);
  REQUIRE(r.doc.is_object());
  CHECK(r.doc["error"]["code"] == code);
  CHECK(r.doc["error"]["message"].get<std::string>().find(mention) != std::string::npos);
}

class daemon {
public:
  static daemon& shared() {
    static daemon d;
    return d;
  }
  int port() const { return port_; }
  std::string db_path() const { return dir_.file("api.db"); }

  // COUNT(*) of a table (or `stored_polls t`), read straight from the file (read-only).
  int64_t count_rows(const std::string& table) const {
    sqlite3* db = nullptr;
    int64_t n = -1;
    if (sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, nullptr);
      sqlite3_load_extension(db, EDGEMES_BINARY_DIR "/bin/edgemes", nullptr, nullptr);
      sqlite3_stmt* st = nullptr;
      std::string sql = "SELECT COUNT(*) FROM " + table;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
          sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
      sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
  }

private:
  daemon() : port_(free_port()) {
    auto machine = [](const std::string& id, const std::string& type) {
      return json{{"id", id}, {"type", type}, {"poll_interval_ms", 50},
                  {"source", {{"adapter", "sim"}}}};
    };
    auto with_e10 = [](json m) {
      m["e10"] = {{"ALARM", "SDT"}};
      return m;
    };
    json cfg = {
        {"site", "api-test"},
        {"database", {{"path", db_path()}}},
        {"writer", {{"flush_interval_ms", 50}}},
        {"api", {{"bind", "127.0.0.1"}, {"port", port_}, {"query_actors", 2}}},
        // E10: placers' IDLE is engineering here, smt1-placer1's ALARM scheduled downtime.
        {"e10", {{"types", {{"placer", {{"IDLE", "ENG"}}}}}}},
        {"lines",
         {{{"id", "smt1"},
           {"name", "SMT Line 1"},
           {"machines",
            {machine("smt1-printer", "printer"), with_e10(machine("smt1-placer1", "placer")),
             machine("smt1-placer2", "placer"), machine("smt1-reflow", "reflow"),
             machine("smt1-aoi", "aoi")}}},
          {{"id", "smt2"}, {"name", "SMT Line 2"}, {"machines", {machine("smt2-aoi", "aoi")}}}}},
    };
    auto path = dir_.file("api.json");
    write_file(path, cfg.dump(2));
    proc_ = start_daemon(dir_, port_, path);
    bool data = wait_until(
        [&] {
          auto r = get(port_, "/api/v1/machines/smt1-placer1/samples?metric=head_temp_c&from=0");
          return r.status == 200 && r.doc["points"].size() >= 40;
        },
        std::chrono::seconds(20));
    INFO(proc_->log());
    REQUIRE(data);
  }

  temp_dir dir_;
  int port_;
  std::unique_ptr<process> proc_;  // declared after dir_: killed before the files go
};

} // namespace edgemes::test::api
