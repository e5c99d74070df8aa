// Tests for config/validate_modbus.cpp: a modbus_tcp machine's source keys and
// register map parse into config's structs with their defaults, and every
// kind of mistake names its JSON path and what is wrong.
#include "config/config.hpp"
#include "tests/config/config_cases.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace edgemes;
using edgemes::test::config_cases::broken_case;
using edgemes::test::config_cases::has_problem;

namespace {

std::string doc(const std::string& machine) {
  return R"({"lines": [{"id": "l1", "machines": [)" + machine + "]}]}";
}

// A valid modbus machine; `source`, `metrics` and `extra` replace its parts.
std::string modbus_machine(const std::string& source = R"("host": "10.0.0.7")",
                           const std::string& metrics =
                               R"("zone1_c": {"table": "holding", "address": 100, "type": "int16", "scale": 0.1})",
                           const std::string& extra = "") {
  return R"({"id": "oven", "type": "reflow", "source": {"adapter": "modbus_tcp", )" + source +
         R"(}, "metrics": {)" + metrics + "}" + extra + "}";
}

} // namespace

TEST_CASE("a modbus_tcp machine parses into its source settings and register map", "[config][modbus]") {
  const auto r = config::parse(doc(modbus_machine(
      R"("host": "oven-plc.local", "port": 5020, "unit_id": 3, "timeout_ms": 1500,
         "max_registers_per_read": 60, "max_gap": 4)",
      R"("zone1_c": {"table": "holding", "address": 100, "type": "int16", "scale": 0.1},
         "boards_total": {"table": "input", "address": 0, "type": "uint32", "word_order": "little"},
         "o2_ppm": {"table": "holding", "address": 102, "type": "float32", "byte_order": "little", "offset": -3.5},
         "door_open": {"table": "discrete", "address": 7, "type": "bool"})",
      R"(, "state": {"table": "holding", "address": 110, "type": "uint16",
                     "map": {"0": "IDLE", "1": "RUN", "-1": "ALARM"}})")));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  const auto& m = r.value.lines[0].machines[0];
  CHECK(m.source.adapter == "modbus_tcp");
  CHECK(m.source.host == "oven-plc.local");
  CHECK(m.source.port == 5020);
  CHECK(m.source.unit_id == 3);
  CHECK(m.source.timeout_ms == 1500);
  CHECK(m.source.max_registers_per_read == 60);
  CHECK(m.source.max_gap == 4);
  const std::vector<std::pair<std::string, std::string>> names{
      {"zone1_c", ""}, {"boards_total", ""}, {"o2_ppm", ""}, {"door_open", ""}};
  CHECK(m.metrics == names);  // metric names in file order, no pointers
  REQUIRE(m.registers.metrics.size() == 4);
  const auto& zone = m.registers.metrics[0];
  CHECK(zone.table == "holding");
  CHECK(zone.address == 100);
  CHECK(zone.type == "int16");
  CHECK(zone.word_order == "big");
  CHECK(zone.byte_order == "big");
  CHECK(zone.scale == 0.1);
  CHECK(zone.offset == 0);
  CHECK(m.registers.metrics[1].word_order == "little");
  CHECK(m.registers.metrics[2].byte_order == "little");
  CHECK(m.registers.metrics[2].offset == -3.5);
  CHECK(m.registers.metrics[3].table == "discrete");
  CHECK(m.registers.has_state);
  CHECK(m.registers.state.address == 110);
  CHECK(m.registers.state_map == std::map<int64_t, std::string>{{-1, "ALARM"}, {0, "IDLE"}, {1, "RUN"}});
  CHECK(m.state.empty());
  CHECK(m.dashboard.key_metrics == std::vector<std::string>{"o2_ppm", "boards_total"});  // reflow's tile

  // to_json writes the map back in the file's shape.
  const auto j = config::to_json(r.value)["lines"][0]["machines"][0];
  CHECK(j["metrics"]["boards_total"]["word_order"] == "little");
  CHECK(j["state"]["map"]["-1"] == "ALARM");
  CHECK(j["source"]["unit_id"] == 3);
}

TEST_CASE("modbus_tcp source keys take their documented defaults", "[config][modbus]") {
  const auto r = config::parse(doc(modbus_machine()));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  const auto& s = r.value.lines[0].machines[0].source;
  CHECK(s.port == 502);
  CHECK(s.unit_id == 1);
  CHECK(s.timeout_ms == 2000);
  CHECK(s.max_registers_per_read == 125);
  CHECK(s.max_gap == 8);
  CHECK_FALSE(r.value.lines[0].machines[0].registers.has_state);
}

TEST_CASE("two metrics may read the same registers alike, e.g. scaled two ways", "[config][modbus]") {
  const auto r = config::parse(doc(modbus_machine(
      R"("host": "h")",
      R"("temp_c": {"table": "holding", "address": 4, "type": "int32", "scale": 0.1},
         "temp_raw": {"table": "holding", "address": 4, "type": "int32"},
         "same_address_other_table": {"table": "input", "address": 4, "type": "int32"})")));
  INFO(config::format_problems(r.problems));
  CHECK(r.ok());
}

TEST_CASE("each kind of broken modbus_tcp machine names its path and what is wrong", "[config][modbus]") {
  const std::string m0 = "/lines/0/machines/0";
  const auto one = [](const std::string& reg) { return doc(modbus_machine(R"("host": "h")", R"("x": )" + reg)); };
  const std::vector<broken_case> cases{
      {"missing host", doc(modbus_machine(R"("port": 502)")), m0 + "/source/host",
       "missing required key 'host' (the modbus_tcp adapter connects to it)"},
      {"empty host", doc(modbus_machine(R"("host": "")")), m0 + "/source/host", "must not be empty"},
      {"host with a port", doc(modbus_machine(R"("host": "10.0.0.7:502")")), m0 + "/source/host",
       "the port goes in 'port'"},
      {"port zero", doc(modbus_machine(R"("host": "h", "port": 0)")), m0 + "/source/port",
       "must be between 1 and 65535, got 0"},
      {"port too big", doc(modbus_machine(R"("host": "h", "port": 70000)")), m0 + "/source/port",
       "must be between 1 and 65535, got 70000"},
      {"unit id too big", doc(modbus_machine(R"("host": "h", "unit_id": 256)")), m0 + "/source/unit_id",
       "must be between 0 and 255, got 256"},
      {"max_registers_per_read zero", doc(modbus_machine(R"("host": "h", "max_registers_per_read": 0)")),
       m0 + "/source/max_registers_per_read", "must be between 1 and 125, got 0"},
      {"max_registers_per_read over the protocol's", doc(modbus_machine(R"("host": "h", "max_registers_per_read": 126)")),
       m0 + "/source/max_registers_per_read", "must be between 1 and 125, got 126"},
      {"negative max_gap", doc(modbus_machine(R"("host": "h", "max_gap": -1)")), m0 + "/source/max_gap",
       "must be between 0 and 124, got -1"},
      {"url on modbus", doc(modbus_machine(R"("host": "h", "url": "http://h/x")")), m0 + "/source/url",
       "the modbus_tcp adapter takes host and port, not a url"},
      {"seed on modbus", doc(modbus_machine(R"("host": "h", "seed": 1)")), m0 + "/source/seed",
       "seed applies only to the sim adapter"},
      {"max_reply_bytes on modbus", doc(modbus_machine(R"("host": "h", "max_reply_bytes": 10)")),
       m0 + "/source/max_reply_bytes", "applies only to the http_json adapter"},
      {"host on http_json", doc(R"({"id": "p", "source": {"adapter": "http_json", "url": "http://h/x", "host": "h"},
             "metrics": {"a": "/a"}})"),
       m0 + "/source/host", "host applies only to the modbus_tcp adapter"},
      {"unit_id on sim", doc(R"({"id": "p", "type": "aoi", "source": {"adapter": "sim", "unit_id": 2}})"),
       m0 + "/source/unit_id", "unit_id applies only to the modbus_tcp adapter"},
      {"nothing to read", doc(R"({"id": "p", "source": {"adapter": "modbus_tcp", "host": "h"}})"), m0,
       "a modbus_tcp machine needs at least one metric or a state"},
      {"metric as a pointer", one(R"("/zones/0")"), m0 + "/metrics/x",
       "expected an object {\"table\", \"address\", \"type\", ...}, got string"},
      {"unknown register key", one(R"({"table": "holding", "address": 1, "type": "int16", "scael": 2})"),
       m0 + "/metrics/x/scael",
       "unknown key 'scael' (expected one of: table, address, type, word_order, byte_order, scale, offset)"},
      {"missing table", one(R"({"address": 1, "type": "int16"})"), m0 + "/metrics/x/table",
       "missing required key 'table'"},
      {"missing address", one(R"({"table": "holding", "type": "int16"})"), m0 + "/metrics/x/address",
       "missing required key 'address'"},
      {"missing type", one(R"({"table": "holding", "address": 1})"), m0 + "/metrics/x/type",
       "missing required key 'type'"},
      {"unknown table", one(R"({"table": "holding_register", "address": 1, "type": "int16"})"),
       m0 + "/metrics/x/table",
       "unknown table 'holding_register' (expected one of: coil, discrete, input, holding)"},
      {"unknown type", one(R"({"table": "holding", "address": 1, "type": "uint64"})"), m0 + "/metrics/x/type",
       "unknown type 'uint64' (expected one of: int16, uint16, int32, uint32, int64, float32, float64, bool)"},
      {"unknown word order", one(R"({"table": "holding", "address": 1, "type": "int32", "word_order": "swapped"})"),
       m0 + "/metrics/x/word_order", "unknown word_order 'swapped' (expected one of: big, little)"},
      {"unknown byte order", one(R"({"table": "holding", "address": 1, "type": "int32", "byte_order": "LE"})"),
       m0 + "/metrics/x/byte_order", "unknown byte_order 'LE' (expected one of: big, little)"},
      {"negative address", one(R"({"table": "holding", "address": -1, "type": "int16"})"),
       m0 + "/metrics/x/address", "must be between 0 and 65535, got -1"},
      {"address too big", one(R"({"table": "holding", "address": 65536, "type": "int16"})"),
       m0 + "/metrics/x/address", "must be between 0 and 65535, got 65536"},
      {"address as text", one(R"({"table": "holding", "address": "40001", "type": "int16"})"),
       m0 + "/metrics/x/address", "expected an integer, got string"},
      {"32-bit value past 65535", one(R"({"table": "input", "address": 65535, "type": "float32"})"),
       m0 + "/metrics/x/address", "float32 at 65535 needs registers 65535..65536, past the last address 65535"},
      {"64-bit value past 65535", one(R"({"table": "holding", "address": 65533, "type": "int64"})"),
       m0 + "/metrics/x/address", "int64 at 65533 needs registers 65533..65536"},
      {"bool on a register table", one(R"({"table": "holding", "address": 1, "type": "bool"})"),
       m0 + "/metrics/x/type", "bool reads a bit: use table coil or discrete"},
      {"word type on a coil", one(R"({"table": "coil", "address": 1, "type": "uint16"})"),
       m0 + "/metrics/x/type", "a coil holds one bit: its type must be bool, not uint16"},
      {"word type on a discrete input", one(R"({"table": "discrete", "address": 1, "type": "float32"})"),
       m0 + "/metrics/x/type", "a discrete holds one bit: its type must be bool, not float32"},
      {"scale zero", one(R"({"table": "holding", "address": 1, "type": "int16", "scale": 0})"),
       m0 + "/metrics/x/scale", "must not be 0"},
      {"scale as text", one(R"({"table": "holding", "address": 1, "type": "int16", "scale": "0.1"})"),
       m0 + "/metrics/x/scale", "expected a number, got string"},
      {"offset as text", one(R"({"table": "holding", "address": 1, "type": "int16", "offset": null})"),
       m0 + "/metrics/x/offset", "expected a number, got null"},
      {"bad metric name", doc(modbus_machine(R"("host": "h")", R"("a b": {"table": "holding", "address": 1, "type": "int16"})")),
       m0 + "/metrics/a b", "invalid metric name 'a b'"},
      {"overlapping 32-bit values", doc(modbus_machine(R"("host": "h")",
           R"("a": {"table": "holding", "address": 100, "type": "float32"},
              "b": {"table": "holding", "address": 101, "type": "float32"})")),
       m0 + "/metrics/b",
       "registers holding 101..102 overlap holding 100..101 of /lines/0/machines/0/metrics/a"},
      {"a 16-bit value inside a 64-bit one", doc(modbus_machine(R"("host": "h")",
           R"("a": {"table": "input", "address": 10, "type": "float64"},
              "b": {"table": "input", "address": 13, "type": "uint16"})")),
       m0 + "/metrics/b", "registers input 13 overlap input 10..13 of /lines/0/machines/0/metrics/a"},
      {"same register read two ways", doc(modbus_machine(R"("host": "h")",
           R"("a": {"table": "holding", "address": 10, "type": "int32"},
              "b": {"table": "holding", "address": 10, "type": "int32", "word_order": "little"})")),
       m0 + "/metrics/b", "same address, type and orders"},
      {"the state on a metric's register", doc(modbus_machine(R"("host": "h")",
           R"("a": {"table": "holding", "address": 10, "type": "uint16"})",
           R"(, "state": {"table": "holding", "address": 10, "type": "int16", "map": {"1": "RUN"}})")),
       m0 + "/state", "overlap holding 10 of /lines/0/machines/0/metrics/a"},
      {"state as a pointer", doc(modbus_machine(R"("host": "h")", R"("a": {"table": "holding", "address": 1, "type": "int16"})",
                                                R"(, "state": "/state")")),
       m0 + "/state", "expected an object"},
      {"state without map", doc(modbus_machine(R"("host": "h")", R"("a": {"table": "holding", "address": 1, "type": "int16"})",
                                               R"(, "state": {"table": "holding", "address": 2, "type": "uint16"})")),
       m0 + "/state/map", "missing required key 'map'"},
      {"state empty map", doc(modbus_machine(R"("host": "h")", R"("a": {"table": "holding", "address": 1, "type": "int16"})",
                                             R"(, "state": {"table": "holding", "address": 2, "type": "uint16", "map": {}})")),
       m0 + "/state/map", "needs at least one code"},
      {"state code not a number", doc(modbus_machine(R"("host": "h")", R"("a": {"table": "holding", "address": 1, "type": "int16"})",
                                                     R"(, "state": {"table": "holding", "address": 2, "type": "uint16", "map": {"run": "RUN"}})")),
       m0 + "/state/map/run", "a state code must be a whole number written in decimal, got 'run'"},
      {"state code with a fraction", doc(modbus_machine(R"("host": "h")", R"("a": {"table": "holding", "address": 1, "type": "int16"})",
                                                        R"(, "state": {"table": "holding", "address": 2, "type": "uint16", "map": {"1.5": "RUN"}})")),
       m0 + "/state/map/1.5", "got '1.5'"},
      {"state text empty", doc(modbus_machine(R"("host": "h")", R"("a": {"table": "holding", "address": 1, "type": "int16"})",
                                              R"(, "state": {"table": "holding", "address": 2, "type": "uint16", "map": {"1": ""}})")),
       m0 + "/state/map/1", "expected the state's text (a non-empty string)"},
      {"state as a float", doc(modbus_machine(R"("host": "h")", R"("a": {"table": "holding", "address": 1, "type": "int16"})",
                                              R"(, "state": {"table": "holding", "address": 2, "type": "float32", "map": {"1": "RUN"}})")),
       m0 + "/state/type", "a state code is an integer"},
      {"map on a metric", one(R"({"table": "holding", "address": 1, "type": "int16", "map": {"1": "RUN"}})"),
       m0 + "/metrics/x/map", "unknown key 'map'"},
  };
  test::config_cases::check_broken(cases);
}

TEST_CASE("every mistake of one register map is reported in one pass", "[config][modbus]") {
  const auto r = config::parse(doc(modbus_machine(
      R"("port": 0)",
      R"("a": {"table": "holdings", "address": 1, "type": "int16"},
         "b": {"table": "coil", "address": 1, "type": "int16"},
         "c": {"table": "holding", "address": 70000, "type": "int16"},
         "d": {"table": "holding", "address": 5, "type": "int32"},
         "e": {"table": "holding", "address": 6, "type": "int16"})")));
  INFO(config::format_problems(r.problems));
  CHECK(r.problems.size() == 6);
  CHECK(has_problem(r, "/lines/0/machines/0/source/host", "missing required key 'host'"));
  CHECK(has_problem(r, "/lines/0/machines/0/source/port", "must be between 1 and 65535"));
  CHECK(has_problem(r, "/lines/0/machines/0/metrics/a/table", "unknown table 'holdings'"));
  CHECK(has_problem(r, "/lines/0/machines/0/metrics/b/type", "a coil holds one bit"));
  CHECK(has_problem(r, "/lines/0/machines/0/metrics/c/address", "got 70000"));
  CHECK(has_problem(r, "/lines/0/machines/0/metrics/e", "overlap holding 5..6"));
}

TEST_CASE("every full example in docs/CONFIG.md parses cleanly, the Modbus oven's included",
          "[config][modbus][docs]") {
  const std::string text = test::read_file(test::source_path("docs/CONFIG.md"));
  const std::string fence = "```jsonc\n";
  size_t examples = 0, modbus = 0;
  for (size_t start = text.find(fence); start != std::string::npos;
       start = text.find(fence, start + fence.size())) {
    const size_t end = text.find("```", start + fence.size());
    REQUIRE(end != std::string::npos);
    const auto r = config::parse(text.substr(start + fence.size(), end - start - fence.size()), "CONFIG.md");
    INFO("example " << examples << ":\n" << config::format_problems(r.problems));
    // An example may name files of a real box (the MQTT broker's password
    // and CA files): their absence here is the only problem allowed.
    for (const auto& p : r.problems)
      CHECK(p.message.rfind("cannot read /etc/edgemes/", 0) == 0);
    ++examples;
    for (const auto& line : r.value.lines)
      for (const auto& m : line.machines)
        if (m.source.adapter == "modbus_tcp") {
          ++modbus;
          CHECK(m.registers.metrics.size() == m.metrics.size());
          CHECK(m.registers.has_state);
        }
  }
  CHECK(examples >= 2);
  CHECK(modbus >= 1);
}
