// Token roles (docs/API.md, "Roles"): read < operate < admin. The route
// table's roles, the decision of api/auth as a function, then over real HTTP
// on 127.0.0.1: the real api::server with a table of test routes (this branch
// has no operate route of its own yet: its row names no role, so it shows
// that any non-GET route needs operate by default), and `edgemes run` with
// tokens read from files on disk and the old inline api.token as admin.
#include "tests/e2e/e2e_support.hpp"
#include "tests/security/security_support.hpp"

#include "api/auth.hpp"
#include "api/handlers.hpp"
#include "api/route.hpp"
#include "api/server.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <httplib.h>
#include <sys/stat.h>

#include <csignal>
#include <cstring>
#include <filesystem>

using namespace edgemes::test;
using edgemes::config::api_role;
using nlohmann::json;
namespace api = edgemes::api;

namespace {

const std::string read_token = "read-role-token-0123456789";
const std::string operate_token = "operate-role-token-0123456789";
const std::string admin_token = "admin-role-token-0123456789";
const std::string inline_token = "inline-admin-token-0123456789";

std::vector<edgemes::config::api_token_config> three_tokens() {
  return {{api_role::read, "", "reader", read_token},
          {api_role::operate, "", "operator", operate_token},
          {api_role::admin, "", "admin", admin_token}};
}

httplib::Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

// The handler of every test route: it answers only when the guard let the request through.
void reached(const api::api_context&, const api::request&, httplib::Response& res) {
  res.set_content(R"({"reached": true})", "application/json");
}

const std::vector<api::route>& test_routes() {
  static const std::vector<api::route> table = {
      {"GET", "/api/v1", {}, "the index", api::handlers::index},
      {"GET", "/api/v1/test/read", {}, "a read", reached},
      {"POST", "/api/v1/test/write", {}, "a write whose row names no role", reached},
      {"POST", "/api/v1/test/admin", {}, "an admin write", reached, api_role::admin},
  };
  return table;
}

// The real api::server on a free port of 127.0.0.1, serving test_routes().
// Its query pool has no workers: no test route runs a query.
class test_server {
public:
  explicit test_server(std::vector<edgemes::config::api_token_config> tokens)
      : sys_(cfg_) {
    api::server_settings s;
    s.port = 0;
    s.tokens = std::move(tokens);
    auto pool = std::make_shared<edgemes::actors::query_pool>(
        sys_, std::vector<std::unique_ptr<edgemes::storage::reader>>{}, 1);
    server_ = std::make_unique<api::server>(pool, std::make_shared<edgemes::actors::ingest_gauge>(1),
                                            s, edgemes::actors::writer_actor{}, test_routes());
    std::string error;
    REQUIRE(server_->bind(&error));
    server_->start();
  }
  ~test_server() { server_->stop(); }
  int port() const { return server_->port(); }

private:
  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  std::unique_ptr<api::server> server_;
};

// Writes `token` to a file of mode `mode` and returns its path.
std::string token_file(const temp_dir& dir, const std::string& name, const std::string& token,
                       mode_t mode = 0600) {
  const auto path = dir.file(name);
  write_file(path, token + "\n");
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

} // namespace

TEST_CASE("GET routes need read, the backup admin, and any other write operate unless its row says",
          "[security][roles]") {
  size_t writes = 0;
  for (const auto& r : api::route_table()) {
    INFO(r.method << " " << r.path);
    if (std::strcmp(r.method, "GET") == 0)
      CHECK(r.required() == api_role::read);
    else if (std::strcmp(r.path, "/api/v1/admin/backup") == 0)
      CHECK(r.required() == api_role::admin);
    else
      CHECK(r.required() == api_role::operate);
    writes += std::strcmp(r.method, "GET") != 0;
  }
  CHECK(writes >= 1);
  // A row that names no role, as a new write route would be written.
  const api::route put{"PUT", "/api/v1/x", {}, "x", reached};
  CHECK(put.required() == api_role::operate);
  const api::route get{"GET", "/api/v1/x", {}, "x", reached};
  CHECK(get.required() == api_role::read);
  const api::route named{"GET", "/api/v1/x", {}, "x", reached, api_role::admin};
  CHECK(named.required() == api_role::admin);
}

TEST_CASE("authorize: who may use a read, operate or admin route", "[security][roles]") {
  const api::token_set none;
  const api::token_set tokens(three_tokens());
  struct row {
    const api::token_set* set;
    std::string header;
    int read, operate, admin;  // expected status per route role (0 = allowed)
  };
  const std::vector<row> rows{
      {&none, "", 0, 403, 403},
      {&none, "Bearer " + admin_token, 0, 403, 403},  // no token configured: nobody is known
      {&tokens, "", 401, 401, 401},
      {&tokens, "Bearer " + std::string(admin_token.size(), 'x'), 401, 401, 401},
      {&tokens, "bearer " + admin_token, 401, 401, 401},
      {&tokens, "Bearer " + admin_token + " ", 401, 401, 401},
      {&tokens, "Bearer " + read_token, 0, 403, 403},
      {&tokens, "Bearer " + operate_token, 0, 0, 403},
      {&tokens, "Bearer " + admin_token, 0, 0, 0},
  };
  for (const auto& r : rows) {
    INFO((r.set == &none ? "no tokens" : "three tokens") << ", header '" << r.header << "'");
    CHECK(api::authorize(*r.set, r.header, api_role::read, "R").status == r.read);
    CHECK(api::authorize(*r.set, r.header, api_role::operate, "O").status == r.operate);
    CHECK(api::authorize(*r.set, r.header, api_role::admin, "A").status == r.admin);
  }
  auto low = api::authorize(tokens, "Bearer " + read_token, api_role::operate, "POST /x");
  CHECK(low.code == "forbidden");
  CHECK(low.message == "POST /x needs role 'operate' (or higher); the token presented has role 'read'");
  auto unset = api::authorize(none, "", api_role::admin, "POST /y");
  CHECK(unset.message == "POST /y needs a token with role 'admin' and no token is configured: add "
                         "one to api.tokens (or set api.token, which has role admin)");
}

TEST_CASE("a presented token is found among all configured ones, whichever it is", "[security][roles]") {
  const api::token_set tokens(three_tokens());
  const std::vector<std::pair<std::string, std::string>> found{
      {read_token, "reader"}, {operate_token, "operator"}, {admin_token, "admin"}};
  for (const auto& [token, name] : found) {
    const auto* who = tokens.find(token);
    REQUIRE(who);
    CHECK(who->name == name);
  }
  CHECK(tokens.find("") == nullptr);
  CHECK(tokens.find(admin_token.substr(1)) == nullptr);
  CHECK(tokens.find(admin_token + "x") == nullptr);
  std::string last_differs = admin_token;
  last_differs.back() = '!';
  CHECK(tokens.find(last_differs) == nullptr);
}

TEST_CASE("over HTTP each role reaches the routes of its role and below, 403 above, 401 unknown",
          "[security][roles]") {
  test_server server(three_tokens());
  const int port = server.port();
  struct caller {
    std::string what;
    httplib::Headers headers;
    int read, write, admin;
  };
  const std::vector<caller> callers{
      {"no token", {}, 401, 401, 401},
      {"a wrong token", bearer("wrong-token-0123456789abcdef"), 401, 401, 401},
      {"the read token", bearer(read_token), 200, 403, 403},
      {"the operate token", bearer(operate_token), 200, 200, 403},
      {"the admin token", bearer(admin_token), 200, 200, 200},
  };
  for (const auto& c : callers) {
    INFO(c.what);
    auto read = request(port, "GET", "/api/v1/test/read", c.headers);
    auto write = request(port, "POST", "/api/v1/test/write", c.headers);
    auto admin = request(port, "POST", "/api/v1/test/admin", c.headers);
    CHECK(read.status == c.read);
    CHECK(write.status == c.write);
    CHECK(admin.status == c.admin);
    for (const auto* r : {&read, &write, &admin}) {
      if (r->status == 200)
        CHECK(r->doc["reached"] == true);
      if (r->status == 401) {
        CHECK(r->www_authenticate.rfind("Bearer", 0) == 0);
        CHECK(r->doc["error"]["code"] == "unauthorized");
      }
      if (r->status == 403) {
        CHECK(r->doc["error"]["code"] == "forbidden");
        CHECK(r->www_authenticate.empty());
      }
    }
  }
  auto low = request(port, "POST", "/api/v1/test/write", bearer(read_token));
  CHECK(low.doc["error"]["message"] == "POST /api/v1/test/write needs role 'operate' (or higher); "
                                       "the token presented has role 'read'");
  auto index = request(port, "GET", "/api/v1", bearer(read_token));
  REQUIRE(index.status == 200);
  std::map<std::string, std::string> roles;
  for (const auto& r : index.doc["routes"])
    roles[r["method"].get<std::string>() + " " + r["path"].get<std::string>()] = r["role"];
  CHECK(roles == std::map<std::string, std::string>{{"GET /api/v1", "read"},
                                                    {"GET /api/v1/test/read", "read"},
                                                    {"POST /api/v1/test/write", "operate"},
                                                    {"POST /api/v1/test/admin", "admin"}});
}

TEST_CASE("over HTTP without any token reads are open and every write answers 403", "[security][roles]") {
  test_server server({});
  const int port = server.port();
  CHECK(request(port, "GET", "/api/v1/test/read", {}).status == 200);
  auto write = request(port, "POST", "/api/v1/test/write", {});
  CHECK(write.status == 403);
  CHECK(write.doc["error"]["message"] ==
        "POST /api/v1/test/write needs a token with role 'operate' and no token is configured: add "
        "one to api.tokens (or set api.token, which has role admin)");
  // A token presented to a daemon that has none is no credential.
  CHECK(request(port, "POST", "/api/v1/test/admin", bearer(admin_token)).status == 403);
}

TEST_CASE("edgemes run: tokens from files get their roles, api.token is admin, a shared file warns",
          "[security][roles]") {
  temp_dir dir;
  const int port = free_port();
  json tokens = {{{"role", "read"}, {"file", token_file(dir, "read.token", read_token, 0644)}},
                 {{"role", "operate"}, {"file", token_file(dir, "operate.token", operate_token)}},
                 {{"role", "admin"}, {"file", token_file(dir, "admin.token", admin_token)},
                  {"name", "ops laptop"}}};
  json cfg = {{"site", "roles"},
              {"database", {{"path", dir.file("roles.db")}}},
              {"writer", {{"flush_interval_ms", 50}}},
              {"api", {{"port", port}, {"query_actors", 1}, {"token", inline_token}, {"tokens", tokens}}},
              {"lines",
               {{{"id", "l1"},
                 {"machines",
                  {{{"id", "p1"}, {"type", "placer"}, {"poll_interval_ms", 100},
                    {"source", {{"adapter", "sim"}}}}}}}}}};
  const auto cfg_path = dir.file("roles.json");
  write_file(cfg_path, cfg.dump(2));

  // check-config reads the files too, and names the one others may read.
  process check({binary("edgemes"), "check-config", cfg_path}, dir.file("check.log"));
  CHECK(check.wait(std::chrono::seconds(20)) == 0);
  CHECK(check.log().find("warning: /api/tokens/0/file: " + dir.file("read.token") +
                         " can be read by group or others (mode 0644)") != std::string::npos);

  process daemon({binary("edgemes"), "run", "--config", cfg_path}, dir.file("edgemes.log"));
  REQUIRE(wait_until(
      [&] { return request(port, "GET", "/api/v1/health", bearer(read_token)).status == 200 || !daemon.running(); },
      std::chrono::seconds(15)));
  INFO(daemon.log());
  REQUIRE(daemon.running());
  CHECK(daemon.log().find("/api/tokens/0/file: " + dir.file("read.token") +
                          " can be read by group or others") != std::string::npos);

  for (const auto& token : {read_token, operate_token, admin_token, inline_token}) {
    INFO("token " << token);
    CHECK(request(port, "GET", "/api/v1/machines", bearer(token)).status == 200);
  }
  CHECK(request(port, "GET", "/api/v1/machines", {}).status == 401);
  CHECK(request(port, "GET", "/api/v1/machines", bearer("not-a-configured-token-01")).status == 401);

  auto by_read = request(port, "POST", "/api/v1/admin/backup", bearer(read_token));
  CHECK(by_read.status == 403);
  CHECK(by_read.doc["error"]["message"] == "POST /api/v1/admin/backup needs role 'admin' (or "
                                           "higher); the token presented has role 'read'");
  auto by_operate = request(port, "POST", "/api/v1/admin/backup", bearer(operate_token));
  CHECK(by_operate.status == 403);
  CHECK(by_operate.doc["error"]["message"].get<std::string>().find("has role 'operate'") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("backups")));
  for (const auto& token : {admin_token, inline_token}) {
    INFO("backup with " << token);
    auto r = request(port, "POST", "/api/v1/admin/backup", bearer(token));
    CHECK(r.status == 200);
    CHECK(std::filesystem::exists(r.doc["path"].get<std::string>()));
  }
  auto index = request(port, "GET", "/api/v1", bearer(read_token));
  for (const auto& r : index.doc["routes"]) {
    INFO(r.dump());
    const char* role = r["method"] == "GET"                    ? "read"
                       : r["path"] == "/api/v1/admin/backup" ? "admin"
                                                              : "operate";
    CHECK(r["role"] == role);
  }

  daemon.signal(SIGTERM);
  CHECK(daemon.wait(std::chrono::seconds(20)) == 0);
}
