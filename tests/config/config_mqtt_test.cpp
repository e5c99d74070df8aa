// Tests for config/validate_mqtt.cpp: the `mqtt` section's brokers and the
// rules of a machine whose source is `mqtt` — every mistake names its path.
#include "config/config.hpp"
#include "tests/config/config_cases.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace edgemes;
using edgemes::test::config_cases::broken_case;
using edgemes::test::config_cases::has_problem;

namespace {

const std::string kBroker = R"({"id": "floor", "host": "10.0.0.5"})";

std::string mqtt_machine(const std::string& id, const std::string& source_extra,
                         const std::string& machine_extra = "") {
  return R"({"id": ")" + id + R"(", "type": "placer", "source": {"adapter": "mqtt")" +
         source_extra + R"(}, "metrics": {"boards": "/counters/boards"})" + machine_extra + "}";
}

std::string doc(const std::string& brokers, const std::string& machines) {
  return R"({"mqtt": {"brokers": [)" + brokers + R"(]}, "lines": [{"id": "l1", "machines": [)" +
         machines + "]}]}";
}

const std::string kGoodSource = R"(, "broker": "floor", "topic": "smt1/placer1")";

} // namespace

TEST_CASE("an mqtt machine parses with its broker's defaults and a derived client id",
          "[config][mqtt]") {
  const auto r = config::parse(doc(kBroker, mqtt_machine("p1", kGoodSource)));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  const auto& b = r.value.mqtt.brokers.at(0);
  CHECK(b.host == "10.0.0.5");
  CHECK(b.port == 1883);
  CHECK(b.keepalive_s == 30);
  CHECK(b.max_pending_bytes == 8 << 20);
  CHECK(config::mqtt_client_id(r.value, b) == "edgemes-edgemes-floor");
  const auto& s = r.value.lines.at(0).machines.at(0).source;
  CHECK(s.adapter == "mqtt");
  CHECK(s.broker == "floor");
  CHECK(s.topic == "smt1/placer1");
  CHECK(s.stale_after_ms == 10000);
  CHECK(s.timestamp.empty());
  CHECK(s.max_payload_bytes == 65536);
}

TEST_CASE("the derived client id keeps only id characters of the site, an explicit one is kept",
          "[config][mqtt]") {
  config::config c;
  c.site = "Hall 3/Line A";
  config::mqtt_broker_config b;
  b.id = "floor";
  CHECK(config::mqtt_client_id(c, b) == "edgemes-Hall_3_Line_A-floor");
  b.client_id = "my-edge-box";
  CHECK(config::mqtt_client_id(c, b) == "my-edge-box");
}

TEST_CASE("a broker with TLS and a password file that can be read parses", "[config][mqtt]") {
  test::temp_dir dir;
  for (const char* f : {"secret", "ca.pem", "cert.pem", "key.pem"})
    test::write_file(dir.file(f), "x\n");
  const std::string broker = R"({"id": "floor", "host": "broker.plant", "port": 8883,
      "username": "edgemes", "password_file": ")" + dir.file("secret") + R"(",
      "ca_file": ")" + dir.file("ca.pem") + R"(", "cert_file": ")" + dir.file("cert.pem") +
                             R"(", "key_file": ")" + dir.file("key.pem") + R"("})";
  const auto r = config::parse(doc(broker, mqtt_machine("p1", kGoodSource)));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  CHECK(r.value.mqtt.brokers[0].password_file == dir.file("secret"));
  CHECK(r.value.mqtt.brokers[0].ca_file == dir.file("ca.pem"));
}

TEST_CASE("each kind of broken mqtt config names its path and what is wrong", "[config][mqtt]") {
  const std::string m0 = "/lines/0/machines/0";
  const std::vector<broken_case> cases{
      {"unknown broker id", doc(kBroker, mqtt_machine("p1", R"(, "broker": "hall", "topic": "t")")),
       m0 + "/source/broker", "unknown broker 'hall' (declared in /mqtt/brokers: floor)"},
      {"a broker when none is declared",
       R"({"lines": [{"id": "l1", "machines": [)" + mqtt_machine("p1", kGoodSource) + "]}]}",
       m0 + "/source/broker", "no brokers declared: add one to /mqtt/brokers"},
      {"duplicate broker ids", doc(kBroker + "," + kBroker, mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/1/id", "duplicate broker id 'floor' (first at /mqtt/brokers/0)"},
      {"missing broker", doc(kBroker, mqtt_machine("p1", R"(, "topic": "t")")),
       m0 + "/source/broker", "missing required key 'broker'"},
      {"missing topic", doc(kBroker, mqtt_machine("p1", R"(, "broker": "floor")")),
       m0 + "/source/topic", "missing required key 'topic'"},
      {"empty topic", doc(kBroker, mqtt_machine("p1", R"(, "broker": "floor", "topic": "")")),
       m0 + "/source/topic", "expected a topic, got an empty string"},
      {"single-level wildcard", doc(kBroker, mqtt_machine("p1", R"(, "broker": "floor", "topic": "smt1/+/status")")),
       m0 + "/source/topic", "has a wildcard (+ or #)"},
      {"multi-level wildcard", doc(kBroker, mqtt_machine("p1", R"(, "broker": "floor", "topic": "smt1/#")")),
       m0 + "/source/topic", "has a wildcard (+ or #)"},
      {"one topic for two machines",
       doc(kBroker, mqtt_machine("p1", kGoodSource) + "," + mqtt_machine("p2", kGoodSource)),
       "/lines/0/machines/1/source/topic",
       "topic 'smt1/placer1' on broker 'floor' is already another machine's (/lines/0/machines/0/source/topic)"},
      {"a url on an mqtt machine",
       doc(kBroker, mqtt_machine("p1", kGoodSource + R"(, "url": "http://x/y")")), m0 + "/source/url",
       "the mqtt adapter takes no url"},
      {"a seed on an mqtt machine", doc(kBroker, mqtt_machine("p1", kGoodSource + R"(, "seed": 3)")),
       m0 + "/source/seed", "seed applies only to the sim adapter"},
      {"a topic on an http_json machine",
       doc(kBroker, R"({"id": "m1", "source": {"adapter": "http_json", "url": "http://h/x", "topic": "t"},
            "metrics": {"a": "/a"}})"),
       m0 + "/source/topic", "topic applies only to the mqtt adapter"},
      {"no metrics and no state",
       doc(kBroker, R"({"id": "p1", "source": {"adapter": "mqtt", "broker": "floor", "topic": "t"}})"),
       m0, "an mqtt machine needs at least one metric or a state"},
      {"a timestamp that is no pointer",
       doc(kBroker, mqtt_machine("p1", kGoodSource + R"(, "timestamp": "ts")")),
       m0 + "/source/timestamp", "must start with '/'"},
      {"stale_after_ms too short", doc(kBroker, mqtt_machine("p1", kGoodSource + R"(, "stale_after_ms": 5)")),
       m0 + "/source/stale_after_ms", "must be between 100 and 86400000"},
      {"max_payload_bytes over MQTT's limit",
       doc(kBroker, mqtt_machine("p1", kGoodSource + R"(, "max_payload_bytes": 300000000)")),
       m0 + "/source/max_payload_bytes", "must be between 16 and 268435455"},
      {"broker without host", doc(R"({"id": "floor"})", mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/0/host", "missing required key 'host'"},
      {"broker host with a scheme", doc(R"({"id": "floor", "host": "mqtt://10.0.0.5"})", mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/0/host", "expected a host name or IP address (no scheme, no port)"},
      {"broker port out of range", doc(R"({"id": "floor", "host": "h", "port": 70000})", mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/0/port", "must be between 1 and 65535"},
      {"keepalive of 0", doc(R"({"id": "floor", "host": "h", "keepalive_s": 0})", mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/0/keepalive_s", "must be between 5 and 65535"},
      {"password_file that cannot be read",
       doc(R"({"id": "floor", "host": "h", "username": "u", "password_file": "/nonexistent/secret"})",
           mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/0/password_file", "cannot read /nonexistent/secret: No such file or directory"},
      {"password_file without username",
       doc(R"({"id": "floor", "host": "h", "password_file": "/etc/hostname"})", mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/0/password_file", "a password needs a username"},
      {"cert_file without key_file",
       doc(R"({"id": "floor", "host": "h", "ca_file": "/etc/hostname", "cert_file": "/etc/hostname"})",
           mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/0/key_file", "a client certificate needs both cert_file and key_file"},
      {"client certificate without ca_file",
       doc(R"({"id": "floor", "host": "h", "cert_file": "/etc/hostname", "key_file": "/etc/hostname"})",
           mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/0/ca_file", "TLS needs ca_file"},
      {"two brokers with one client id",
       doc(R"({"id": "a", "host": "h", "client_id": "box"}, {"id": "b", "host": "h", "client_id": "box"})",
           mqtt_machine("p1", R"(, "broker": "a", "topic": "t")")),
       "/mqtt/brokers/1/client_id", "client_id 'box' is also the broker's at /mqtt/brokers/0"},
      {"unknown broker key", doc(R"({"id": "floor", "host": "h", "qos": 2})", mqtt_machine("p1", kGoodSource)),
       "/mqtt/brokers/0/qos", "unknown key 'qos'"},
      {"unknown mqtt key", R"({"mqtt": {"broker": []}, "lines": [{"id": "l1", "machines": [)" +
                               mqtt_machine("p1", kGoodSource) + "]}]}",
       "/mqtt/broker", "unknown key 'broker' (expected one of: brokers)"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const auto r = config::parse(c.text);
    INFO(config::format_problems(r.problems));
    CHECK(has_problem(r, c.path, c.message));
  }
}

TEST_CASE("the MQTT example in docs/CONFIG.md parses cleanly once its files exist", "[config][mqtt]") {
  test::temp_dir dir;
  std::string doc = test::read_file(test::source_path("docs/CONFIG.md"));
  const size_t section = doc.find("### Example: a placer publishing over MQTT");
  REQUIRE(section != std::string::npos);
  const std::string fence = "```jsonc\n";
  const size_t start = doc.find(fence, section);
  REQUIRE(start != std::string::npos);
  const size_t end = doc.find("```", start + fence.size());
  REQUIRE(end != std::string::npos);
  std::string text = doc.substr(start + fence.size(), end - start - fence.size());
  for (const char* f : {"mqtt-password", "plant-ca.pem"}) {
    test::write_file(dir.file(f), "x\n");
    const std::string from = std::string("/etc/edgemes/") + f;
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), dir.file(f));
  }
  const auto r = config::parse(text, "CONFIG.md");
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  CHECK(r.value.lines.at(0).machines.at(0).source.topic == "smt1/placer1/status");
}
