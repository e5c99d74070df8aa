// Backup (docs/RELIABILITY.md, "Backup"): `edgemes backup` and POST
// /api/v1/admin/backup copy the database while ingest runs; the copy passes
// integrity_check and holds every poll committed before the backup began.
#include "tests/e2e/e2e_support.hpp"

#include <httplib.h>
#include <sqlite3.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <utility>

using namespace edgemes::test;
using nlohmann::json;

namespace {

const std::string token = "backup-token-0123456789abcdef";

using poll_key = std::pair<int64_t, int64_t>;  // (machine_id, ts)

// Every stored (machine, ts), through a read-only connection.
std::set<poll_key> committed_polls(const std::string& path) {
  std::set<poll_key> out;
  edgemes::test::ro_db db(path);
  for (auto& r : db.rows("SELECT machine_id, ts FROM " + edgemes::test::stored_polls + " t"))
    out.emplace(std::stoll(r[0]), std::stoll(r[1]));
  return out;
}

std::string integrity(const std::string& path) {
  sqlite3* db = nullptr;
  std::string result = "cannot open";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      result = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return result;
}

// 20 simulated machines polled every 10 ms, committed every 20 ms: heavy ingest.
std::string busy_config(const temp_dir& dir, int port, const std::string& tok) {
  json machines = json::array();
  const char* types[] = {"placer", "printer", "reflow", "aoi"};
  for (int i = 0; i < 20; ++i)
    machines.push_back({{"id", "m" + std::to_string(i)},
                        {"type", types[i % 4]},
                        {"poll_interval_ms", 10},
                        {"source", {{"adapter", "sim"}}}});
  json api = {{"port", port}, {"query_actors", 2}};
  if (!tok.empty())
    api["token"] = tok;
  json cfg = {{"site", "backup"},
              {"database", {{"path", dir.file("live.db")}}},
              {"writer", {{"flush_interval_ms", 20}}},
              {"api", api},
              {"lines", {{{"id", "l1"}, {"machines", machines}}}}};
  auto path = dir.file("backup.json");
  write_file(path, cfg.dump(2));
  return path;
}

int64_t committed_samples(int port, const httplib::Headers& h = {}) {
  httplib::Client cli("127.0.0.1", port);
  auto r = cli.Get("/api/v1/health", h);
  if (!r || r->status != 200)
    return -1;
  return json::parse(r->body)["writer"]["samples_committed"].get<int64_t>();
}

void check_copy(const std::string& copy, const std::set<poll_key>& before) {
  CHECK(integrity(copy) == "ok");
  auto after = committed_polls(copy);
  CHECK(after.size() >= before.size());
  size_t missing = 0;
  for (const auto& k : before)
    missing += after.count(k) == 0;
  CHECK(missing == 0);
  WARN("backup copy: " << after.size() << " polls; " << before.size()
       << " committed before it began, " << missing << " of them missing");
}

} // namespace

TEST_CASE("edgemes backup copies a live database consistently while ingest runs",
          "[security][backup]") {
  temp_dir dir;
  int port = free_port();
  auto cfg = busy_config(dir, port, "");
  auto daemon = start_daemon(dir, port, cfg);
  REQUIRE(wait_until([&] { return committed_samples(port) > 20000; }, std::chrono::seconds(20)));

  auto before = committed_polls(dir.file("live.db"));
  REQUIRE(before.size() > 1000);
  auto copy = dir.file("copy.db");
  process backup({binary("edgemes"), "backup", "--config", cfg, copy}, dir.file("backup.log"));
  int code = backup.wait(std::chrono::seconds(60));
  INFO(backup.log());
  REQUIRE(code == 0);
  CHECK(backup.log().find("written to " + copy) != std::string::npos);
  WARN(backup.log());

  // Ingest went on during and after the backup.
  auto mid = committed_samples(port);
  CHECK(wait_until([&] { return committed_samples(port) > mid; }, std::chrono::seconds(10)));
  check_copy(copy, before);

  // An existing file is never overwritten.
  process again({binary("edgemes"), "backup", "--config", cfg, copy}, dir.file("again.log"));
  CHECK(again.wait(std::chrono::seconds(30)) == 1);
  CHECK(again.log().find("already exists") != std::string::npos);

  daemon->signal(SIGTERM);
  CHECK(daemon->wait(std::chrono::seconds(20)) == 0);
  CHECK(integrity(dir.file("live.db")) == "ok");
}

TEST_CASE("POST /api/v1/admin/backup needs the token and writes only into the backup directory",
          "[security][backup]") {
  temp_dir dir;
  int port = free_port();
  {
    // Without a token the admin endpoint is disabled.
    auto cfg = busy_config(dir, port, "");
    auto daemon = start_daemon(dir, port, cfg, "notoken.log");
    httplib::Client cli("127.0.0.1", port);
    auto r = cli.Post("/api/v1/admin/backup", "", "application/json");
    REQUIRE(r);
    CHECK(r->status == 403);
    CHECK(json::parse(r->body)["error"]["code"] == "forbidden");
    daemon->signal(SIGTERM);
    CHECK(daemon->wait(std::chrono::seconds(20)) == 0);
  }
  auto cfg = busy_config(dir, port, token);
  auto daemon = std::make_unique<process>(
      std::vector<std::string>{binary("edgemes"), "run", "--config", cfg}, dir.file("token.log"));
  httplib::Headers auth{{"Authorization", "Bearer " + token}};
  REQUIRE(wait_until([&] { return committed_samples(port, auth) > 20000; },
                     std::chrono::seconds(20)));

  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(60, 0);
  auto anon = cli.Post("/api/v1/admin/backup", "", "application/json");
  REQUIRE(anon);
  CHECK(anon->status == 401);
  auto chosen = cli.Post("/api/v1/admin/backup?path=/tmp/evil.db", auth, "", "application/json");
  REQUIRE(chosen);
  CHECK(chosen->status == 400);
  CHECK_FALSE(std::filesystem::exists("/tmp/evil.db"));

  auto before = committed_polls(dir.file("live.db"));
  auto r = cli.Post("/api/v1/admin/backup", auth, "", "application/json");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  auto doc = json::parse(r->body);
  std::string path = doc["path"];
  CHECK(std::filesystem::path(path).parent_path() == std::filesystem::path(dir.file("backups")));
  CHECK(doc["bytes"].get<int64_t>() > 0);
  check_copy(path, before);
  WARN("admin backup: " << r->body);

  daemon->signal(SIGTERM);
  CHECK(daemon->wait(std::chrono::seconds(20)) == 0);
}
