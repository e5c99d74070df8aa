// Tests for config/config.cpp: every kind of broken config names its path and
// says what is wrong; the shipped configs parse; defaults, comments and metric
// order behave as documented.
#include "adapters/sim_model.hpp"
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

// A valid config with one http_json machine; cases below break one piece of it.
std::string machine_json(const std::string& source, const std::string& extra = "") {
  return R"({"id": "m1", "type": "placer", "source": )" + source +
         R"(, "metrics": {"boards": "/counters/boards"})" + extra + "}";
}
const std::string kHttpSource = R"({"adapter": "http_json", "url": "http://127.0.0.1:9100/m1"})";

std::string doc_with_machines(const std::string& machines, const std::string& top = "") {
  return "{" + top + R"("lines": [{"id": "l1", "machines": [)" + machines + "]}]}";
}
std::string doc_with_top(const std::string& top) {
  return doc_with_machines(machine_json(kHttpSource), top + ",");
}

const std::string kContractExample = R"({ "site": "assembly-hub",
  "database": { "path": "data/factory.db", "synchronous": "NORMAL", "cache_size_kib": 64000, "busy_timeout_ms": 5000 },
  "writer":   { "max_batch": 5000, "flush_interval_ms": 500, "max_queue": 200000 },
  "api":      { "bind": "127.0.0.1", "port": 8080, "query_actors": 4 },
  "lines": [ { "id": "smt1", "name": "SMT Line 1", "machines": [
      { "id": "smt1-placer1", "name": "Pick & place 1", "type": "placer", "poll_interval_ms": 1000,
        "source": { "adapter": "http_json", "url": "http://127.0.0.1:9100/machines/smt1-placer1/status", "timeout_ms": 2000 },
        "metrics": { "placements_total": "/counters/placements", "cycle_time_s": "/cycle_time_s", "zone1_c": "/oven/zones/0" },
        "state": "/state" } ] } ] })";

} // namespace

TEST_CASE("the contract example from the issue parses cleanly", "[config]") {
  const auto r = config::parse(kContractExample);
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  const auto& c = r.value;
  CHECK(c.site == "assembly-hub");
  CHECK(c.database.path == "data/factory.db");
  CHECK(c.api.query_actors == 4);
  REQUIRE(c.lines.size() == 1);
  REQUIRE(c.lines[0].machines.size() == 1);
  const auto& m = c.lines[0].machines[0];
  CHECK(m.name == "Pick & place 1");
  CHECK(m.source.adapter == "http_json");
  CHECK(m.source.url == "http://127.0.0.1:9100/machines/smt1-placer1/status");
  CHECK(m.source.timeout_ms == 2000);
  CHECK(m.state == "/state");
}

TEST_CASE("metrics keep the order they have in the file", "[config]") {
  const auto r = config::parse(kContractExample);
  REQUIRE(r.ok());
  const std::vector<std::pair<std::string, std::string>> expected{
      {"placements_total", "/counters/placements"},
      {"cycle_time_s", "/cycle_time_s"},
      {"zone1_c", "/oven/zones/0"}};
  CHECK(r.value.lines[0].machines[0].metrics == expected);
}

TEST_CASE("the embedded demo config parses cleanly into one line of five sim machines", "[config]") {
  const auto r = config::parse(config::demo_text(), "<embedded demo>");
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  CHECK(r.value.site == "demo-hub");
  CHECK(r.value.database.path == "data/demo.db");
  CHECK(r.value.api.port == 8080);
  CHECK(r.value.api.bind == "127.0.0.1");
  REQUIRE(r.value.lines.size() == 1);
  CHECK(r.value.lines[0].id == "smt1");
  std::vector<std::string> ids;
  for (const auto& m : r.value.lines[0].machines) {
    ids.push_back(m.id);
    CHECK(m.source.adapter == "sim");
    CHECK(m.metrics.empty());  // the daemon fills the sim type's standard metrics
    CHECK(m.state.empty());
    CHECK(m.poll_interval_ms == 1000);
  }
  CHECK(ids == std::vector<std::string>{"smt1-printer", "smt1-placer1", "smt1-placer2",
                                        "smt1-reflow", "smt1-aoi"});
}

TEST_CASE("config/example-http.json parses cleanly", "[config]") {
  const auto r = config::load_file(test::source_path("config/example-http.json"));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  REQUIRE(r.value.lines.size() == 1);
  CHECK(r.value.lines[0].machines.size() == 4);
  for (const auto& m : r.value.lines[0].machines) {
    CHECK(m.source.adapter == "http_json");
    CHECK(m.source.url == "http://127.0.0.1:9100/machines/" + m.id + "/status");
    CHECK_FALSE(m.metrics.empty());
  }
}

TEST_CASE("the example in docs/CONFIG.md parses cleanly", "[config]") {
  const std::string doc = test::read_file(test::source_path("docs/CONFIG.md"));
  const std::string fence = "```jsonc\n";
  const size_t start = doc.find(fence);
  REQUIRE(start != std::string::npos);
  const size_t end = doc.find("```", start + fence.size());
  REQUIRE(end != std::string::npos);
  const auto r = config::parse(doc.substr(start + fence.size(), end - start - fence.size()), "CONFIG.md");
  INFO(config::format_problems(r.problems));
  CHECK(r.ok());
}

TEST_CASE("line and block comments are accepted", "[config]") {
  const auto r = config::parse("// leading\n/* block\n comment */\n" +
                               doc_with_top(R"("site": /* inline */ "x" // trailing)" "\n"));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  CHECK(r.value.site == "x");
}

TEST_CASE("absent keys take the documented defaults", "[config]") {
  const auto r = config::parse(doc_with_machines(R"({"id": "p1", "type": "placer", "source": {"adapter": "sim"}})"));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  const config::config defaults;
  const auto& c = r.value;
  CHECK(c.site == "edgemes");
  CHECK(c.database.path == "data/factory.db");
  CHECK(c.database.synchronous == "NORMAL");
  CHECK(c.database.cache_size_kib == defaults.database.cache_size_kib);
  CHECK(c.database.read_cache_size_kib == 8000);
  CHECK(c.database.memory_limit_kib == 32768);
  CHECK(c.database.foreign_keys);
  CHECK(c.writer.max_batch == 5000);
  CHECK(c.writer.max_queue == 200000);
  CHECK(c.api.port == 8080);
  CHECK(c.api.query_actors == 0);
  CHECK(c.pollers.http_workers == 16);
  CHECK(c.lines[0].name == "l1");
  const auto& m = c.lines[0].machines[0];
  CHECK(m.name == "p1");
  CHECK(m.poll_interval_ms == 1000);
  CHECK(m.source.timeout_ms == 2000);
  CHECK(m.source.max_reply_bytes == (1 << 20));
  CHECK(m.source.seed == 0);
  CHECK(m.metrics.empty());
  CHECK(m.state.empty());
}

TEST_CASE("synchronous is accepted in any case and stored upper-case", "[config]") {
  const auto r = config::parse(doc_with_top(R"("database": {"synchronous": "full"})"));
  REQUIRE(r.ok());
  CHECK(r.value.database.synchronous == "FULL");
}

TEST_CASE("bad JSON gives one problem with its line and column", "[config]") {
  const auto r = config::parse("{\n  \"site\": \"x\",\n  \"lines\": [,]\n}", "plant.json");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path.empty());
  const auto& msg = r.problems[0].message;
  INFO(msg);
  CHECK(msg.rfind("plant.json: line 3, column 13: ", 0) == 0);
  CHECK(msg.find("syntax error") != std::string::npos);
  CHECK(msg.find("json.exception") == std::string::npos);
}

TEST_CASE("truncated JSON points just past the end of the text", "[config]") {
  const auto r = config::parse("{\"lines\": [", "t.json");
  REQUIRE(r.problems.size() == 1);
  INFO(r.problems[0].message);
  CHECK(r.problems[0].message.rfind("t.json: line 1, column 12: ", 0) == 0);
  CHECK(r.problems[0].message.find("unexpected end of input") != std::string::npos);
}

TEST_CASE("each kind of broken config names its path and what is wrong", "[config]") {
  const std::string m0 = "/lines/0/machines/0";
  const auto sim = [](const std::string& id, const std::string& type) {
    return R"({"id": ")" + id + R"(", "type": ")" + type + R"(", "source": {"adapter": "sim"}})";
  };
  const auto http = [](const std::string& url) {
    return machine_json(R"({"adapter": "http_json", "url": ")" + url + R"("})");
  };
  const std::vector<broken_case> cases{
      {"top level not an object", "[1]", "", "expected a JSON object at the top level, got array"},
      {"missing lines", R"({"site": "x"})", "/lines", "missing required key 'lines'"},
      {"lines not an array", R"({"lines": {}})", "/lines", "expected an array, got object"},
      {"no machines", R"({"lines": [{"id": "l1", "machines": []}]})", "/lines", "no machines configured"},
      {"empty lines", R"({"lines": []})", "/lines", "no machines configured"},
      {"line without machines key", R"({"lines": [{"id": "l1"}]})", "/lines/0/machines",
       "missing required key 'machines'"},
      {"unknown top-level key", doc_with_top(R"("sight": "x")"), "/sight",
       "unknown key 'sight' (expected one of: site, database, writer, api, pollers, mqtt, shifts, "
       "run_states, e10, lines)"},
      {"unknown api key", doc_with_top(R"("api": {"prot": 1})"), "/api/prot",
       "unknown key 'prot' (expected one of: bind, port, query_actors, request_timeout_ms, max_pending, token, tokens)"},
      {"unknown machine key", doc_with_machines(machine_json(kHttpSource, R"(, "interval": 5)")),
       m0 + "/interval", "unknown key 'interval'"},
      {"unknown source key", doc_with_machines(machine_json(
           R"({"adapter": "http_json", "url": "http://h/x", "timout_ms": 5})")),
       m0 + "/source/timout_ms", "unknown key 'timout_ms' (expected one of: adapter, url, timeout_ms"},
      {"unknown line key", R"({"lines": [{"id": "l1", "nmae": "x", "machines": [)" + sim("p", "placer") + "]}]}",
       "/lines/0/nmae", "unknown key 'nmae'"},
      {"wrong type integer", doc_with_top(R"("writer": {"max_batch": "100"})"), "/writer/max_batch",
       "expected an integer, got string"},
      {"fractional integer", doc_with_top(R"("api": {"port": 80.5})"), "/api/port",
       "expected an integer, got number 80.5"},
      {"wrong type boolean", doc_with_top(R"("database": {"foreign_keys": 1})"), "/database/foreign_keys",
       "expected a boolean"},
      {"wrong type section", doc_with_top(R"("writer": [])"), "/writer", "expected an object, got array"},
      {"wrong type string", doc_with_top(R"("site": 7)"), "/site", "expected a string, got number"},
      {"port zero", doc_with_top(R"("api": {"port": 0})"), "/api/port", "must be between 1 and 65535, got 0"},
      {"port too big", doc_with_top(R"("api": {"port": 70000})"), "/api/port",
       "must be between 1 and 65535, got 70000"},
      {"too many query actors", doc_with_top(R"("api": {"query_actors": 300})"), "/api/query_actors",
       "must be between 0 and 256, got 300"},
      {"max_batch zero", doc_with_top(R"("writer": {"max_batch": 0})"), "/writer/max_batch",
       "must be between 1 and"},
      {"flush interval zero", doc_with_top(R"("writer": {"flush_interval_ms": 0})"), "/writer/flush_interval_ms",
       "must be between 1 and"},
      {"queue below batch", doc_with_top(R"("writer": {"max_batch": 100, "max_queue": 50})"),
       "/writer/max_queue", "must be at least max_batch (100), got 50"},
      {"huge unsigned", doc_with_top(R"("database": {"busy_timeout_ms": 18446744073709551615})"),
       "/database/busy_timeout_ms", "got 18446744073709551615"},
      {"unknown synchronous", doc_with_top(R"("database": {"synchronous": "fast"})"),
       "/database/synchronous", "unknown synchronous mode 'fast' (expected one of: OFF, NORMAL, FULL, EXTRA)"},
      {"empty database path", doc_with_top(R"("database": {"path": ""})"), "/database/path", "must not be empty"},
      {"poll interval too short", doc_with_machines(machine_json(kHttpSource, R"(, "poll_interval_ms": 5)")),
       m0 + "/poll_interval_ms", "must be between 10 and"},
      {"timeout zero", doc_with_machines(machine_json(
           R"({"adapter": "http_json", "url": "http://h/x", "timeout_ms": 0})")),
       m0 + "/source/timeout_ms", "must be between 1 and"},
      {"negative seed", doc_with_machines(R"({"id": "p", "type": "placer", "source": {"adapter": "sim", "seed": -1}})"),
       m0 + "/source/seed", "must be at least 0, got -1"},
      {"duplicate line id", R"({"lines": [{"id": "l1", "machines": [)" + sim("a", "aoi") +
           R"(]}, {"id": "l1", "machines": [)" + sim("b", "aoi") + "]}]}",
       "/lines/1/id", "duplicate line id 'l1' (first at /lines/0)"},
      {"duplicate machine id across lines", R"({"lines": [{"id": "l1", "machines": [)" + sim("p1", "aoi") +
           R"(]}, {"id": "l2", "machines": [)" + sim("x", "aoi") + "," + sim("p1", "placer") + "]}]}",
       "/lines/1/machines/1/id", "duplicate machine id 'p1' (first at /lines/0/machines/0)"},
      {"id with a space", doc_with_machines(sim("p 1", "placer")), m0 + "/id", "invalid id 'p 1'"},
      {"id with a slash", doc_with_machines(sim("a/b", "placer")), m0 + "/id", "invalid id 'a/b'"},
      {"id too long", doc_with_machines(sim(std::string(65, 'x'), "placer")), m0 + "/id", "invalid id"},
      {"empty line id", R"({"lines": [{"id": "", "machines": [)" + sim("p", "aoi") + "]}]}", "/lines/0/id",
       "invalid id ''"},
      {"missing machine id", doc_with_machines(R"({"type": "aoi", "source": {"adapter": "sim"}})"), m0 + "/id",
       "missing required key 'id'"},
      {"missing source", doc_with_machines(R"({"id": "p", "type": "aoi"})"), m0 + "/source",
       "missing required key 'source'"},
      {"missing adapter", doc_with_machines(R"({"id": "p", "type": "aoi", "source": {}})"), m0 + "/source/adapter",
       "missing required key 'adapter'"},
      {"unknown adapter", doc_with_machines(machine_json(R"({"adapter": "modbus"})")), m0 + "/source/adapter",
       "unknown adapter 'modbus' (expected http_json, modbus_tcp, sim or mqtt)"},
      {"http_json without url", doc_with_machines(machine_json(R"({"adapter": "http_json"})")),
       m0 + "/source/url", "missing required key 'url'"},
      {"https url", doc_with_machines(http("https://h/x")), m0 + "/source/url", "https is not supported"},
      {"other scheme", doc_with_machines(http("ftp://h/x")), m0 + "/source/url",
       "expected http://host[:port]/path, got 'ftp://h/x'"},
      {"empty host", doc_with_machines(http("http://:9100/x")), m0 + "/source/url", "empty host"},
      {"port not a number", doc_with_machines(http("http://h:abc/x")), m0 + "/source/url", "bad port 'abc'"},
      {"port out of range", doc_with_machines(http("http://h:99999/x")), m0 + "/source/url", "bad port '99999'"},
      {"empty port", doc_with_machines(http("http://h:/x")), m0 + "/source/url", "bad port ''"},
      {"space in url", doc_with_machines(http("http://h/a b")), m0 + "/source/url", "contains a space"},
      {"url with a fragment", doc_with_machines(http("HTTP://127.0.0.1:9/x#frag")), m0 + "/source/url",
       "has a #fragment, which is never sent to a server"},
      {"empty url", doc_with_machines(http("")), m0 + "/source/url", "must not be empty"},
      {"http_json seed", doc_with_machines(machine_json(
           R"({"adapter": "http_json", "url": "http://h/x", "seed": 3})")),
       m0 + "/source/seed", "seed applies only to the sim adapter"},
      {"http_json nothing to read", doc_with_machines(
           R"({"id": "p", "source": {"adapter": "http_json", "url": "http://h/x"}})"),
       m0, "needs at least one metric or a state"},
      {"sim unknown type", doc_with_machines(sim("p", "spi")), m0 + "/type",
       "the sim adapter has no machine type 'spi' (expected one of: placer, printer, reflow, aoi)"},
      {"sim without type", doc_with_machines(R"({"id": "p", "source": {"adapter": "sim"}})"), m0 + "/type",
       "the sim adapter needs a type"},
      {"sim with url", doc_with_machines(
           R"({"id": "p", "type": "aoi", "source": {"adapter": "sim", "url": "http://h/x"}})"),
       m0 + "/source/url", "the sim adapter takes no url"},
      {"metric pointer without slash", doc_with_machines(
           R"({"id": "p", "type": "aoi", "source": {"adapter": "sim"}, "metrics": {"a": "counters/x"}})"),
       m0 + "/metrics/a", "invalid JSON pointer 'counters/x': must start with '/'"},
      {"metric pointer bad tilde", doc_with_machines(
           R"({"id": "p", "type": "aoi", "source": {"adapter": "sim"}, "metrics": {"a": "/x~2"}})"),
       m0 + "/metrics/a", "invalid JSON pointer '/x~2': '~' must be followed by 0 or 1"},
      {"metric pointer not a string", doc_with_machines(
           R"({"id": "p", "type": "aoi", "source": {"adapter": "sim"}, "metrics": {"a": 3}})"),
       m0 + "/metrics/a", "expected a string (a JSON pointer), got number"},
      {"bad metric name", doc_with_machines(
           R"({"id": "p", "type": "aoi", "source": {"adapter": "sim"}, "metrics": {"a/b c": "/x"}})"),
       m0 + "/metrics/a~1b c", "invalid metric name 'a/b c'"},
      {"empty metric name", doc_with_machines(
           R"({"id": "p", "type": "aoi", "source": {"adapter": "sim"}, "metrics": {"": "/x"}})"),
       m0 + "/metrics/", "invalid metric name ''"},
      {"bad state pointer", doc_with_machines(
           R"({"id": "p", "type": "aoi", "source": {"adapter": "sim"}, "state": "state"})"),
       m0 + "/state", "invalid JSON pointer 'state'"},
      {"machine not an object", doc_with_machines("42"), m0, "expected an object, got number"},
      // dashboard
      {"unknown dashboard key", doc_with_machines(machine_json(kHttpSource, R"(, "dashboard": {"sparklines": "boards"})")),
       m0 + "/dashboard/sparklines", "unknown key 'sparklines' (expected one of: key_metrics, sparkline, counters)"},
      {"dashboard not an object", doc_with_machines(machine_json(kHttpSource, R"(, "dashboard": [])")),
       m0 + "/dashboard", "expected an object, got array"},
      {"key metric not a metric", doc_with_machines(machine_json(kHttpSource, R"(, "dashboard": {"key_metrics": ["boards", "nope"]})")),
       m0 + "/dashboard/key_metrics/1", "'nope' is not a metric of this machine (known: boards)"},
      {"key metric of a sim machine's standard set", doc_with_machines(
           R"({"id": "p", "type": "placer", "source": {"adapter": "sim"}, "dashboard": {"key_metrics": ["zone1_c"]}})"),
       m0 + "/dashboard/key_metrics/0", "'zone1_c' is not a metric of this machine (known: placements_total, boards_total"},
      {"key metric not a string", doc_with_machines(machine_json(kHttpSource, R"(, "dashboard": {"key_metrics": [3]})")),
       m0 + "/dashboard/key_metrics/0", "expected a string (a metric name), got number"},
      {"key metrics not an array", doc_with_machines(machine_json(kHttpSource, R"(, "dashboard": {"key_metrics": "boards"})")),
       m0 + "/dashboard/key_metrics", "expected an array, got string"},
      {"key metric twice", doc_with_machines(machine_json(kHttpSource, R"(, "dashboard": {"key_metrics": ["boards", "boards"]})")),
       m0 + "/dashboard/key_metrics/1", "metric 'boards' is listed twice"},
      {"nine key metrics", doc_with_machines(
           R"({"id": "r", "type": "reflow", "source": {"adapter": "sim"}, "dashboard": {"key_metrics":
              ["zone1_c", "zone2_c", "zone3_c", "zone4_c", "zone5_c", "zone6_c", "zone7_c", "zone8_c", "o2_ppm"]}})"),
       m0 + "/dashboard/key_metrics", "at most 8 key metrics fit on a tile, got 9"},
      {"sparkline not a metric", doc_with_machines(machine_json(kHttpSource, R"(, "dashboard": {"sparkline": "temp"})")),
       m0 + "/dashboard/sparkline", "'temp' is not a metric of this machine (known: boards)"},
      {"sparkline not a string", doc_with_machines(machine_json(kHttpSource, R"(, "dashboard": {"sparkline": ["boards"]})")),
       m0 + "/dashboard/sparkline", "expected a string, got array"},
      {"counter not a metric", doc_with_machines(machine_json(kHttpSource, R"(, "dashboard": {"counters": ["boards_total"]})")),
       m0 + "/dashboard/counters/0", "'boards_total' is not a metric of this machine"},
      {"dashboard of a machine without metrics", doc_with_machines(
           R"({"id": "s", "source": {"adapter": "http_json", "url": "http://h/x"}, "state": "/s", "dashboard": {"sparkline": "x"}})"),
       m0 + "/dashboard/sparkline", "'x' is not a metric of this machine (it has none)"},
      // shifts and run states
      {"no shifts", doc_with_top(R"("shifts": [])"), "/shifts", "expected 1 to 12 shifts, got 0"},
      {"thirteen shifts", doc_with_top(R"("shifts": [)" + [] {
         std::string list;
         for (int i = 0; i < 13; ++i)
           list += std::string(i ? "," : "") + R"({"name": "s)" + std::to_string(i) + R"(", "start": "0)" +
                   std::to_string(i % 10) + R"(:1)" + std::to_string(i / 10) + R"("})";
         return list;
       }() + "]"), "/shifts", "expected 1 to 12 shifts, got 13"},
      {"shifts not an array", doc_with_top(R"("shifts": {"A": "06:00"})"), "/shifts", "expected an array, got object"},
      {"shift not an object", doc_with_top(R"("shifts": ["06:00"])"), "/shifts/0", "expected an object {\"name\""},
      {"shift start without leading zero", doc_with_top(R"("shifts": [{"name": "A", "start": "6:00"}])"),
       "/shifts/0/start", "expected a local time of day \"HH:MM\" (00:00 to 23:59), got '6:00'"},
      {"shift start 24:00", doc_with_top(R"("shifts": [{"name": "A", "start": "24:00"}])"),
       "/shifts/0/start", "got '24:00'"},
      {"shift start with seconds", doc_with_top(R"("shifts": [{"name": "A", "start": "06:00:00"}])"),
       "/shifts/0/start", "got '06:00:00'"},
      {"shift start a number", doc_with_top(R"("shifts": [{"name": "A", "start": 600}])"),
       "/shifts/0/start", "expected a string, got number"},
      {"shift without start", doc_with_top(R"("shifts": [{"name": "A"}])"), "/shifts/0/start",
       "missing required key 'start'"},
      {"shift without name", doc_with_top(R"("shifts": [{"start": "06:00"}])"), "/shifts/0/name",
       "missing required key 'name'"},
      {"shift empty name", doc_with_top(R"("shifts": [{"name": "", "start": "06:00"}])"), "/shifts/0/name",
       "must be 1 to 64 characters"},
      {"unknown shift key", doc_with_top(R"("shifts": [{"name": "A", "begin": "06:00"}])"), "/shifts/0/begin",
       "unknown key 'begin' (expected one of: name, start)"},
      {"two shifts at one time", doc_with_top(R"("shifts": [{"name": "A", "start": "06:00"}, {"name": "B", "start": "06:00"}])"),
       "/shifts/1/start", "another shift already starts at 06:00 (/shifts/0)"},
      {"two shifts with one name", doc_with_top(R"("shifts": [{"name": "A", "start": "06:00"}, {"name": "A", "start": "18:00"}])"),
       "/shifts/1/name", "duplicate shift name 'A' (first at /shifts/0)"},
      {"no run states", doc_with_top(R"("run_states": [])"), "/run_states", "expected at least one state"},
      {"run state not a string", doc_with_top(R"("run_states": ["RUN", 1])"), "/run_states/1",
       "expected a string (a state such as \"RUN\"), got number"},
      {"run state empty", doc_with_top(R"("run_states": [""])"), "/run_states/0", "must be 1 to 64 characters"},
      {"run state twice", doc_with_top(R"("run_states": ["RUN", "RUN"])"), "/run_states/1", "state 'RUN' is listed twice"},
      {"run states not an array", doc_with_top(R"("run_states": "RUN")"), "/run_states", "expected an array, got string"},
      {"e10 not an object", doc_with_top(R"("e10": [])"), "/e10", "expected an object, got array"},
      {"unknown e10 key", doc_with_top(R"("e10": {"type": {}})"), "/e10/type",
       "unknown key 'type' (expected one of: types)"},
      {"e10 map not an object", doc_with_top(R"("e10": {"types": {"placer": "PRD"}})"), "/e10/types/placer",
       "expected an object of state text -> E10 class, got string"},
      {"unknown e10 class", doc_with_top(R"("e10": {"types": {"placer": {"RUN": "PRODUCTIVE"}}})"),
       "/e10/types/placer/RUN", "unknown E10 class 'PRODUCTIVE' (expected one of: PRD, SBY, ENG, SDT, UDT, NST)"},
      {"e10 class not a string", doc_with_top(R"("e10": {"types": {"*": {"RUN": 1}}})"), "/e10/types/*/RUN",
       "expected an E10 class (PRD, SBY, ENG, SDT, UDT, NST), got number"},
      {"OFFLINE mapped", doc_with_top(R"("e10": {"types": {"reflow": {"OFFLINE": "UDT"}}})"),
       "/e10/types/reflow/OFFLINE",
       "OFFLINE is edgemes's own class for time a machine could not be reached; it cannot be mapped"},
      {"empty state text", doc_with_top(R"("e10": {"types": {"reflow": {"": "UDT"}}})"), "/e10/types/reflow/",
       "a state text must be 1 to 64 characters"},
      {"empty type", doc_with_top(R"("e10": {"types": {"": {}}})"), "/e10/types/",
       "a machine type must be 1 to 64 characters"},
      {"machine e10 class", doc_with_machines(machine_json(kHttpSource, R"(, "e10": {"PURGE": "sdt"})")),
       "/lines/0/machines/0/e10/PURGE", "unknown E10 class 'sdt' (expected one of: PRD, SBY, ENG, SDT, UDT, NST)"},
      {"machine e10 not an object", doc_with_machines(machine_json(kHttpSource, R"(, "e10": "PRD")")),
       "/lines/0/machines/0/e10", "expected an object, got string"},
  };
  test::config_cases::check_broken(cases);
}

TEST_CASE("every problem in a config is reported, not just the first", "[config]") {
  const auto r = config::parse(R"({
    "api": {"port": 0, "prot": 1},
    "writer": {"max_batch": "x"},
    "lines": [{"id": "l1", "machines": [
      {"id": "p1", "type": "oven", "source": {"adapter": "sim"}},
      {"id": "p1", "source": {"adapter": "http_json", "url": "https://h/x"}, "state": "/state"}
    ]}]})");
  INFO(config::format_problems(r.problems));
  CHECK(r.problems.size() == 6);
  CHECK(has_problem(r, "/api/port", "must be between 1 and 65535"));
  CHECK(has_problem(r, "/api/prot", "unknown key 'prot'"));
  CHECK(has_problem(r, "/writer/max_batch", "expected an integer, got string"));
  CHECK(has_problem(r, "/lines/0/machines/0/type", "no machine type 'oven'"));
  CHECK(has_problem(r, "/lines/0/machines/1/id", "duplicate machine id 'p1'"));
  CHECK(has_problem(r, "/lines/0/machines/1/source/url", "https is not supported"));
}

TEST_CASE("valid_json_pointer follows RFC 6901", "[config]") {
  for (const char* ok : {"", "/", "/a", "/a/0", "/a~0b", "/a~1b", "/~01", "//"})
    CHECK(config::valid_json_pointer(ok));
  for (const char* bad : {"a", "a/b", "/~", "/a~", "/a~2", "~0", " /a"})
    CHECK_FALSE(config::valid_json_pointer(bad));
}

TEST_CASE("http urls with a port, an IPv6 host, no port or no path are accepted", "[config]") {
  // A URL without a path is polled at "/", as the adapter always did
  // (adapters/http_url.hpp: one parser for the check and the daemon).
  for (const char* url : {"http://10.0.0.5:80/status", "http://[::1]:9100/x", "http://plc-7.local/s?a=1",
                          "HTTP://Host/x", "http://h:9100", "http://h?a=1"}) {
    const auto r = config::parse(doc_with_machines(machine_json(
        std::string(R"({"adapter": "http_json", "url": ")") + url + R"("})")));
    INFO(url << "\n" << config::format_problems(r.problems));
    CHECK(r.ok());
  }
}

TEST_CASE("an unreadable config file is one problem naming the file and the reason", "[config]") {
  test::temp_dir dir;
  const auto missing = config::load_file(dir.file("nope.json"));
  REQUIRE(missing.problems.size() == 1);
  CHECK(missing.problems[0].path.empty());
  CHECK(missing.problems[0].message == "cannot read " + dir.file("nope.json") + ": No such file or directory");

  const auto directory = config::load_file(dir.path());
  REQUIRE(directory.problems.size() == 1);
  CHECK(directory.problems[0].message == "cannot read " + dir.path() + ": Is a directory");
}

TEST_CASE("load_file parses a file from disk and names it in syntax errors", "[config]") {
  test::temp_dir dir;
  test::write_file(dir.file("good.json"), doc_with_top(R"("site": "disk")"));
  const auto good = config::load_file(dir.file("good.json"));
  REQUIRE(good.ok());
  CHECK(good.value.site == "disk");

  test::write_file(dir.file("bad.json"), "{\n  \"site\": \"x\"\n  \"lines\": []\n}");
  const auto bad = config::load_file(dir.file("bad.json"));
  REQUIRE(bad.problems.size() == 1);
  INFO(bad.problems[0].message);
  // The column is that of the last character of the offending token ("lines").
  CHECK(bad.problems[0].message.rfind(dir.file("bad.json") + ": line 3, column 9: ", 0) == 0);
}

TEST_CASE("format_problems writes one 'path: message' line per problem", "[config]") {
  const std::vector<config::problem> problems{{"/api/port", "must be between 1 and 65535, got 0"},
                                              {"", "cannot read x.json: No such file or directory"}};
  CHECK(config::format_problems(problems) ==
        "/api/port: must be between 1 and 65535, got 0\ncannot read x.json: No such file or directory\n");
}

TEST_CASE("reliability and security keys parse, default, and are range-checked", "[config]") {
  const std::string machines =
      R"("lines": [{"id": "l1", "machines": [{"id": "m1", "type": "placer", "source": {"adapter": "sim"}}]}])";
  auto defaults = edgemes::config::parse("{" + machines + "}");
  REQUIRE(defaults.ok());
  CHECK(defaults.value.database.retention_days == 0);
  CHECK(defaults.value.database.wal_max_bytes == 64LL << 20);
  CHECK(defaults.value.database.checkpoint_interval_ms == 60000);
  CHECK(defaults.value.api.token.empty());

  auto set = edgemes::config::parse(
      R"({"database": {"retention_days": 30, "wal_max_bytes": 8388608, "checkpoint_interval_ms": 500},
          "api": {"token": "0123456789abcdef0123"}, )" + machines + "}");
  REQUIRE(set.ok());
  CHECK(set.value.database.retention_days == 30);
  CHECK(set.value.database.wal_max_bytes == 8388608);
  CHECK(set.value.database.checkpoint_interval_ms == 500);
  CHECK(set.value.api.token == "0123456789abcdef0123");

  auto bad = edgemes::config::parse(
      R"({"database": {"retention_days": -1, "wal_max_bytes": 10}, "api": {"token": "short"}, )" +
      machines + "}");
  REQUIRE(bad.problems.size() == 3);
  auto text = edgemes::config::format_problems(bad.problems);
  CHECK(text.find("/database/retention_days") != std::string::npos);
  CHECK(text.find("/database/wal_max_bytes") != std::string::npos);
  CHECK(text.find("/api/token: a token must be at least 16 characters") != std::string::npos);
}

TEST_CASE("dashboard defaults: the sim type's tile, the *_total counters, the first gauge as sparkline",
          "[config][dashboard]") {
  const auto r = config::parse(doc_with_machines(
      R"({"id": "p", "type": "placer", "source": {"adapter": "sim"}},
         {"id": "o", "type": "reflow", "source": {"adapter": "sim"}},
         {"id": "x", "type": "press", "source": {"adapter": "http_json", "url": "http://h/x"},
          "metrics": {"strokes_total": "/a", "force_kn": "/b", "oil_c": "/c", "speed": "/d", "mode": "/e"}},
         {"id": "c", "type": "press", "source": {"adapter": "http_json", "url": "http://h/x"},
          "metrics": {"a_total": "/a", "b_total": "/b"}},
         {"id": "s", "source": {"adapter": "http_json", "url": "http://h/x"}, "state": "/state"})"));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  const auto& m = r.value.lines[0].machines;
  using names = std::vector<std::string>;
  CHECK(m[0].dashboard.key_metrics == names{"placements_total", "cycle_time_s", "rejects_total", "nozzle_vacuum_kpa"});
  CHECK(m[0].dashboard.sparkline == "cycle_time_s");
  CHECK(m[0].dashboard.counters == names{"placements_total", "boards_total", "rejects_total"});
  CHECK(m[1].dashboard.key_metrics == names{"zone8_c", "zone4_c", "o2_ppm", "conveyor_mm_s", "boards_total"});
  CHECK(m[1].dashboard.sparkline == "zone8_c");
  CHECK(m[1].dashboard.counters == names{"boards_total"});
  CHECK(m[2].dashboard.key_metrics == names{"strokes_total", "force_kn", "oil_c", "speed"});
  CHECK(m[2].dashboard.sparkline == "force_kn");
  CHECK(m[2].dashboard.counters == names{"strokes_total"});
  CHECK(m[3].dashboard.sparkline == "a_total");  // only counters: the first key metric
  CHECK(m[4].dashboard.key_metrics.empty());
  CHECK(m[4].dashboard.sparkline.empty());
  CHECK(m[4].dashboard.counters.empty());
}

TEST_CASE("a configured dashboard is kept as written, empty lists included", "[config][dashboard]") {
  const auto r = config::parse(doc_with_machines(
      R"({"id": "p", "type": "placer", "source": {"adapter": "sim"},
          "dashboard": {"key_metrics": ["head_temp_c", "boards_total"], "sparkline": "boards_total",
                        "counters": ["feeder_errors", "boards_total"]}},
         {"id": "q", "type": "placer", "source": {"adapter": "sim"},
          "dashboard": {"key_metrics": [], "counters": []}})"));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  const auto& m = r.value.lines[0].machines;
  using names = std::vector<std::string>;
  CHECK(m[0].dashboard.key_metrics == names{"head_temp_c", "boards_total"});
  CHECK(m[0].dashboard.sparkline == "boards_total");
  CHECK(m[0].dashboard.counters == names{"feeder_errors", "boards_total"});
  CHECK(m[1].dashboard.key_metrics.empty());
  CHECK(m[1].dashboard.counters.empty());
  CHECK(m[1].dashboard.sparkline.empty());
}

TEST_CASE("shifts and run states default to A/B/C at 06/14/22 and RUN, and parse as written",
          "[config][dashboard]") {
  const auto dflt = config::parse(doc_with_top(R"("site": "x")"));
  REQUIRE(dflt.ok());
  REQUIRE(dflt.value.shifts.size() == 3);
  CHECK(dflt.value.shifts[0].name == "A");
  CHECK(dflt.value.shifts[0].start_minute == 360);
  CHECK(dflt.value.shifts[1].name == "B");
  CHECK(dflt.value.shifts[1].start_minute == 840);
  CHECK(dflt.value.shifts[2].name == "C");
  CHECK(dflt.value.shifts[2].start_minute == 1320);
  CHECK(dflt.value.run_states == std::vector<std::string>{"RUN"});

  const auto r = config::parse(doc_with_top(
      R"("shifts": [{"name": "Night", "start": "23:59"}, {"name": "Early", "start": "00:00"}],
         "run_states": ["RUN", "SETUP"])"));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  REQUIRE(r.value.shifts.size() == 2);
  CHECK(r.value.shifts[0].name == "Night");
  CHECK(r.value.shifts[0].start_minute == 23 * 60 + 59);
  CHECK(r.value.shifts[1].start_minute == 0);
  CHECK(r.value.run_states == std::vector<std::string>{"RUN", "SETUP"});
}

TEST_CASE("config's sim metric names are the sim adapter's standard metrics", "[config][dashboard]") {
  for (const auto& type : adapters::sim_types()) {
    INFO(type);
    std::vector<std::string> names;
    for (const auto& m : adapters::sim_standard_metrics(type))
      names.push_back(m.first);
    CHECK(config::sim_metric_names(type) == names);
  }
  CHECK(config::sim_metric_names("press").empty());
}

TEST_CASE("a state's E10 class comes from the machine, its type, '*', then the built-in map", "[config][e10]") {
  const auto r = config::parse(doc_with_top(
      R"("e10": {"types": {"placer": {"PURGE": "SDT", "RUN": "ENG"}, "*": {"HOLD": "SBY", "PURGE": "UDT"}}})"));
  INFO(config::format_problems(r.problems));
  REQUIRE(r.ok());
  const config::config& c = r.value;
  config::machine_config placer;
  placer.type = "placer";
  config::machine_config oven;
  oven.type = "reflow";
  oven.e10 = {{"HOLD", "NST"}};
  CHECK(config::e10_class(c, placer, "PURGE") == "SDT");  // its type's map
  CHECK(config::e10_class(c, oven, "PURGE") == "UDT");    // "*"
  CHECK(config::e10_class(c, placer, "RUN") == "ENG");    // the type's map before the built-in one
  CHECK(config::e10_class(c, oven, "RUN") == "PRD");      // built-in
  CHECK(config::e10_class(c, oven, "run") == "PRD");      // built-in texts match in any case
  CHECK(config::e10_class(c, oven, "HOLD") == "NST");     // the machine's own override
  CHECK(config::e10_class(c, placer, "HOLD") == "SBY");
  CHECK(config::e10_class(c, placer, "OFFLINE") == "OFFLINE");
  CHECK(config::e10_class(c, placer, "WARMUP") == "unmapped");
  CHECK(config::e10_class(c, placer, "hold") == "unmapped");  // maps in the config are case-sensitive
  for (const char* sim_state : {"RUN", "IDLE", "DOWN", "ALARM"})
    CHECK(config::e10_class(c, oven, sim_state) != "unmapped");
}

TEST_CASE("oee and a line's output: the ideal rate, the counters, their defaults", "[config][oee]") {
  const std::string placer = R"({"id": "p1", "type": "placer", "source": {"adapter": "sim"},
      "oee": {"ideal_rate_per_hour": 240, "total": "boards_total", "reject": "rejects_total"}})";
  const std::string aoi = R"({"id": "a1", "type": "aoi", "source": {"adapter": "sim"},
      "oee": {"ideal_cycle_s": 12, "total": "inspected_total"}})";
  SECTION("the last machine with a total counter is the line's output") {
    const auto r = config::parse(doc_with_machines(placer + "," + aoi));
    REQUIRE(r.ok());
    const auto& l = r.value.lines[0];
    CHECK(l.machines[0].oee.ideal_cycle_s == 15);  // 3600 / 240
    CHECK(l.machines[0].oee.total == "boards_total");
    CHECK(l.machines[0].oee.reject == "rejects_total");
    CHECK(l.machines[0].oee.good.empty());
    CHECK(l.machines[0].placements == "placements_total");  // the placer's own
    CHECK(l.machines[1].placements.empty());                 // an aoi has none
    CHECK(l.output.machine == "a1");
    CHECK(l.output.metric == "inspected_total");
  }
  SECTION("an explicit output, and none without any total") {
    auto r = config::parse(R"({"lines": [{"id": "l1", "output": {"machine": "p1", "metric": "boards_total"},
        "machines": [)" + placer + "," + aoi + "]}]}");
    REQUIRE(r.ok());
    CHECK(r.value.lines[0].output.machine == "p1");
    r = config::parse(doc_with_machines(machine_json(kHttpSource)));
    REQUIRE(r.ok());
    CHECK(r.value.lines[0].output.machine.empty());
    CHECK(r.value.lines[0].machines[0].oee.ideal_cycle_s == 0);
  }
  SECTION("every mistake is named with its path") {
    const auto r = config::parse(
        R"({"lines": [{"id": "l1", "output": {"machine": "nope", "metric": "x"}, "machines": [
          {"id": "p1", "type": "placer", "source": {"adapter": "sim"}, "placements": "speed",
           "oee": {"ideal_cycle_s": 10, "ideal_rate_per_hour": 360, "total": "boards_total",
                   "good": "boards_total", "reject": "rejects_total", "extra": 1}},
          {"id": "p2", "type": "placer", "source": {"adapter": "sim"},
           "oee": {"ideal_cycle_s": -1, "good": "rejects_total"}},
          {"id": "p3", "type": "placer", "source": {"adapter": "sim"},
           "oee": {"ideal_rate_per_hour": "fast", "total": "speed"}}]},
        {"id": "l2", "output": {"machine": "p1", "metric": "boards_total"}, "machines": []}]})");
    REQUIRE_FALSE(r.ok());
    INFO(config::format_problems(r.problems));
    CHECK(has_problem(r, "/lines/0/output/machine", "'nope' is not a machine of line 'l1'"));
    CHECK(has_problem(r, "/lines/0/machines/0/placements", "'speed' is not a metric"));
    CHECK(has_problem(r, "/lines/0/machines/0/oee", "ideal_cycle_s or ideal_rate_per_hour, not both"));
    CHECK(has_problem(r, "/lines/0/machines/0/oee", "good or reject, not both"));
    CHECK(has_problem(r, "/lines/0/machines/0/oee", "'total' and 'good' name the same metric"));
    CHECK(has_problem(r, "/lines/0/machines/0/oee/extra", "unknown key"));
    CHECK(has_problem(r, "/lines/0/machines/1/oee/ideal_cycle_s", "must be a positive number"));
    CHECK(has_problem(r, "/lines/0/machines/1/oee", "quality needs 'total'"));
    CHECK(has_problem(r, "/lines/0/machines/2/oee/ideal_rate_per_hour", "expected a number"));
    CHECK(has_problem(r, "/lines/0/machines/2/oee/total", "'speed' is not a metric"));
    CHECK(has_problem(r, "/lines/1/output/machine", "'p1' is not a machine of line 'l2' (it has none)"));
  }
}
