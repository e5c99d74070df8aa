// Security (docs/RELIABILITY.md, "Security"): the bearer token, the bind
// address and its warning, read-only query connections, and the request
// size and row limits — each against a real daemon over 127.0.0.1.
#include "tests/e2e/e2e_support.hpp"
#include "tests/security/security_support.hpp"

#include "api/auth.hpp"
#include "api/server.hpp"
#include "storage/reader.hpp"

#include <httplib.h>
#include <sqlite3.h>

#include <csignal>

using namespace edgemes::test;
using nlohmann::json;

namespace {

const std::string token = "s3cret-token-for-tests-0123456789";

json sim_config(const temp_dir& dir, int port, const json& api_extra) {
  json api = {{"port", port}, {"query_actors", 2}};
  for (auto& [k, v] : api_extra.items())
    api[k] = v;
  return {{"site", "security"},
          {"database", {{"path", dir.file("sec.db")}}},
          {"writer", {{"flush_interval_ms", 50}}},
          {"api", api},
          {"lines",
           {{{"id", "l1"},
             {"machines",
              {{{"id", "p1"}, {"type", "placer"}, {"poll_interval_ms", 100},
                {"source", {{"adapter", "sim"}}}}}}}}}};
}

std::string write_config(const temp_dir& dir, const json& cfg) {
  auto path = dir.file("sec.json");
  write_file(path, cfg.dump(2));
  return path;
}

// A daemon started as `edgemes run` whose health answers with `headers`.
std::unique_ptr<process> start(const temp_dir& dir, int port, const std::string& cfg_path,
                               const httplib::Headers& headers = {}) {
  auto p = std::make_unique<process>(
      std::vector<std::string>{binary("edgemes"), "run", "--config", cfg_path},
      dir.file("edgemes.log"));
  bool up = wait_until(
      [&] { return request(port, "GET", "/api/v1/health", headers).status == 200 || !p->running(); },
      std::chrono::seconds(15));
  INFO(p->log());
  REQUIRE(up);
  REQUIRE(p->running());
  return p;
}

} // namespace

TEST_CASE("with api.token every request needs the right bearer token, else 401 JSON",
          "[security]") {
  temp_dir dir;
  int port = free_port();
  auto cfg = write_config(dir, sim_config(dir, port, {{"token", token}}));
  httplib::Headers right{{"Authorization", "Bearer " + token}};
  auto daemon = start(dir, port, cfg, right);

  struct deny {
    std::string what;
    httplib::Headers headers;
  };
  std::vector<deny> denied{
      {"no header", {}},
      {"empty bearer", {{"Authorization", "Bearer "}}},
      {"wrong token", {{"Authorization", "Bearer " + std::string(token.size(), 'x')}}},
      {"token + 1 char", {{"Authorization", "Bearer " + token + "x"}}},
      {"token - 1 char", {{"Authorization", "Bearer " + token.substr(1)}}},
      {"lower-case scheme", {{"Authorization", "bearer " + token}}},
      {"basic auth", {{"Authorization", "Basic dXNlcjpwYXNz"}}},
      {"token in another header", {{"X-Token", token}}},
  };
  for (const std::string target :
       {"/api/v1", "/api/v1/health", "/api/v1/machines", "/api/v1/machines/p1/samples?metric=head_temp_c",
        "/api/v1/nope"}) {
    for (const auto& d : denied) {
      INFO(target << " with " << d.what);
      auto r = request(port, "GET", target, d.headers);
      CHECK(r.status == 401);
      CHECK(r.www_authenticate.rfind("Bearer", 0) == 0);
      CHECK(r.doc["error"]["code"] == "unauthorized");
    }
    INFO(target << " with the right token");
    auto ok = request(port, "GET", target, right);
    CHECK(ok.status == (target == "/api/v1/nope" ? 404 : 200));
  }
  CHECK(request(port, "GET", "/api/v1/health?token=" + token, {}).status == 401);

  daemon->signal(SIGTERM);
  CHECK(daemon->wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("tokens are compared in full, whatever the length of the guess", "[security]") {
  using edgemes::api::tokens_equal;
  CHECK(tokens_equal(token, token));
  CHECK_FALSE(tokens_equal("", token));
  CHECK_FALSE(tokens_equal(token + "x", token));
  CHECK_FALSE(tokens_equal(token.substr(0, token.size() - 1), token));
  std::string last_differs = token;
  last_differs.back() = '!';
  CHECK_FALSE(tokens_equal(last_differs, token));
  CHECK_FALSE(tokens_equal(std::string(1000, 'a'), token));
}

TEST_CASE("the API binds to 127.0.0.1 by default and warns when exposed without a token",
          "[security]") {
  using edgemes::api::is_loopback;
  CHECK(is_loopback("127.0.0.1"));
  CHECK(is_loopback("localhost"));
  CHECK(is_loopback("::1"));
  CHECK_FALSE(is_loopback("0.0.0.0"));
  CHECK_FALSE(is_loopback("192.0.2.1"));

  temp_dir dir;
  int port = free_port();
  {
    auto cfg = write_config(dir, sim_config(dir, port, json::object()));
    auto daemon = start(dir, port, cfg);
    daemon->signal(SIGTERM);
    CHECK(daemon->wait(std::chrono::seconds(20)) == 0);
    auto log = daemon->log();
    INFO(log);
    CHECK(log.find("serving http://127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(log.find("without api.token") == std::string::npos);
  }
  // 192.0.2.1 (TEST-NET-1) is not loopback and not on this box: the warning
  // comes before the bind, which then fails — nothing is ever exposed.
  for (bool with_token : {false, true}) {
    json extra = {{"bind", "192.0.2.1"}};
    if (with_token)
      extra["token"] = token;
    auto cfg = write_config(dir, sim_config(dir, port, extra));
    process p({binary("edgemes"), "run", "--config", cfg},
              dir.file(with_token ? "token.log" : "notoken.log"));
    CHECK(p.wait(std::chrono::seconds(20)) == 1);
    auto log = p.log();
    INFO(log);
    CHECK(log.find("cannot listen on 192.0.2.1") != std::string::npos);
    CHECK((log.find("without api.token") != std::string::npos) == !with_token);
  }
}

TEST_CASE("a query connection of a running daemon cannot write or checkpoint", "[security]") {
  temp_dir dir;
  int port = free_port();
  auto cfg = write_config(dir, sim_config(dir, port, json::object()));
  auto daemon = start(dir, port, cfg);

  // The same connection the daemon's query workers use (run.cpp opens them so).
  auto r = edgemes::storage::reader::open(dir.file("sec.db"), edgemes::storage::options{});
  for (const char* sql :
       {"INSERT INTO lines(ident, name) VALUES('evil', 'evil')", "DELETE FROM chunks",
        "DELETE FROM ingest_log", "UPDATE machines SET name='x'", "DROP TABLE chunks",
        "CREATE TABLE t(x)",
        "PRAGMA user_version=99"}) {
    INFO(sql);
    int rc = sqlite3_exec(r->handle(), sql, nullptr, nullptr, nullptr);
    CHECK((rc & 0xff) == SQLITE_READONLY);
  }
  int log_frames = -1, ckpt = -1;
  int rc = sqlite3_wal_checkpoint_v2(r->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                     &log_frames, &ckpt);
  CHECK(rc != SQLITE_OK);  // a read-only connection never checkpoints
  CHECK(get_json(port, "/api/v1/lines")["lines"][0]["id"] == "l1");
  CHECK(get_json(port, "/api/v1/lines")["lines"].size() == 1);

  daemon->signal(SIGTERM);
  CHECK(daemon->wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("request size limits and the row limit are enforced with JSON errors", "[security]") {
  temp_dir dir;
  int port = free_port();
  auto cfg = write_config(dir, sim_config(dir, port, json::object()));
  auto daemon = start(dir, port, cfg);
  const std::string S = "/api/v1/machines/p1/samples?metric=head_temp_c";

  struct limit_case {
    std::string what;
    std::string target;
    httplib::Headers headers;
    int status;
  };
  httplib::Headers many;
  for (size_t i = 0; i <= edgemes::api::max_header_fields; ++i)
    many.emplace("X-H" + std::to_string(i), "v");
  std::vector<limit_case> cases{
      {"URI of 8 KiB + 1", "/api/v1/lines?x=" + std::string(8192, 'x'), {}, 414},
      {"header line over 8 KiB", "/api/v1/lines", {{"X-Big", std::string(8300, 'h')}}, 400},
      {"101 header fields", "/api/v1/lines", many, 431},
      {"limit over 100000 rows", S + "&limit=100001", {}, 400},
      {"more than 10000 buckets",
       "/api/v1/machines/p1/series?metric=head_temp_c&from=0&to=10001000&step_ms=1000", {}, 400},
      {"a 100-year range at 1 s steps",
       "/api/v1/machines/p1/series?metric=head_temp_c&from=0&to=3155760000000&step_ms=1000", {},
       400},
      // within the limits
      {"URI just under 8 KiB", "/api/v1/lines?" + std::string(8000, 'x'), {}, 400},
      {"limit of 100000 rows", S + "&limit=100000", {}, 200},
      {"a 100-year range at the default step",
       "/api/v1/machines/p1/series?metric=head_temp_c&from=0&to=3155760000000", {}, 200},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = request(port, "GET", c.target, c.headers);
    CHECK(r.status == c.status);
    if (c.status != 200)
      CHECK(r.doc["error"]["code"].is_string());
  }
  httplib::Client cli("127.0.0.1", port);
  auto body = cli.Post("/api/v1/lines", std::string(64 * 1024 + 1, 'b'), "text/plain");
  REQUIRE(body);
  CHECK(body->status == 413);
  CHECK(get_json(port, "/api/v1/health")["status"] == "ok");

  daemon->signal(SIGTERM);
  CHECK(daemon->wait(std::chrono::seconds(20)) == 0);
}
