// Tests for adapters/sim_modbus.cpp and edgemes-sim's Modbus mode: the
// register map holds exactly the numbers of the model's reply; mbpoll (a
// libmodbus client nobody here wrote) reads from the running simulator the
// same numbers its HTTP side reports for the same reply; the modbus_tcp
// adapter reads a simulated machine with the config --print-config gives.
#include "adapters/modbus_tcp.hpp"
#include "adapters/sim_modbus.hpp"
#include "adapters/sim_model.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

using namespace edgemes;
using namespace edgemes::test;
using namespace std::chrono_literals;
namespace mb = adapters::modbus;

namespace {

struct modbus_sim {
  explicit modbus_sim(std::vector<std::string> args)
      : http_port(free_port()), modbus_port(free_port()),
        proc(with_ports(std::move(args), http_port, modbus_port), dir.file("sim.log")) {
    const bool up = wait_until(
        [&] { return proc.log().find("edgemes-sim modbus listening on") != std::string::npos; }, 10s);
    INFO(proc.log());
    REQUIRE(up);
  }
  static std::vector<std::string> with_ports(std::vector<std::string> args, int http, int modbus) {
    args.insert(args.begin(), {binary("edgemes-sim"), "--port", std::to_string(http), "--modbus-port",
                               std::to_string(modbus)});
    return args;
  }
  temp_dir dir;
  int http_port;
  int modbus_port;
  process proc;
};

// Runs mbpoll once and returns "[address]: value" pairs (0-based addresses).
std::map<int, long long> mbpoll(const temp_dir& dir, int port, int unit, const std::string& type,
                                int address, int count) {
  const std::string log = dir.file("mbpoll-" + std::to_string(unit) + "-" + std::to_string(address) + ".log");
  process p({"/usr/bin/mbpoll", "-m", "tcp", "-a", std::to_string(unit), "-0", "-r",
             std::to_string(address), "-c", std::to_string(count), "-t", type, "-B", "-1", "-o", "2",
             "-p", std::to_string(port), "127.0.0.1"},
            log);
  const int rc = p.wait(10s);
  INFO(read_file(log));
  REQUIRE(rc == 0);
  std::map<int, long long> out;
  std::istringstream in(read_file(log));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("[", 0) != 0)
      continue;
    const auto close = line.find("]:");
    out[std::stoi(line.substr(1, close - 1))] = std::stoll(line.substr(close + 2));
  }
  return out;
}

// machine id -> metric name -> value, and machine id -> state, from /metrics.
struct prometheus {
  std::map<std::string, std::map<std::string, double>> values;
  std::map<std::string, std::string> state;
};
prometheus scrape(int port) {
  const auto r = http_get(port, "/metrics");
  REQUIRE(r.status == 200);
  prometheus out;
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("edgemes_sim_", 0) != 0)
      continue;
    const auto brace = line.find('{');
    const std::string name = line.substr(12, brace - 12);
    const auto id_at = line.find("machine=\"") + 9;
    const std::string id = line.substr(id_at, line.find('"', id_at) - id_at);
    const double value = std::stod(line.substr(line.rfind(' ') + 1));
    if (name == "state") {
      const auto s = line.find("state=\"") + 7;
      out.state[id] = line.substr(s, line.find('"', s) - s);
    } else {
      out.values[id][name] = value;
    }
  }
  return out;
}

} // namespace

TEST_CASE("each simulated type's register map holds exactly the numbers of its replies",
          "[modbus][sim]") {
  for (const auto& type : adapters::sim_types()) {
    INFO(type);
    const auto* map = adapters::find_sim_modbus_map(type);
    REQUIRE(map);
    CHECK(map->values.size() == adapters::sim_standard_metrics(type).size() + 2);
    CHECK(map->holding_registers == 10 + 2 * adapters::sim_standard_metrics(type).size());
    adapters::sim_machine machine("m-" + type, type, 7);
    std::vector<uint16_t> holding(map->holding_registers);
    uint8_t discrete[adapters::sim_modbus_map::discrete_inputs];
    int64_t now = 1'700'000'000'000;
    for (int i = 0; i < 2000; ++i, now += 37'000) {  // ~20 h of replies, every state seen
      const auto reply = machine.reply(now);
      adapters::sim_modbus_registers(*map, reply, holding.data(), discrete);
      for (const auto& r : map->values) {
        const double raw = mb::decode(holding.data() + r.point.address, r.point.type, r.point.word_order,
                                      r.point.byte_order);
        const double expected = reply.at(nlohmann::json::json_pointer(r.pointer)).get<double>();
        if (r.point.apply(raw) != expected) {
          INFO(r.name << " at holding " << r.point.address << ": reply " << expected);
          REQUIRE(r.point.apply(raw) == expected);
        }
      }
      const auto code = holding[map->state.address];
      REQUIRE(map->state_codes.count(code));
      CHECK(map->state_codes.at(code) == reply["state"].get<std::string>());
      for (int bit = 0; bit < 4; ++bit)
        CHECK(discrete[bit] == (bit + 1 == code ? 1 : 0));
    }
  }
}

TEST_CASE("mbpoll reads from edgemes-sim's Modbus side the numbers its HTTP side reports",
          "[modbus][sim][mbpoll]") {
  modbus_sim sim({"--machines", "4"});  // m0001 placer, m0002 printer, m0003 reflow, m0004 aoi
  const std::vector<std::string> ids{"m0001", "m0002", "m0003", "m0004"};
  for (int unit = 1; unit <= 4; ++unit) {
    const std::string id = ids[static_cast<size_t>(unit - 1)];
    const auto* map = adapters::find_sim_modbus_map(adapters::sim_types()[static_cast<size_t>(unit - 1)]);
    INFO(id);
    // Reading the state register takes a new reply; the reads after it answer from it.
    const auto header = mbpoll(sim.dir, sim.modbus_port, unit, "4", 0, 7);
    const auto metrics = mbpoll(sim.dir, sim.modbus_port, unit, "4:int", 10,
                                static_cast<int>(map->values.size() - 2));
    const auto again = mbpoll(sim.dir, sim.modbus_port, unit, "4", 0, 2);  // seq, no new reply
    const auto shown = scrape(sim.http_port);
    CHECK(header.at(0) * 65536 + header.at(1) == 1);
    CHECK(again.at(1) == 1);
    CHECK(shown.values.at(id).at("requests_total") == 1);
    for (size_t k = 2; k < map->values.size(); ++k) {
      const auto& r = map->values[k];
      INFO(r.name);
      CHECK(r.point.apply(static_cast<double>(metrics.at(r.point.address))) == shown.values.at(id).at(r.name));
    }
    CHECK(map->state_codes.at(header.at(6)) == shown.state.at(id));
  }
  // A unit with no machine behind it, as a gateway would say.
  process p({"/usr/bin/mbpoll", "-m", "tcp", "-a", "5", "-0", "-r", "0", "-c", "1", "-1", "-o", "2", "-p",
             std::to_string(sim.modbus_port), "127.0.0.1"},
            sim.dir.file("mbpoll-unit5.log"));
  p.wait(10s);
  CHECK(p.log().find("Target device failed to respond") != std::string::npos);
}

TEST_CASE("modbus_tcp reads a simulated machine with the config edgemes-sim prints", "[modbus][sim]") {
  temp_dir dir;
  const int modbus_port = free_port();
  process print({binary("edgemes-sim"), "--machines", "3", "--modbus-port", std::to_string(modbus_port),
                 "--print-config", "modbus"},
                dir.file("print.log"));
  REQUIRE(print.wait(10s) == 0);
  const auto cfg = nlohmann::ordered_json::parse(print.log());  // metrics in file order
  const auto& oven = cfg["lines"][0]["machines"][2];
  CHECK(oven["type"] == "reflow");
  CHECK(oven["source"]["port"] == modbus_port);
  CHECK(oven["source"]["unit_id"] == 3);

  process sim({binary("edgemes-sim"), "--machines", "3", "--modbus-port", std::to_string(modbus_port)},
              dir.file("sim.log"));
  REQUIRE(wait_until([&] { return sim.log().find("modbus listening") != std::string::npos; }, 10s));
  std::vector<std::pair<std::string, mb::point>> metrics;
  for (const auto& [name, reg] : oven["metrics"].items()) {
    mb::point p;
    p.address = reg["address"].get<uint16_t>();
    p.type = *mb::parse_type(reg["type"].get<std::string>());
    p.scale = reg.value("scale", 1.0);
    metrics.emplace_back(name, p);
  }
  adapters::modbus_state state{mb::point{}, {}};
  state.point.address = oven["state"]["address"].get<uint16_t>();
  for (const auto& [code, text] : oven["state"]["map"].items())
    state.texts[std::stoll(code)] = text.get<std::string>();
  std::string error;
  auto src = adapters::make_modbus_tcp({"127.0.0.1", modbus_port, 3, 2000, 125, 8}, metrics, state, &error);
  REQUIRE(src);
  for (int i = 0; i < 3; ++i) {
    const auto r = src->poll();
    INFO(r.error);
    REQUIRE(r.ok);
    CHECK(r.problems.empty());
    REQUIRE(r.values.size() == 11);
    for (int zone = 0; zone < 8; ++zone)
      CHECK((r.values[static_cast<size_t>(zone)] > 20 && r.values[static_cast<size_t>(zone)] < 300));
    REQUIRE(r.state);
    CHECK((*r.state == "RUN" || *r.state == "IDLE" || *r.state == "DOWN" || *r.state == "ALARM"));
  }
}

TEST_CASE("edgemes-sim's fault modes reach Modbus clients as exceptions, silence and resets",
          "[modbus][sim]") {
  modbus_sim sim({"--machines", "4", "--fault", "m0001=http500", "--fault", "m0002=slow", "--fault",
                  "m0003=reset", "--fault", "m0004=flap"});
  auto reader = [&](int unit) {
    mb::point state;
    state.address = 6;
    std::string error;
    auto src = adapters::make_modbus_tcp({"127.0.0.1", sim.modbus_port, unit, 300, 125, 8}, {},
                                         adapters::modbus_state{state, {{1, "RUN"}}}, &error);
    REQUIRE(src);
    return src;
  };
  CHECK(reader(1)->poll().error == "holding 6: Slave device or server failure (exception 4)");
  CHECK(reader(2)->poll().error == "timeout after 300 ms");
  CHECK(reader(3)->poll().error ==
        "connection to 127.0.0.1:" + std::to_string(sim.modbus_port) + " closed by the device");
  auto flapping = reader(4);
  CHECK(flapping->poll().ok);
  CHECK_FALSE(flapping->poll().ok);
  CHECK(flapping->poll().ok);
  CHECK(reader(5)->poll().error == "holding 6: Target device failed to respond (exception 11)");
}
