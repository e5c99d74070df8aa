#include "adapters/adapter.hpp"
#include "adapters/sim_model.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace edgemes::adapters;
using nlohmann::json;

namespace {

constexpr int64_t t0 = 1700000000000;  // any wall-clock start

// Values of the type's standard metrics in `doc`; fails the test on any problem.
std::map<std::string, double> standard_values(const std::string& type, const json& doc) {
  auto metrics = sim_standard_metrics(type);
  auto r = extractor(metrics, "/state").apply(doc);
  INFO(doc.dump());
  REQUIRE(r.problems.empty());
  REQUIRE(r.state.has_value());
  std::map<std::string, double> out;
  for (size_t i = 0; i < metrics.size(); ++i)
    out[metrics[i].first] = r.values[i];
  return out;
}

bool is_counter(const std::string& metric) {
  return metric.size() > 6 && metric.compare(metric.size() - 6, 6, "_total") == 0;
}

} // namespace

TEST_CASE("sim types are placer, printer, reflow and aoi", "[adapters][sim_model]") {
  REQUIRE(sim_types() == std::vector<std::string>{"placer", "printer", "reflow", "aoi"});
  REQUIRE(is_sim_type("reflow"));
  REQUIRE_FALSE(is_sim_type("toaster"));
  REQUIRE_THROWS_AS(sim_machine("x", "toaster"), std::invalid_argument);
  REQUIRE(sim_standard_metrics("toaster").empty());
}

TEST_CASE("every standard metric of every type resolves to a number in its replies", "[adapters][sim_model]") {
  for (const auto& type : sim_types()) {
    auto metrics = sim_standard_metrics(type);
    CHECK(metrics.size() >= 6);
    CHECK(metrics.size() <= 12);
    sim_machine m("m-" + type, type, 7);
    for (int i = 0; i < 200; ++i)
      standard_values(type, m.reply(t0 + i * 30000));
  }
}

TEST_CASE("sim replies carry machine, type, seq, ts_ms and a known state", "[adapters][sim_model]") {
  sim_machine m("line1-placer", "placer", 1);
  for (uint64_t i = 1; i <= 5; ++i) {
    json doc = m.reply(t0 + static_cast<int64_t>(i) * 1000);
    REQUIRE(doc["machine"] == "line1-placer");
    REQUIRE(doc["type"] == "placer");
    REQUIRE(doc["seq"] == i);
    REQUIRE(doc["ts_ms"] == t0 + static_cast<int64_t>(i) * 1000);
    std::string state = doc["state"];
    REQUIRE((state == "RUN" || state == "IDLE" || state == "DOWN" || state == "ALARM"));
  }
  REQUIRE(m.seq() == 5);
}

TEST_CASE("sim counters never decrease over 10000 simulated seconds", "[adapters][sim_model]") {
  for (const auto& type : sim_types()) {
    sim_machine m("c-" + type, type, 3);
    auto before = standard_values(type, m.reply(t0));
    auto first = before;
    // Uneven poll gaps, one very long one, and a clock that steps back once.
    int64_t now = t0;
    for (int i = 0; i < 8000 && now < t0 + 10000000; ++i) {
      now += (i == 2000) ? 600000 : (i == 3000 ? -5000 : 500 + (i % 7) * 300);
      auto after = standard_values(type, m.reply(now));
      for (const auto& [name, value] : after) {
        if (is_counter(name) || name == "feeder_errors" || name == "stencil_wipes") {
          INFO(type << " " << name << " at step " << i);
          REQUIRE(value >= before[name]);
        }
      }
      before = after;
    }
    for (const auto& [name, value] : before)
      if (is_counter(name)) {
        INFO(type << " " << name << " should have grown");
        CHECK(value > first[name]);
      }
  }
}

TEST_CASE("sim values stay in realistic ranges", "[adapters][sim_model]") {
  for (int machine = 0; machine < 5; ++machine) {
    for (const auto& type : sim_types()) {
      sim_machine m(type + std::to_string(machine), type, 11);
      for (int i = 0; i < 2000; ++i) {
        auto v = standard_values(type, m.reply(t0 + int64_t(i) * 5000));
        INFO(type << " step " << i);
        if (type == "placer") {
          CHECK(v["cycle_time_s"] > 10);
          CHECK(v["cycle_time_s"] < 200);
          CHECK(v["nozzle_vacuum_kpa"] < -20);
          CHECK(v["nozzle_vacuum_kpa"] > -95);
          CHECK(v["head_temp_c"] > 20);
          CHECK(v["head_temp_c"] < 50);
          CHECK(v["rejects_total"] < v["placements_total"] * 0.01);
        } else if (type == "printer") {
          CHECK(v["squeegee_pressure_kg"] > 4);
          CHECK(v["squeegee_pressure_kg"] < 10);
          CHECK(v["print_speed_mm_s"] > 20);
          CHECK(v["print_speed_mm_s"] < 80);
          CHECK(v["paste_height_um"] > 80);
          CHECK(v["paste_height_um"] < 200);
          CHECK(v["boards_total"] <= v["prints_total"]);
        } else if (type == "reflow") {
          for (int z = 1; z <= 8; ++z) {
            double c = v["zone" + std::to_string(z) + "_c"];
            CHECK(c > 25);
            CHECK(c < 260);
          }
          CHECK(v["zone8_c"] > v["zone1_c"]);
          CHECK(v["conveyor_mm_s"] >= 0);
          CHECK(v["conveyor_mm_s"] < 30);
          CHECK(v["o2_ppm"] > 50);
          CHECK(v["o2_ppm"] < 2000);
        } else {
          CHECK(v["first_pass_yield"] > 0.85);
          CHECK(v["first_pass_yield"] <= 1.0);
          CHECK(v["defects_total"] + v["false_calls_total"] <= v["inspected_total"]);
          CHECK(v["cycle_time_s"] > 5);
          CHECK(v["cycle_time_s"] < 60);
        }
      }
    }
  }
}

TEST_CASE("sim machines run most of the time with short idle, down and alarm spells", "[adapters][sim_model]") {
  std::map<std::string, int> seen;
  int total = 0;
  for (int machine = 0; machine < 10; ++machine) {
    sim_machine m("s" + std::to_string(machine), sim_types()[machine % 4], 5);
    for (int i = 0; i < 20000; ++i, ++total)
      ++seen[m.reply(t0 + int64_t(i) * 5000)["state"].get<std::string>()];
  }
  double run = double(seen["RUN"]) / total;
  double idle = double(seen["IDLE"]) / total;
  double stopped = double(seen["DOWN"] + seen["ALARM"]) / total;
  INFO("RUN " << run << " IDLE " << idle << " DOWN+ALARM " << stopped);
  CHECK(run > 0.78);
  CHECK(run < 0.92);
  CHECK(idle > 0.03);
  CHECK(idle < 0.13);
  CHECK(stopped > 0.03);
  CHECK(stopped < 0.14);
  CHECK(seen["DOWN"] > 0);
  CHECK(seen["ALARM"] > 0);
}

TEST_CASE("sim replies are the same for the same ident, seed and times", "[adapters][sim_model]") {
  for (const auto& type : sim_types()) {
    sim_machine a("same", type, 42), b("same", type, 42);
    for (int i = 0; i < 500; ++i) {
      int64_t now = t0 + int64_t(i) * 2000;
      REQUIRE(a.reply(now) == b.reply(now));
    }
  }
}

TEST_CASE("sim replies differ between machines and between seeds", "[adapters][sim_model]") {
  sim_machine a("one", "placer", 42), b("two", "placer", 42), c("one", "placer", 43);
  json ra = a.reply(t0), rb = b.reply(t0), rc = c.reply(t0);
  REQUIRE(ra["counters"] != rb["counters"]);
  REQUIRE(ra["counters"] != rc["counters"]);
}

TEST_CASE("sim seed 0 derives the stream from the machine id", "[adapters][sim_model]") {
  sim_machine a("m0001", "aoi"), b("m0001", "aoi", 0), c("m0002", "aoi");
  REQUIRE(a.reply(t0) == b.reply(t0));
  REQUIRE(a.reply(t0 + 1000)["counters"] != c.reply(t0 + 1000)["counters"]);
}

TEST_CASE("sim reflow reports eight zone temperatures rising to the peak", "[adapters][sim_model]") {
  sim_machine m("oven", "reflow", 9);
  json doc = m.reply(t0);
  REQUIRE(doc["oven"]["zones"].size() == 8);
  double first = doc["oven"]["zones"][0], last = doc["oven"]["zones"][7];
  REQUIRE(first > 140);
  REQUIRE(first < 165);
  REQUIRE(last > 240);
  REQUIRE(last < 260);
}
