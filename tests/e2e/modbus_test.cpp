// Modbus TCP end to end: the real edgemes polls pymodbus devices
// (tests/support/pymodbus_server.py) and edgemes-sim's Modbus mode, stores
// what it reads through its writer, and the API reads it back.
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/modbus_device.hpp"

#include <cmath>
#include <csignal>
#include <map>
#include <sstream>

using namespace edgemes::test;
using nlohmann::json;

namespace {

// Every type, both word orders and both byte orders, on all four tables.
std::vector<device_point> every_type() {
  return {{"holding", 0, "int16", -12345},
          {"holding", 1, "uint16", 54321, "big", "little"},
          {"holding", 2, "int32", -123456789},
          {"holding", 4, "int32", -123456789, "little"},
          {"holding", 6, "uint32", 4000000000.0},
          {"holding", 8, "uint32", 4000000000.0, "little", "little"},
          {"holding", 10, "int64", -1234567890123.0},
          {"holding", 14, "int64", 1234567890123456.0, "little"},
          {"holding", 18, "float32", 123.456},
          {"holding", 20, "float32", -0.15625, "little"},
          {"holding", 22, "float64", 3.141592653589793},
          {"holding", 26, "float64", -2.718281828459045, "little", "little"},
          {"holding", 30, "uint16", 2},  // the state code
          {"input", 0, "uint16", 777},
          {"input", 1, "int16", -400},
          {"coil", 0, "bool", 1},
          {"coil", 5, "bool", 0},
          {"discrete", 2, "bool", 1}};
}

std::string metric_name(const device_point& p) {
  return p.table + "_" + std::to_string(p.address) + "_" + p.type;
}

json register_of(const device_point& p) {
  return {{"table", p.table}, {"address", p.address}, {"type", p.type},
          {"word_order", p.word_order}, {"byte_order", p.byte_order}};
}

json modbus_machine(const std::string& id, int port, const std::vector<device_point>& points,
                    int64_t interval_ms, json source_extra = json::object()) {
  json metrics = json::object();
  for (const auto& p : points)
    metrics[metric_name(p)] = register_of(p);
  json source = {{"adapter", "modbus_tcp"}, {"host", "127.0.0.1"}, {"port", port}, {"timeout_ms", 1000}};
  source.update(source_extra);
  return {{"id", id}, {"type", "oven"}, {"poll_interval_ms", interval_ms}, {"source", source},
          {"metrics", metrics}};
}

std::string write_config(const temp_dir& dir, int api_port, const json& machines) {
  json cfg = {{"site", "e2e-modbus"},
              {"database", {{"path", dir.file("factory.db")}}},
              {"writer", {{"max_batch", 50}, {"flush_interval_ms", 100}}},
              {"api", {{"bind", "127.0.0.1"}, {"port", api_port}, {"query_actors", 2}}},
              {"lines", {{{"id", "l1"}, {"machines", machines}}}}};
  const auto path = dir.file("edgemes.json");
  write_file(path, cfg.dump(2));
  return path;
}

json machine(int port, const std::string& id) { return get_json(port, "/api/v1/machines/" + id); }

bool all_metrics_seen(const json& m) {
  if (!m.is_object() || !m.contains("metrics"))
    return false;
  for (const auto& [name, v] : m["metrics"].items())
    if (v["value"].is_null())
      return false;
  return true;
}

} // namespace

TEST_CASE("the daemon stores exactly the values a pymodbus device holds, in every type and order; "
          "an unmapped address and a lost device show in the machine's status",
          "[e2e][modbus][pymodbus]") {
  temp_dir dir;
  const auto points = every_type();
  modbus_device device(dir, points);
  const int api_port = free_port();
  constexpr int64_t interval_ms = 1000;

  std::vector<device_point> metrics(points.begin(), points.end());
  metrics.erase(metrics.begin() + 12);  // holding 30 is the state, not a metric
  json oven = modbus_machine("oven", device.port(), metrics, interval_ms);
  oven["state"] = {{"table", "holding"}, {"address", 30}, {"type", "uint16"},
                   {"map", {{"1", "RUN"}, {"2", "IDLE"}}}};
  json unmapped = modbus_machine("unmapped", device.port(),
                                 {{"holding", 0, "int16", 0}, {"holding", 500, "int32", 0}}, 200);
  const auto cfg = write_config(dir, api_port, json::array({oven, unmapped}));
  auto daemon = start_daemon(dir, api_port, cfg);

  const bool stored = wait_until([&] { return all_metrics_seen(machine(api_port, "oven")); },
                                 std::chrono::seconds(20));
  auto m = machine(api_port, "oven");
  INFO(m.dump(2));
  REQUIRE(stored);
  CHECK(m["status"] == "online");
  CHECK(m["adapter"] == "modbus_tcp");
  CHECK(m["state"] == "IDLE");
  CHECK(m["last_error"].is_null());
  CHECK(m["polls"]["problems"] == 0);
  for (const auto& p : metrics) {
    INFO(metric_name(p));
    const double expected = p.type == "float32" ? static_cast<double>(static_cast<float>(p.value)) : p.value;
    CHECK(m["metrics"][metric_name(p)]["value"].get<double>() == expected);
  }

  // An address the device does not have: the exception's name and the registers asked for.
  const bool refused = wait_until([&] { return machine(api_port, "unmapped")["status"] == "offline"; },
                                  std::chrono::seconds(20));
  auto u = machine(api_port, "unmapped");
  INFO(u.dump(2));
  REQUIRE(refused);
  CHECK(u["last_error"] == "holding 500..501: Illegal data address (exception 2)");
  CHECK(u["polls"]["ok"] == 0);

  // The device dies: offline after pollers.offline_after_failures (3) failed polls.
  device.kill();
  const bool offline = wait_until([&] { return machine(api_port, "oven")["status"] == "offline"; },
                                  std::chrono::seconds(20));
  m = machine(api_port, "oven");
  INFO(m.dump(2));
  REQUIRE(offline);
  CHECK(m["state"] == "OFFLINE");
  CHECK(m["last_error"] == "connection refused: 127.0.0.1:" + std::to_string(device.port()));

  // It comes back: a refused connection is a fast failure, retried at the
  // plain interval, so the next poll — at most one interval away — finds it.
  device.start();
  const bool online = wait_until([&] { return machine(api_port, "oven")["status"] == "online"; },
                                 std::chrono::milliseconds(interval_ms + 1500));
  m = machine(api_port, "oven");
  INFO(m.dump(2));
  CHECK(online);
  CHECK(m["state"] == "IDLE");
}

TEST_CASE("a device that reads one register at a time is polled with max_registers_per_read 1",
          "[e2e][modbus][pymodbus]") {
  temp_dir dir;
  const std::vector<device_point> points{{"input", 0, "uint16", 11},
                                         {"input", 1, "float64", 2.5, "little"},
                                         {"input", 5, "int32", -7}};
  modbus_device device(dir, points, /*max_per_read=*/1);
  const int api_port = free_port();
  const auto cfg = write_config(
      dir, api_port,
      json::array({modbus_machine("single", device.port(), points, 200, {{"max_registers_per_read", 1}}),
                   modbus_machine("grouped", device.port(), points, 200)}));
  auto daemon = start_daemon(dir, api_port, cfg);
  const bool settled = wait_until(
      [&] {
        return all_metrics_seen(machine(api_port, "single")) &&
               machine(api_port, "grouped")["status"] == "offline";
      },
      std::chrono::seconds(20));
  auto single = machine(api_port, "single");
  auto grouped = machine(api_port, "grouped");
  INFO(single.dump(2) << "\n" << grouped.dump(2));
  REQUIRE(settled);
  CHECK(single["status"] == "online");
  CHECK(single["polls"]["failed"] == 0);
  CHECK(single["metrics"]["input_0_uint16"]["value"] == 11);
  CHECK(single["metrics"]["input_1_float64"]["value"] == 2.5);
  CHECK(single["metrics"]["input_5_int32"]["value"] == -7);
  // The same device read in one request refuses it.
  CHECK(grouped["last_error"] == "input 0..6: Illegal data address (exception 2)");
  for (const auto& line : device.reads())
    CHECK(line.substr(line.size() - 2) == " 1");
}

TEST_CASE("the daemon polls edgemes-sim over Modbus with the config it prints, and stores the "
          "numbers of the sim's last reply exactly",
          "[e2e][modbus][sim]") {
  temp_dir dir;
  const int modbus_port = free_port(), http_port = free_port(), api_port = free_port();
  process print({binary("edgemes-sim"), "--machines", "4", "--modbus-port", std::to_string(modbus_port),
                 "--print-config", "modbus"},
                dir.file("print.log"));
  REQUIRE(print.wait(std::chrono::seconds(10)) == 0);
  auto cfg = nlohmann::ordered_json::parse(print.log());
  cfg["database"] = {{"path", dir.file("factory.db")}};
  cfg["writer"] = {{"flush_interval_ms", 100}};
  cfg["api"] = {{"bind", "127.0.0.1"}, {"port", api_port}};
  for (auto& m : cfg["lines"][0]["machines"])
    m["poll_interval_ms"] = 200;
  const auto path = dir.file("edgemes.json");
  write_file(path, cfg.dump(2));

  process sim({binary("edgemes-sim"), "--machines", "4", "--modbus-port", std::to_string(modbus_port),
               "--port", std::to_string(http_port)},
              dir.file("sim.log"));
  REQUIRE(wait_until([&] { return sim.log().find("modbus listening") != std::string::npos; },
                     std::chrono::seconds(10)));
  const std::vector<std::string> ids{"m0001", "m0002", "m0003", "m0004"};
  {
    auto daemon = start_daemon(dir, api_port, path);
    const bool polled = wait_until(
        [&] {
          for (const auto& id : ids) {
            auto m = machine(api_port, id);
            if (!all_metrics_seen(m) || m["polls"]["ok"].get<int64_t>() < 5)
              return false;
          }
          return true;
        },
        std::chrono::seconds(30));
    for (const auto& id : ids) {
      auto m = machine(api_port, id);
      INFO(m.dump(2));
      CHECK(m["status"] == "online");
      CHECK(m["polls"]["failed"] == 0);
      CHECK(m["polls"]["problems"] == 0);
    }
    REQUIRE(polled);
    daemon->signal(SIGTERM);  // the poll in flight is stored before it exits
    REQUIRE(daemon->wait(std::chrono::seconds(30)) == 0);
  }
  // The sim's last reply of each machine is the one the daemon's last poll read.
  std::map<std::string, std::map<std::string, double>> last;
  std::istringstream in(http_get(http_port, "/metrics").body);
  for (std::string line; std::getline(in, line);) {
    const auto brace = line.find('{');
    if (line.rfind("edgemes_sim_", 0) != 0 || brace == std::string::npos)
      continue;
    const auto id_at = line.find("machine=\"") + 9;
    last[line.substr(id_at, line.find('"', id_at) - id_at)][line.substr(12, brace - 12)] =
        std::stod(line.substr(line.rfind(' ') + 1));
  }
  // Read what was stored through the API of a daemon that can no longer reach the sim.
  for (auto& m : cfg["lines"][0]["machines"])
    m["source"]["port"] = free_port();
  write_file(path, cfg.dump(2));
  auto reader = start_daemon(dir, api_port, path, "edgemes-2.log");
  for (const auto& id : ids) {
    auto m = machine(api_port, id);
    INFO(m.dump(2));
    for (const auto& [name, v] : m["metrics"].items()) {
      INFO(name);
      CHECK(v["value"].get<double>() == last.at(id).at(name));
    }
  }
}
