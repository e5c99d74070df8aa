// End-to-end tests of the edgemes-sim binary: a real process on a free
// loopback port, polled through make_http_json exactly as edgemes polls it.
#include "adapters/adapter.hpp"
#include "adapters/sim_model.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <csignal>
#include <future>

using namespace edgemes::adapters;
using namespace edgemes::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct sim_process {
  explicit sim_process(std::vector<std::string> args)
      : port(free_port()), proc(with_defaults(std::move(args), port), dir.file("sim.log")) {
    bool up = wait_until([&] { return proc.log().find("edgemes-sim listening on") != std::string::npos; },
                         10s);
    INFO(proc.log());
    REQUIRE(up);
  }
  static std::vector<std::string> with_defaults(std::vector<std::string> args, int port) {
    args.insert(args.begin(), {binary("edgemes-sim"), "--port", std::to_string(port)});
    return args;
  }
  std::string url(const std::string& id) const {
    return "http://127.0.0.1:" + std::to_string(port) + "/machines/" + id + "/status";
  }
  std::unique_ptr<source> client(const std::string& id, int64_t timeout_ms = 2000,
                                 const extractor& metrics = extractor({}, "")) const {
    std::string error;
    auto src = make_http_json(url(id), timeout_ms, 1 << 20, metrics, &error);
    REQUIRE(src);
    return src;
  }
  std::vector<uint64_t> served(const std::string& id) const {
    auto r = http_get(port, "/machines/" + id + "/served");
    REQUIRE(r.status == 200);
    return json::parse(r.body)["seqs"].get<std::vector<uint64_t>>();
  }
  bool served_becomes(const std::string& id, const std::vector<uint64_t>& want) const {
    return wait_until([&] { return served(id) == want; }, 5s);
  }

  temp_dir dir;
  int port;
  process proc;
};

// A type's standard metrics after "seq" (values[0]), and a state pointer.
extractor standard(const std::string& type, const std::string& state = "/state") {
  auto metrics = sim_standard_metrics(type);
  metrics.insert(metrics.begin(), {"seq", "/seq"});
  return extractor(metrics, state);
}

bool any_contains(const std::vector<std::string>& texts, const std::string& part) {
  for (const auto& t : texts)
    if (t.find(part) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST_CASE("edgemes-sim lists its machines with types cycling through --types", "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "5", "--types", "reflow,aoi"});
  REQUIRE_THAT(sim.proc.log(), Catch::Contains("(5 machines)"));
  auto r = http_get(sim.port, "/machines");
  REQUIRE(r.status == 200);
  json list = json::parse(r.body)["machines"];
  REQUIRE(list.size() == 5);
  REQUIRE(list[0] == json{{"id", "m0001"}, {"type", "reflow"}, {"fault", "none"}});
  REQUIRE(list[1]["type"] == "aoi");
  REQUIRE(list[4]["id"] == "m0005");
  REQUIRE(list[4]["type"] == "reflow");
}

TEST_CASE("edgemes-sim serves numbered status replies and logs every reply it served", "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "4", "--seed", "3"});
  for (const auto& [id, type] : std::vector<std::pair<std::string, std::string>>{
           {"m0001", "placer"}, {"m0002", "printer"}, {"m0003", "reflow"}, {"m0004", "aoi"}}) {
    // One client per text the reply carries, each also reading "seq" and
    // the standard metrics; their polls are the machine's replies 1, 2, 3.
    const std::vector<std::pair<std::string, std::string>> texts{
        {"/machine", id}, {"/type", type}, {"/state", ""}};
    for (uint64_t seq = 1; seq <= 3; ++seq) {
      const auto& [pointer, text] = texts[seq - 1];
      auto r = sim.client(id, 2000, standard(type, pointer))->poll();
      INFO(id << ": " << r.error);
      REQUIRE(r.ok);
      REQUIRE(r.values[0] == static_cast<double>(seq));
      REQUIRE(r.values.size() == sim_standard_metrics(type).size() + 1);
      for (double v : r.values)
        REQUIRE_FALSE(std::isnan(v));
      REQUIRE(r.problems.empty());
      REQUIRE(r.state);
      if (!text.empty())
        REQUIRE(*r.state == text);
    }
    REQUIRE(sim.served_becomes(id, {1, 2, 3}));
  }
  REQUIRE(http_get(sim.port, "/machines/nope/status").status == 404);
  REQUIRE(http_get(sim.port, "/machines/nope/served").status == 404);
}

TEST_CASE("edgemes-sim fault modes fail polls the way they promise", "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "8", "--slow-ms", "3000", "--fault", "m0001=slow", "--fault", "m0002=http500",
                   "--fault", "m0003=broken_json", "--fault", "m0004=reset", "--fault", "m0005=missing_fields",
                   "--fault", "m0006=huge", "--fault", "m0007=wrong_type", "--fault=m0008=flap"});

  SECTION("slow answers after the poll has timed out, and is not logged as served") {
    auto r = sim.client("m0001", 300)->poll();
    REQUIRE(r.error == "timeout after 300 ms");
    REQUIRE(sim.served("m0001").empty());
  }
  SECTION("http500 answers HTTP 500") {
    auto r = sim.client("m0002")->poll();
    REQUIRE_THAT(r.error, Catch::StartsWith("HTTP 500"));
    REQUIRE(sim.served("m0002").empty());
  }
  SECTION("broken_json answers a body that is not JSON") {
    auto r = sim.client("m0003")->poll();
    REQUIRE_THAT(r.error, Catch::StartsWith("reply is not JSON"));
    REQUIRE(sim.served("m0003").empty());
  }
  SECTION("reset closes the connection without a complete reply") {
    auto r = sim.client("m0004")->poll();
    REQUIRE_FALSE(r.ok);
    REQUIRE_THAT(r.error, Catch::Contains("closed before a complete reply"));
    REQUIRE(sim.served("m0004").empty());
  }
  SECTION("missing_fields answers valid JSON that lacks some standard metrics") {
    auto r = sim.client("m0005", 2000, standard("placer", "/type"))->poll();
    REQUIRE(r.ok);
    REQUIRE(r.state == std::optional<std::string>("placer"));
    const auto& p = r.problems;
    REQUIRE(any_contains(p, "metric 'placements_total': nothing at /counters/placements"));
    REQUIRE(p.size() < sim_standard_metrics("placer").size());
    REQUIRE(sim.served_becomes("m0005", {1}));
  }
  SECTION("huge answers more than the reply limit") {
    auto r = sim.client("m0006")->poll();
    REQUIRE(r.error == "reply larger than 1048576 bytes");
    std::string error;
    auto big =
        make_http_json(sim.url("m0006"), 5000, 64 << 20, extractor({{"seq", "/seq"}}, ""), &error)
            ->poll();
    REQUIRE(big.ok);
    REQUIRE(big.values == std::vector<double>{2});
    REQUIRE(sim.served_becomes("m0006", {2}));
  }
  SECTION("wrong_type answers some numbers as strings") {
    auto r = sim.client("m0007", 2000, standard("reflow", "/type"))->poll();
    REQUIRE(r.ok);
    REQUIRE(r.state == std::optional<std::string>("reflow"));
    REQUIRE(any_contains(r.problems, "/oven/conveyor_mm_s is a string, not a number"));
    REQUIRE(sim.served_becomes("m0007", {1}));
  }
  SECTION("flap alternates a good reply and HTTP 500") {
    auto src = sim.client("m0008");
    REQUIRE(src->poll().ok);
    REQUIRE_THAT(src->poll().error, Catch::StartsWith("HTTP 500"));
    REQUIRE(src->poll().ok);
    REQUIRE_THAT(src->poll().error, Catch::StartsWith("HTTP 500"));
    REQUIRE(sim.served_becomes("m0008", {1, 3}));
  }
}

TEST_CASE("edgemes-sim keeps answering healthy machines while slow ones hang", "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "2", "--slow-ms", "5000", "--fault", "m0001=slow"});
  std::vector<std::future<reading>> hanging;
  for (int i = 0; i < 8; ++i)
    hanging.push_back(std::async(std::launch::async, [&] { return sim.client("m0001", 1000)->poll(); }));
  auto healthy = sim.client("m0002", 1000);
  for (int i = 0; i < 3; ++i) {
    auto r = healthy->poll();
    INFO(r.error);
    REQUIRE(r.ok);
  }
  for (auto& h : hanging)
    REQUIRE(h.get().error == "timeout after 1000 ms");
}

TEST_CASE("edgemes-sim switches a machine's fault at runtime", "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "2"});
  auto src = sim.client("m0002", 2000, extractor({{"seq", "/seq"}}, ""));
  REQUIRE(src->poll().ok);

  auto set = http_request(sim.port, "POST", "/machines/m0002/fault?mode=http500");
  REQUIRE(set.status == 200);
  REQUIRE(json::parse(set.body)["fault"] == "http500");
  REQUIRE_THAT(src->poll().error, Catch::StartsWith("HTTP 500"));
  REQUIRE(json::parse(http_get(sim.port, "/machines").body)["machines"][1]["fault"] == "http500");

  REQUIRE(http_request(sim.port, "PUT", "/machines/m0002/fault?mode=none").status == 200);
  auto back = src->poll();
  REQUIRE(back.ok);
  REQUIRE(back.values == std::vector<double>{3});
  REQUIRE(sim.served_becomes("m0002", {1, 3}));

  auto bad_mode = http_request(sim.port, "POST", "/machines/m0002/fault?mode=melt");
  REQUIRE(bad_mode.status == 400);
  REQUIRE_THAT(bad_mode.body, Catch::Contains("broken_json"));
  REQUIRE(http_request(sim.port, "POST", "/machines/zzz/fault?mode=none").status == 404);
}

TEST_CASE("edgemes-sim's down fault reports the state DOWN until it is switched off",
          "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "1", "--types", "placer", "--fault", "m0001=down"});
  auto src = sim.client("m0001", 2000, extractor({{"boards", "/counters/boards"}}, "/state"));
  for (int i = 0; i < 3; ++i) {
    auto r = src->poll();
    REQUIRE(r.ok);
    REQUIRE(r.state == std::optional<std::string>("DOWN"));
    REQUIRE(r.values.size() == 1);  // the rest of the reply is the model's, as ever
  }
  REQUIRE(http_request(sim.port, "POST", "/machines/m0001/fault?mode=none").status == 200);
  auto back = src->poll();
  REQUIRE(back.ok);
  REQUIRE(back.state);
  // The model's own state again: m0001's model (seeded from its id) is still
  // in the RUN spell every model starts in.
  REQUIRE(*back.state == "RUN");
}

TEST_CASE("edgemes-sim exposes every machine's last values in Prometheus text", "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "4"});
  REQUIRE(sim.client("m0001")->poll().ok);
  REQUIRE(sim.client("m0003")->poll().ok);
  auto r = http_get(sim.port, "/metrics");
  REQUIRE(r.status == 200);
  REQUIRE_THAT(r.content_type, Catch::StartsWith("text/plain"));
  REQUIRE_THAT(r.body, Catch::Contains("# TYPE edgemes_sim_placements_total counter\n"));
  REQUIRE_THAT(r.body, Catch::Contains("edgemes_sim_placements_total{machine=\"m0001\",type=\"placer\"} "));
  REQUIRE_THAT(r.body, Catch::Contains("edgemes_sim_zone8_c{machine=\"m0003\",type=\"reflow\"} "));
  REQUIRE_THAT(r.body, Catch::Contains("edgemes_sim_requests_total{machine=\"m0002\",type=\"printer\"} 0\n"));
  REQUIRE_THAT(r.body, Catch::Contains("edgemes_sim_requests_total{machine=\"m0001\",type=\"placer\"} 1\n"));
}

TEST_CASE("edgemes-sim serves one machine per Prometheus target, advancing it like a status poll", "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "4"});
  auto r = http_get(sim.port, "/machines/m0003/metrics");
  REQUIRE(r.status == 200);
  REQUIRE_THAT(r.content_type, Catch::StartsWith("text/plain"));
  REQUIRE_THAT(r.body, Catch::Contains("# TYPE edgemes_sim_zone8_c gauge\n"));
  REQUIRE_THAT(r.body, Catch::Contains("edgemes_sim_boards_total{machine=\"m0003\",type=\"reflow\"} "));
  REQUIRE_THAT(r.body, Catch::Contains("edgemes_sim_state{machine=\"m0003\",type=\"reflow\",state=\""));
  REQUIRE_THAT(r.body, !Catch::Contains("m0001"));
  REQUIRE_THAT(r.body, !Catch::Contains("requests_total"));

  auto all = http_get(sim.port, "/metrics");
  REQUIRE_THAT(all.body, Catch::Contains("edgemes_sim_requests_total{machine=\"m0003\",type=\"reflow\"} 1\n"));
  auto status = json::parse(http_get(sim.port, "/machines/m0003/status").body);
  REQUIRE(status["seq"] == 2);
  REQUIRE(http_get(sim.port, "/machines/nope/metrics").status == 404);
}

TEST_CASE("edgemes-sim takes its machines from an edgemes config", "[adapters][edgemes-sim]") {
  temp_dir dir;
  write_file(dir.file("edgemes.json"), R"({
    // comments are allowed, as in edgemes configs
    "lines": [
      {"id": "L1", "machines": [{"id": "L1-printer", "type": "printer", "adapter": "http"},
                                {"id": "L1-oven", "type": "reflow"}]},
      {"id": "L2", "machines": [{"id": "L2-aoi", "type": "aoi"}, {"id": "L2-robot", "type": "robot"}]}
    ]
  })");
  sim_process sim({"--config", dir.file("edgemes.json")});
  json list = json::parse(http_get(sim.port, "/machines").body)["machines"];
  REQUIRE(list.size() == 3);
  REQUIRE(list[0]["id"] == "L1-printer");
  REQUIRE(list[1]["type"] == "reflow");
  REQUIRE(list[2]["id"] == "L2-aoi");
  REQUIRE_THAT(sim.proc.log(), Catch::Contains("skipping machine 'L2-robot'"));
  auto r = sim.client("L1-oven", 2000, standard("reflow", "/type"))->poll();
  REQUIRE(r.ok);
  REQUIRE(r.state == std::optional<std::string>("reflow"));
  REQUIRE(r.problems.empty());  // among them the 8 zones, /oven/zones/0 .. /7
}

TEST_CASE("edgemes-sim exits 0 on SIGTERM even with a slow reply in flight", "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "1", "--fault", "m0001=slow", "--slow-ms", "60000"});
  auto hanging = std::async(std::launch::async, [&] { return sim.client("m0001", 30000)->poll(); });
  REQUIRE(wait_until([&] {
    auto r = http_get(sim.port, "/metrics");
    return r.body.find("edgemes_sim_requests_total{machine=\"m0001\",type=\"placer\"} 1") != std::string::npos;
  }, 5s));
  sim.proc.signal(SIGTERM);
  REQUIRE(sim.proc.wait(15s) == 0);
  REQUIRE_FALSE(hanging.get().ok);
}

TEST_CASE("edgemes-sim exits 0 on SIGINT", "[adapters][edgemes-sim]") {
  sim_process sim({"--machines", "3"});
  REQUIRE(sim.client("m0002")->poll().ok);
  sim.proc.signal(SIGINT);
  REQUIRE(sim.proc.wait(15s) == 0);
}

TEST_CASE("edgemes-sim refuses a bad command line with a reason and exit code 2", "[adapters][edgemes-sim]") {
  temp_dir dir;
  struct bad {
    std::vector<std::string> args;
    const char* reason;
  };
  for (const auto& c : {bad{{"--machines", "2"}, "give --port, --modbus-port or both"},
                        bad{{"--modbus-port", "x", "--machines", "2"}, "--modbus-port wants a number"},
                        bad{{"--print-config", "json", "--modbus-port", "5020", "--machines", "2"},
                            "--print-config knows only 'modbus', not 'json'"},
                        bad{{"--print-config", "modbus", "--machines", "2"},
                            "--print-config modbus needs the --modbus-port"},
                        bad{{"--port", "1", "--machines", "2", "--fault", "m0001=melt"}, "unknown fault mode 'melt'"},
                        bad{{"--port", "1", "--machines", "2", "--fault", "m0009=slow"}, "'m0009'"},
                        bad{{"--port", "1", "--machines", "2", "--types", "toaster"}, "unknown type 'toaster'"},
                        bad{{"--port", "1"}, "exactly one of --config FILE or --machines N"},
                        bad{{"--port", "1", "--config", dir.file("missing.json")}, "cannot read config"},
                        bad{{"--port", "x", "--machines", "2"}, "--port wants a number"}}) {
    std::vector<std::string> argv{binary("edgemes-sim")};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    process p(argv, dir.file("bad.log"));
    REQUIRE(p.wait(10s) == 2);
    REQUIRE_THAT(p.log(), Catch::Contains(c.reason));
  }
}

TEST_CASE("edgemes-sim --help prints usage and exits 0", "[adapters][edgemes-sim]") {
  temp_dir dir;
  process p({binary("edgemes-sim"), "--help"}, dir.file("help.log"));
  REQUIRE(p.wait(10s) == 0);
  REQUIRE_THAT(p.log(), Catch::Contains("usage: edgemes-sim [--port P] [--modbus-port M]"));
  REQUIRE_THAT(p.log(), Catch::Contains("--print-config modbus"));
  REQUIRE_THAT(p.log(), Catch::Contains("missing_fields"));
}
