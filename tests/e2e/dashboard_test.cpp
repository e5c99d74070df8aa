// End-to-end: the real daemon on the embedded demo config (five simulated
// machines of line smt1). The floor dashboard's replies — /floor,
// /floor/sparklines and /lines/smt1/summary — agree with what the
// per-machine endpoints say about the same machines and the same range.
#include "tests/e2e/e2e_support.hpp"

#include <algorithm>
#include <csignal>

using namespace edgemes::test;
using nlohmann::json;

namespace {

json ok(int port, const std::string& target) {
  int status = 0;
  auto doc = get_json(port, target, &status);
  INFO(target << " -> " << status << " " << doc.dump().substr(0, 300));
  REQUIRE(status == 200);
  REQUIRE(doc.is_object());
  return doc;
}

std::string range(int64_t from, int64_t to) {
  return "from=" + std::to_string(from) + "&to=" + std::to_string(to);
}

} // namespace

TEST_CASE("the demo's floor, sparklines and line summary agree with the per-machine endpoints",
          "[e2e][dashboard]") {
  temp_dir dir;
  const int port = free_port();
  process daemon({binary("edgemes"), "run", "--port", std::to_string(port), "--db",
                  dir.file("demo.db")},
                 dir.file("edgemes.log"));
  // 1 s polls: wait for a dozen polls of every machine.
  const int64_t started = now_ms();
  bool polled = wait_until(
      [&] {
        auto floor = get_json(port, "/api/v1/floor");
        if (!floor.is_object() || !floor.contains("lines"))
          return false;
        for (const auto& m : floor["lines"][0]["machines"])
          if (m["polls"]["ok"].get<int64_t>() < 12)
            return false;
        return true;
      },
      std::chrono::seconds(40));
  INFO(daemon.log());
  REQUIRE(polled);

  // /floor: the demo's five machines in config order, each as /machines/{id} shows it.
  auto floor = ok(port, "/api/v1/floor");
  CHECK(floor["site"] == "demo-hub");
  const int64_t now = floor["now"];
  CHECK(floor["shift"]["from"].get<int64_t>() <= now);
  CHECK(now < floor["shift"]["to"].get<int64_t>());
  CHECK(std::string("ABC").find(floor["shift"]["name"].get<std::string>()) != std::string::npos);
  REQUIRE(floor["lines"].size() == 1);
  const auto& tiles = floor["lines"][0]["machines"];
  std::vector<std::string> ids;
  for (const auto& m : tiles)
    ids.push_back(m["id"]);
  CHECK(ids == std::vector<std::string>{"smt1-printer", "smt1-placer1", "smt1-placer2",
                                        "smt1-reflow", "smt1-aoi"});
  for (const auto& tile : tiles) {
    const std::string id = tile["id"];
    INFO(id);
    auto machine = ok(port, "/api/v1/machines/" + id);
    for (const char* field : {"name", "type", "line"})
      CHECK(tile[field] == machine[field]);
    CHECK(tile["status"] == "online");
    REQUIRE_FALSE(tile["key_metrics"].empty());
    for (const auto& k : tile["key_metrics"]) {
      const auto& later = machine["metrics"][k["name"].get<std::string>()];
      REQUIRE(later.is_object());  // a key metric is one of the machine's metrics
      CHECK(k["ts"].get<int64_t>() <= later["ts"].get<int64_t>());
      if (k["ts"] == later["ts"])
        CHECK(k["value"] == later["value"]);
    }
    CHECK(machine["metrics"].contains(tile["sparkline"].get<std::string>()));
  }

  // A closed range in the past, so that every reply below is final.
  const int64_t to = now - 1500, from = std::max(started, to - 10000);
  REQUIRE(to - from >= 5000);

  auto sparks = ok(port, "/api/v1/floor/sparklines?" + range(from, to) + "&step_ms=1000");
  CHECK(sparks["machines"].size() == 5);
  for (const auto& tile : tiles) {
    const std::string id = tile["id"];
    INFO(id);
    const auto& spark = sparks["machines"][id];
    CHECK(spark["metric"] == tile["sparkline"]);
    auto series = ok(port, "/api/v1/machines/" + id + "/series?metric=" +
                               tile["sparkline"].get<std::string>() + "&" + range(from, to) +
                               "&step_ms=1000&agg=avg");
    CHECK_FALSE(spark["points"].empty());
    CHECK(spark["points"] == series["points"]);
  }

  auto summary = ok(port, "/api/v1/lines/smt1/summary?" + range(from, to));
  REQUIRE(summary["machines"].size() == 5);
  for (const auto& m : summary["machines"]) {
    const std::string id = m["id"];
    INFO(id);
    auto states = ok(port, "/api/v1/machines/" + id + "/states?" + range(from, to));
    CHECK(m["time_in_state"] == states["time_in_state"]);
    int64_t total = 0, run = 0;
    for (const auto& s : states["time_in_state"]) {
      total += s["ms"].get<int64_t>();
      run += s["state"] == "RUN" ? s["ms"].get<int64_t>() : 0;
    }
    REQUIRE(total > 0);
    CHECK(m["availability"].get<double>() == Approx(double(run) / double(total)));
    for (const auto& c : m["counters"]) {
      const std::string metric = c["metric"];
      INFO(metric);
      auto pts = ok(port, "/api/v1/machines/" + id + "/samples?metric=" + metric + "&" +
                              range(from, to))["points"];
      REQUIRE(pts.size() >= 2);
      CHECK(c["first"] == pts.front()[1]);
      CHECK(c["last"] == pts.back()[1]);
      CHECK(c["increase"].get<double>() ==
            Approx(pts.back()[1].get<double>() - pts.front()[1].get<double>()));
    }
  }

  daemon.signal(SIGTERM);
  CHECK(daemon.wait(std::chrono::seconds(20)) == 0);
}
