// The edgemes command line as a user meets it: help, check-config, and a
// start-up that refuses a broken config or a taken port with a clear message.
#include "tests/e2e/e2e_support.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace edgemes::test;

namespace {

struct outcome {
  int code;
  std::string output;
};

outcome run_cli(const temp_dir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{binary("edgemes")};
  argv.insert(argv.end(), args.begin(), args.end());
  auto log = dir.file("cli-" + std::to_string(now_ms()) + ".log");
  process p{argv, log};
  int code = p.wait(std::chrono::seconds(20));
  return {code, p.log()};
}

} // namespace

TEST_CASE("each command has --help", "[e2e][cli]") {
  temp_dir dir;
  for (auto args : std::vector<std::vector<std::string>>{
           {"--help"}, {"run", "--help"}, {"check-config", "--help"}}) {
    auto r = run_cli(dir, args);
    CHECK(r.code == 0);
    CHECK(r.output.find("usage") != std::string::npos);
  }
  auto r = run_cli(dir, {"frobnicate"});
  CHECK(r.code == 2);
  CHECK(r.output.find("unknown command 'frobnicate'") != std::string::npos);
}

TEST_CASE("check-config accepts the shipped configs", "[e2e][cli]") {
  temp_dir dir;
  for (auto file : {"config/demo.json", "config/example-http.json"}) {
    auto r = run_cli(dir, {"check-config", source_path(file)});
    INFO(file << ": " << r.output);
    CHECK(r.code == 0);
    CHECK(r.output.find(": ok (") != std::string::npos);
  }
  // The demo simulates machines: check-config says whether their states map to E10.
  auto demo = run_cli(dir, {"check-config", source_path("config/demo.json")});
  CHECK(demo.output.find("e10: every state of the simulated machines is mapped") != std::string::npos);
}

TEST_CASE("check-config prints every problem with its JSON path and exits 1", "[e2e][cli]") {
  temp_dir dir;
  auto path = dir.file("broken.json");
  write_file(path, R"({
    "writer": { "max_batch": "lots" },
    "api": { "prot": 8080 },
    "lines": [ { "id": "l1", "machines": [
      { "id": "m1", "source": { "adapter": "modbus" } },
      { "id": "m1", "type": "placer", "source": { "adapter": "sim" } } ] } ]
  })");
  auto r = run_cli(dir, {"check-config", path});
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK(r.output.find("/writer/max_batch") != std::string::npos);
  CHECK(r.output.find("/api/prot") != std::string::npos);
  CHECK(r.output.find("/lines/0/machines/0/source/adapter") != std::string::npos);
  CHECK(r.output.find("duplicate machine id 'm1'") != std::string::npos);
}

TEST_CASE("check-config reports bad JSON with line and column", "[e2e][cli]") {
  temp_dir dir;
  auto path = dir.file("bad.json");
  write_file(path, "{\n  \"site\": \"x\",\n  \"lines\": [ ,\n}\n");
  auto r = run_cli(dir, {"check-config", path});
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK(r.output.find("line 3") != std::string::npos);
}

TEST_CASE("run refuses a broken config before touching the database", "[e2e][cli]") {
  temp_dir dir;
  auto path = dir.file("broken.json");
  write_file(path, R"({"database": {"path": ")" + dir.file("x.db") +
                       R"("}, "lines": [{"id": "l1", "machines": [{"id": "m1", "source":
                       {"adapter": "http_json", "url": "ftp://nowhere"}}]}]})");
  auto r = run_cli(dir, {"run", "--config", path});
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK(r.output.find("/lines/0/machines/0/source/url") != std::string::npos);
  CHECK(access(dir.file("x.db").c_str(), F_OK) != 0);
}

// A socket listening on a free 127.0.0.1 port with `option` (SO_REUSEADDR or
// SO_REUSEPORT) set; `run` on that port must fail and name the address.
static void check_run_refuses_taken_port(int option) {
  temp_dir dir;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, option, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  auto r = run_cli(dir, {"run", "--port", std::to_string(port), "--db", dir.file("d.db")});
  ::close(fd);
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK(r.output.find("cannot listen on 127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("run names the address when the API port is taken", "[e2e][cli]") {
  check_run_refuses_taken_port(SO_REUSEADDR);
}

TEST_CASE("run does not share its API port with a socket bound with SO_REUSEPORT",
          "[e2e][cli]") {
  // cpp-httplib's default socket options set SO_REUSEPORT: a second daemon
  // (or anything else with that option) would bind the same port and take
  // half of the connections. edgemes must refuse the port instead.
  check_run_refuses_taken_port(SO_REUSEPORT);
}

TEST_CASE("a burst of 40 connects completes its handshakes while the daemon is busy",
          "[e2e][cli]") {
  // cpp-httplib listens with a backlog of 5: connects beyond it are dropped
  // until the accept thread catches up and retried after 1 s (SYN) or 200 ms
  // and more (the first request). The daemon raises the backlog. Stopping it
  // with SIGSTOP stands in for an accept thread that waits for a core.
  temp_dir dir;
  int port = free_port();
  process p{{binary("edgemes"), "run", "--port", std::to_string(port), "--db", dir.file("d.db")},
            dir.file("daemon.log")};
  REQUIRE(wait_until([&] { return http_get(port, "/api/v1/health").status == 200; },
                     std::chrono::seconds(20)));
  p.signal(SIGSTOP);
  std::vector<int> fds;
  for (int i = 0; i < 40; ++i) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(s >= 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(static_cast<uint16_t>(port));
    ::connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to);  // EINPROGRESS
    fds.push_back(s);
  }
  // Established within 500 ms: writable with no socket error.
  std::vector<pollfd> pfds;
  for (int s : fds)
    pfds.push_back({s, POLLOUT, 0});
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  int established = 0;
  while (std::chrono::steady_clock::now() < until) {
    ::poll(pfds.data(), pfds.size(), 20);
    established = 0;
    for (auto& pf : pfds) {
      int err = -1;
      socklen_t l = sizeof err;
      if ((pf.revents & POLLOUT) && ::getsockopt(pf.fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 &&
          err == 0)
        ++established;
    }
    if (established == 40)
      break;
  }
  p.signal(SIGCONT);
  for (int s : fds)
    ::close(s);
  CHECK(established == 40);
  CHECK(http_get(port, "/api/v1/health").status == 200);
  p.signal(SIGTERM);
  CHECK(p.wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("the embedded demo serves every machine at once and stops with exit code 0",
          "[e2e][cli]") {
  temp_dir dir;
  int port = free_port();
  process p{{binary("edgemes"), "run", "--port", std::to_string(port), "--db", dir.file("demo.db")},
            dir.file("demo.log")};
  bool up = wait_until(
      [&] {
        auto m = get_json(port, "/api/v1/machines");
        if (!m.is_object() || m["machines"].size() != 5)
          return false;
        for (const auto& x : m["machines"])
          if (x["status"] != "online")
            return false;
        return true;
      },
      std::chrono::seconds(15));
  INFO(p.log());
  REQUIRE(up);
  auto health = get_json(port, "/api/v1/health");
  CHECK(health["status"] == "ok");
  CHECK(health["database"]["path"] == dir.file("demo.db"));
  p.signal(SIGINT);
  CHECK(p.wait(std::chrono::seconds(15)) == 0);
}

TEST_CASE("a machine removed from the config stops being polled but keeps its history",
          "[e2e][cli]") {
  temp_dir dir;
  int port = free_port();
  auto write_config = [&](bool with_oven) {
    std::string machines =
        R"({"id": "p1", "type": "placer", "poll_interval_ms": 100, "source": {"adapter": "sim"}})";
    if (with_oven)
      machines +=
          R"(, {"id": "oven", "type": "reflow", "poll_interval_ms": 100, "source": {"adapter": "sim"}})";
    auto path = dir.file(with_oven ? "two.json" : "one.json");
    write_file(path, R"({"database": {"path": ")" + dir.file("f.db") +
                         R"("}, "api": {"port": )" + std::to_string(port) +
                         R"(}, "lines": [{"id": "l1", "machines": [)" + machines + "]}]}");
    return path;
  };
  auto count_oven = [&] {
    auto s = get_json(port, "/api/v1/machines/oven/samples?metric=zone1_c&from=0&limit=100000");
    return s["points"].size();
  };

  size_t oven_points = 0;
  {
    auto daemon = start_daemon(dir, port, write_config(true), "first.log");
    REQUIRE(wait_until([&] { return count_oven() >= 5; }, std::chrono::seconds(15)));
    daemon->signal(SIGTERM);
    REQUIRE(daemon->wait(std::chrono::seconds(15)) == 0);
  }
  auto daemon = start_daemon(dir, port, write_config(false), "second.log");
  oven_points = count_oven();
  CHECK(oven_points >= 5);
  auto oven = get_json(port, "/api/v1/machines/oven");
  CHECK(oven["configured"] == false);
  auto last_poll = oven["last_poll"];
  // p1 keeps polling; the oven does not.
  auto p1_polls = [&] { return get_json(port, "/api/v1/machines/p1")["polls"]["ok"].get<int64_t>(); };
  REQUIRE(wait_until([&] { return p1_polls() >= 5; }, std::chrono::seconds(15)));
  CHECK(count_oven() == oven_points);
  CHECK(get_json(port, "/api/v1/machines/oven")["last_poll"] == last_poll);
  auto listed = get_json(port, "/api/v1/machines");
  CHECK(listed["machines"].size() == 2);
  daemon->signal(SIGTERM);
  CHECK(daemon->wait(std::chrono::seconds(15)) == 0);
}
