// tests/web/static_site_test: the dashboard's files as the daemon serves them
// (api/static_site) — over real HTTP from a real `edgemes run` on 127.0.0.1.
#include "tests/e2e/e2e_support.hpp"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using namespace edgemes::test;

namespace {

// A one-machine sim config on `port`, with `token` when not empty.
std::string config(const temp_dir& dir, int port, const std::string& token = "") {
  std::string path = dir.file("site.json");
  nlohmann::json c = {
      {"site", "web-test"},
      {"database", {{"path", dir.file("site.db")}}},
      {"api", {{"bind", "127.0.0.1"}, {"port", port}}},
      {"lines",
       {{{"id", "l1"},
         {"machines",
          {{{"id", "m1"}, {"type", "placer"}, {"source", {{"adapter", "sim"}}}}}}}}}};
  if (!token.empty())
    c["api"]["token"] = token;
  write_file(path, c.dump(2));
  return path;
}

httplib::Result get(int port, const std::string& path, const httplib::Headers& headers = {}) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(5, 0);
  return cli.Get(path.c_str(), headers);
}

} // namespace

TEST_CASE("GET / serves the dashboard page with its content type, ETag and a strict CSP",
          "[web]") {
  temp_dir dir;
  int port = free_port();
  auto daemon = start_daemon(dir, port, config(dir, port));

  auto r = get(port, "/");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(r->body.find("/assets/app.js") != std::string::npos);
  auto csp = r->get_header_value("Content-Security-Policy");
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(r->get_header_value("Cache-Control") == "no-cache");
  CHECK(r->get_header_value("X-Content-Type-Options") == "nosniff");
  auto etag = r->get_header_value("ETag");
  REQUIRE(etag.size() == 34);  // a strong tag: 32 hex digits in quotes
  CHECK(etag.front() == '"');
  CHECK(etag.back() == '"');
  // The page has no inline script: every <script> names a src.
  CHECK(r->body.find("<script>") == std::string::npos);
}

TEST_CASE("a file whose ETag the browser already holds answers 304 without a body", "[web]") {
  temp_dir dir;
  int port = free_port();
  auto daemon = start_daemon(dir, port, config(dir, port));

  auto first = get(port, "/assets/app.js");
  REQUIRE(first);
  REQUIRE(first->status == 200);
  auto etag = first->get_header_value("ETag");
  auto again = get(port, "/assets/app.js", {{"If-None-Match", etag}});
  REQUIRE(again);
  CHECK(again->status == 304);
  CHECK(again->body.empty());
  CHECK(again->get_header_value("ETag") == etag);
  // A weak form of the same tag, in a list, matches too; another tag does not.
  auto listed = get(port, "/assets/app.js", {{"If-None-Match", "\"x\", W/" + etag}});
  REQUIRE(listed);
  CHECK(listed->status == 304);
  auto other = get(port, "/assets/app.js", {{"If-None-Match", "\"0123\""}});
  REQUIRE(other);
  CHECK(other->status == 200);
  CHECK(other->body == first->body);
}

TEST_CASE("each asset has its content type, uPlot included", "[web]") {
  temp_dir dir;
  int port = free_port();
  auto daemon = start_daemon(dir, port, config(dir, port));

  struct expect {
    const char* path;
    const char* type;
  } cases[] = {
      {"/assets/app.js", "text/javascript; charset=utf-8"},
      {"/assets/floor.js", "text/javascript; charset=utf-8"},
      {"/assets/style.css", "text/css; charset=utf-8"},
      {"/assets/icon.svg", "image/svg+xml"},
      {"/assets/uPlot.iife.min.js", "text/javascript; charset=utf-8"},
      {"/assets/uPlot.min.css", "text/css; charset=utf-8"},
  };
  for (auto& c : cases) {
    INFO(c.path);
    auto r = get(port, c.path);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == c.type);
    CHECK(!r->body.empty());
  }
  auto uplot = get(port, "/assets/uPlot.iife.min.js");
  REQUIRE(uplot);
  CHECK(uplot->body.find("uPlot") != std::string::npos);
}

TEST_CASE("an unknown or escaping asset path answers 404 JSON and reads no file", "[web]") {
  temp_dir dir;
  int port = free_port();
  auto daemon = start_daemon(dir, port, config(dir, port));

  for (const char* path : {"/assets/nope.js", "/assets/../CMakeLists.txt", "/assets/%2e%2e/web/app.js",
                           "/assets/web/app.js", "/assets/", "/index.html", "/app.js"}) {
    INFO(path);
    auto r = get(port, path);
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(r->get_header_value("Content-Type") == "application/json");
    auto body = nlohmann::json::parse(r->body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["error"]["code"] == "not_found");
  }
}

TEST_CASE("with api.token set the page loads without it while the API still needs it", "[web]") {
  temp_dir dir;
  int port = free_port();
  const std::string token = "web-test-token-0123456789";
  auto daemon = std::make_unique<process>(
      std::vector<std::string>{binary("edgemes"), "run", "--config", config(dir, port, token)},
      dir.file("edgemes.log"));
  REQUIRE(wait_until([&] { return http_get(port, "/api/v1/health").status == 401; },
                     std::chrono::seconds(15)));

  auto page = get(port, "/");
  REQUIRE(page);
  CHECK(page->status == 200);
  auto script = get(port, "/assets/app.js");
  REQUIRE(script);
  CHECK(script->status == 200);

  auto api = get(port, "/api/v1/machines");
  REQUIRE(api);
  CHECK(api->status == 401);
  auto with = get(port, "/api/v1/machines", {{"Authorization", "Bearer " + token}});
  REQUIRE(with);
  CHECK(with->status == 200);
}

TEST_CASE("health counts the API requests served, so the dashboard's cost can be measured",
          "[web]") {
  temp_dir dir;
  int port = free_port();
  auto daemon = start_daemon(dir, port, config(dir, port));

  auto before = get_json(port, "/api/v1/health");
  REQUIRE(before["api"]["requests"].is_number_integer());
  for (int i = 0; i < 5; ++i)
    REQUIRE(http_get(port, "/api/v1/lines").status == 200);
  auto after = get_json(port, "/api/v1/health");
  // 5 requests plus the health request that reads the counter.
  CHECK(after["api"]["requests"].get<int64_t>() - before["api"]["requests"].get<int64_t>() == 6);
}

TEST_CASE("a browser that accepts brotli gets gzip, which costs the daemon a fraction of the CPU",
          "[web]") {
  temp_dir dir;
  int port = free_port();
  auto daemon = start_daemon(dir, port, config(dir, port));

  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(5, 0);
  cli.set_decompress(false);  // see the encoding as sent
  for (const char* path : {"/api/v1/machines", "/assets/app.js"}) {
    INFO(path);
    auto r = cli.Get(path, {{"Accept-Encoding", "gzip, deflate, br, zstd"}});
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Encoding") == "gzip");
    auto only_br = cli.Get(path, {{"Accept-Encoding", "br"}});
    REQUIRE(only_br);
    CHECK(only_br->get_header_value("Content-Encoding").empty());
  }
}
