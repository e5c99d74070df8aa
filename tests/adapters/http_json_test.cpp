#include "adapters/adapter.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <set>
#include <thread>

using edgemes::adapters::extractor;
using edgemes::adapters::make_http_json;
using namespace std::chrono_literals;

namespace {

// A real HTTP server on 127.0.0.1:<any free port>, stopped on scope exit.
// Handlers that wait use hold(), which returns early once the server stops,
// so teardown never waits out a slow handler.
class test_server {
public:
  test_server() {
    port_ = svr_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
  }
  ~test_server() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    svr_.stop();
    thread_.join();
  }
  httplib::Server& http() { return svr_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Sleeps `d` unless the server stops first; false when stopping.
  bool hold(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(m_);
    return !cv_.wait_for(lock, d, [this] { return stopping_; });
  }

private:
  httplib::Server svr_;
  int port_ = -1;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

const extractor no_metrics({}, "");

std::unique_ptr<edgemes::adapters::source> client(const std::string& url, int64_t timeout_ms = 2000,
                                                  int64_t max_bytes = 1 << 20,
                                                  const extractor& metrics = no_metrics) {
  std::string error;
  auto src = make_http_json(url, timeout_ms, max_bytes, metrics, &error);
  INFO(error);
  REQUIRE(src);
  return src;
}

int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since)
      .count();
}

} // namespace

TEST_CASE("http_json reads its metrics and state out of a 200 reply", "[adapters][http_json]") {
  test_server s;
  s.http().Get("/status", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"state":"RUN","counters":{"boards":12},"temp_c":41.5})", "application/json");
  });
  auto src = client(s.url("/status"), 2000, 1 << 20,
                    extractor({{"temp_c", "/temp_c"}, {"boards", "/counters/boards"}}, "/state"));
  REQUIRE(src->blocking());
  auto r = src->poll();
  INFO(r.error);
  REQUIRE(r.ok);
  REQUIRE(r.error.empty());
  REQUIRE(r.values == std::vector<double>{41.5, 12});
  REQUIRE(r.state == std::optional<std::string>("RUN"));
  REQUIRE(r.problems.empty());
  REQUIRE(r.taken_ms == 0);  // stamped by the poller when the poll started
}

TEST_CASE("http_json reports what its pointers do not find as problems of a successful poll",
          "[adapters][http_json]") {
  test_server s;
  s.http().Get("/status", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"state":7,"oven":{"zones":[180.5]},"label":"L1"})", "application/json");
  });
  auto src = client(s.url("/status"), 2000, 1 << 20,
                    extractor({{"zone1_c", "/oven/zones/0"}, {"zone2_c", "/oven/zones/1"},
                               {"label", "/label"}},
                              "/state"));
  auto r = src->poll();
  REQUIRE(r.ok);
  REQUIRE(r.values.size() == 3);
  REQUIRE(r.values[0] == 180.5);
  REQUIRE(std::isnan(r.values[1]));
  REQUIRE(std::isnan(r.values[2]));
  REQUIRE_FALSE(r.state);
  REQUIRE(r.problems == std::vector<std::string>{"metric 'zone2_c': nothing at /oven/zones/1",
                                                 "metric 'label': /label is a string, not a number",
                                                 "state: /state is a number, not a string"});
}

TEST_CASE("http_json sends the path and query of the URL", "[adapters][http_json]") {
  test_server s;
  s.http().Get("/api/v1/status", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(nlohmann::json{{"unit", req.get_param_value("unit")}}.dump(), "application/json");
  });
  auto r = client(s.url("/api/v1/status?unit=7"), 2000, 1 << 20, extractor({}, "/unit"))->poll();
  REQUIRE(r.ok);
  REQUIRE(r.state == std::optional<std::string>("7"));
}

TEST_CASE("http_json keeps one connection alive between polls", "[adapters][http_json]") {
  test_server s;
  std::mutex m;
  std::set<int> client_ports;
  s.http().Get("/status", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(m);
    client_ports.insert(req.remote_port);
    res.set_content("{}", "application/json");
  });
  auto src = client(s.url("/status"));
  for (int i = 0; i < 5; ++i)
    REQUIRE(src->poll().ok);
  std::lock_guard<std::mutex> lock(m);
  REQUIRE(client_ports.size() == 1);
}

TEST_CASE("http_json fails a poll on HTTP 500 and names the status", "[adapters][http_json]") {
  test_server s;
  s.http().Get("/status", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content(R"({"error":"controller fault"})", "application/json");
  });
  auto r = client(s.url("/status"))->poll();
  REQUIRE_FALSE(r.ok);
  REQUIRE_THAT(r.error, Catch::StartsWith("HTTP 500"));
  REQUIRE_THAT(r.error, Catch::Contains("controller fault"));
}

TEST_CASE("http_json fails a poll on a status outside 2xx", "[adapters][http_json]") {
  test_server s;
  auto r = client(s.url("/nowhere"))->poll();
  REQUIRE_FALSE(r.ok);
  REQUIRE_THAT(r.error, Catch::StartsWith("HTTP 404"));
}

TEST_CASE("http_json fails a poll whose body is not JSON", "[adapters][http_json]") {
  test_server s;
  s.http().Get("/status", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"state":"RUN","counters":{"bo)", "application/json");
  });
  auto r = client(s.url("/status"))->poll();
  REQUIRE_FALSE(r.ok);
  REQUIRE_THAT(r.error, Catch::StartsWith("reply is not JSON: "));
  REQUIRE_THAT(r.error, !Catch::Contains("[json.exception"));
}

TEST_CASE("http_json fails a poll whose declared length is over the limit", "[adapters][http_json]") {
  test_server s;
  s.http().Get("/status", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("[" + std::string(5000, '1') + "]", "application/json");
  });
  auto r = client(s.url("/status"), 2000, 1000)->poll();
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.error == "reply larger than 1000 bytes");
}

TEST_CASE("http_json stops reading an endless chunked body at the limit", "[adapters][http_json]") {
  test_server s;
  std::atomic<size_t> sent{0};
  s.http().Get("/status", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [&](size_t, httplib::DataSink& sink) {
      static const std::string block(64 * 1024, ' ');
      // Bounded so a client that never stops cannot make this test run forever.
      if (sent > (256u << 20))
        return false;
      sent += block.size();
      return sink.write(block.data(), block.size());
    });
  });
  auto r = client(s.url("/status"), 5000, 100000)->poll();
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.error == "reply larger than 100000 bytes");
  // The server may have buffered ahead, but nowhere near the 256 MiB bound.
  REQUIRE(sent < (64u << 20));
}

TEST_CASE("http_json gives up on a server slower than the timeout", "[adapters][http_json]") {
  test_server s;
  s.http().Get("/status", [&](const httplib::Request&, httplib::Response& res) {
    s.hold(10s);
    res.set_content("{}", "application/json");
  });
  auto src = client(s.url("/status"), 300);
  auto start = std::chrono::steady_clock::now();
  auto r = src->poll();
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.error == "timeout after 300 ms");
  REQUIRE(elapsed_ms(start) < 300 * 5);
}

TEST_CASE("http_json gives up on a server that dribbles its reply past the timeout", "[adapters][http_json]") {
  test_server s;
  s.http().Get("/status", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [&](size_t offset, httplib::DataSink& sink) {
      if (offset > 1000 || !s.hold(50ms))
        return false;
      return sink.write(offset == 0 ? "[" : "1,", offset == 0 ? 1 : 2);
    });
  });
  auto src = client(s.url("/status"), 400);
  auto start = std::chrono::steady_clock::now();
  auto r = src->poll();
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.error == "timeout after 400 ms");
  REQUIRE(elapsed_ms(start) < 400 * 5);
}

TEST_CASE("http_json reports a refused connection", "[adapters][http_json]") {
  int port = edgemes::test::free_port();
  auto r = client("http://127.0.0.1:" + std::to_string(port) + "/status")->poll();
  REQUIRE_FALSE(r.ok);
  REQUIRE_THAT(r.error, Catch::Contains("connection refused"));
  REQUIRE_THAT(r.error, Catch::Contains("127.0.0.1:" + std::to_string(port)));
}

TEST_CASE("http_json reports a connection closed in the middle of a reply", "[adapters][http_json]") {
  test_server s;
  s.http().Get("/status", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(1000, "application/json", [](size_t offset, size_t, httplib::DataSink& sink) {
      if (offset > 0)
        return false;
      return sink.write("{\"state\":", 9);
    });
  });
  auto r = client(s.url("/status"))->poll();
  REQUIRE_FALSE(r.ok);
  REQUIRE_THAT(r.error, Catch::Contains("closed before a complete reply"));
}

TEST_CASE("http_json recovers once the machine answers again", "[adapters][http_json]") {
  test_server s;
  std::atomic<bool> healthy{false};
  s.http().Get("/status", [&](const httplib::Request&, httplib::Response& res) {
    if (!healthy) {
      res.status = 503;
      return;
    }
    res.set_content(R"({"ok":true})", "application/json");
  });
  auto src = client(s.url("/status"));
  REQUIRE_FALSE(src->poll().ok);
  healthy = true;
  REQUIRE(src->poll().ok);
}

TEST_CASE("make_http_json rejects unusable URLs with a reason", "[adapters][http_json]") {
  struct bad {
    const char* url;
    const char* reason;
  };
  for (const auto& c : {bad{"https://host/status", "https is not supported"},
                        bad{"ftp://host/status", "must start with http://"},
                        bad{"host:8080/status", "must start with http://"},
                        bad{"http:///status", "no host"},
                        bad{"http://host:/status", "empty port"},
                        bad{"http://host:99999/status", "1 to 65535"},
                        bad{"http://host:0/status", "1 to 65535"},
                        bad{"http://host:80a/status", "1 to 65535"},
                        bad{"http://user:pw@host/status", "user:password@"},
                        bad{"http://host/st atus", "space"},
                        bad{"http://host/status#frag", "fragment"},
                        bad{"http://[::1/status", "unclosed"}}) {
    std::string error;
    INFO(c.url);
    REQUIRE(make_http_json(c.url, 1000, 1000, no_metrics, &error) == nullptr);
    REQUIRE_THAT(error, Catch::Contains(c.url) && Catch::Contains(c.reason));
  }
}

TEST_CASE("make_http_json accepts host, port, path and query forms", "[adapters][http_json]") {
  for (const char* url : {"http://127.0.0.1:8080/machines/m1/status", "http://plc-7/status",
                          "http://plc-7", "http://plc-7?x=1", "http://[::1]:9000/s", "http://[::1]/s"}) {
    std::string error;
    INFO(url);
    REQUIRE(make_http_json(url, 1000, 1000, no_metrics, &error) != nullptr);
  }
}
