// The floor dashboard endpoints of a real edgemes daemon over 127.0.0.1:
// /api/v1 (the index), /floor, /floor/sparklines and /lines/{id}/summary
// answer what docs/API.md promises and agree with the per-machine endpoints
// they summarise (/machines/{id}, /series, /states, /samples).
#include "tests/api/api_fixture.hpp"

#include "api/shifts.hpp"
#include "config/config.hpp"

#include <atomic>
#include <mutex>
#include <thread>

using namespace edgemes::test;
using namespace edgemes::test::api;

namespace {

std::vector<std::string> names_of(const json& arr, const char* key) {
  std::vector<std::string> out;
  for (const auto& e : arr)
    out.push_back(e[key]);
  return out;
}

const json* find_by(const json& arr, const char* key, const std::string& value) {
  for (const auto& e : arr)
    if (e[key] == value)
      return &e;
  return nullptr;
}

std::string range(int64_t from, int64_t to) {
  return "from=" + std::to_string(from) + "&to=" + std::to_string(to);
}

// A machine of the test's own on 127.0.0.1 for the http_json adapter: its
// reply is whatever the test last set, so a counter can be made to reset.
class fake_machine {
public:
  fake_machine() {
    http_.Get("/m", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      res.set_content(json{{"count", count_}, {"temp", 21.5}, {"state", state_}}.dump(),
                      "application/json");
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
  }
  ~fake_machine() {
    http_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  void set(int64_t count, const std::string& state) {
    std::lock_guard<std::mutex> lock(mutex_);
    count_ = count;
    state_ = state;
  }

private:
  httplib::Server http_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  int64_t count_ = 100;
  std::string state_ = "SETUP";
};

} // namespace

TEST_CASE("/api/v1 is the endpoint index and lists the dashboard endpoints", "[api][floor]") {
  auto& d = daemon::shared();
  auto doc = ok_doc(d.port(), "/api/v1");
  CHECK(doc["name"] == "edgemes");
  CHECK(doc["api"] == "/api/v1");
  auto endpoints = doc["endpoints"].get<std::vector<std::string>>();
  for (const std::string e : {"/api/v1/health", "/api/v1/machines/{id}/states", "/api/v1/floor",
                              "/api/v1/floor/sparklines", "/api/v1/lines/{id}/summary"})
    CHECK(std::find(endpoints.begin(), endpoints.end(), e) != endpoints.end());
  check_error(d.port(), "/api/v1?x=1", 400, "bad_parameter", "'x'");
}

TEST_CASE("/floor lists every configured machine in config order with its tile", "[api][floor]") {
  auto& d = daemon::shared();
  auto doc = ok_doc(d.port(), "/api/v1/floor");
  CHECK(doc["site"] == "api-test");
  const int64_t now = doc["now"];
  CHECK(std::abs(now - now_ms()) < 60000);
  auto expected_shift = edgemes::api::shift_at(edgemes::config::config{}.shifts, now);
  CHECK(doc["shift"]["name"] == expected_shift.name);
  CHECK(doc["shift"]["from"] == expected_shift.from_ms);
  CHECK(doc["shift"]["to"] == expected_shift.to_ms);

  REQUIRE(names_of(doc["lines"], "id") == std::vector<std::string>{"smt1", "smt2"});
  CHECK(doc["lines"][0]["name"] == "SMT Line 1");
  CHECK(names_of(doc["lines"][0]["machines"], "id") ==
        std::vector<std::string>{"smt1-printer", "smt1-placer1", "smt1-placer2", "smt1-reflow",
                                 "smt1-aoi"});
  CHECK(names_of(doc["lines"][1]["machines"], "id") == std::vector<std::string>{"smt2-aoi"});

  // The sim types' default tiles (docs/CONFIG.md).
  const std::map<std::string, std::pair<std::vector<std::string>, std::string>> tiles{
      {"placer", {{"placements_total", "cycle_time_s", "rejects_total", "nozzle_vacuum_kpa"},
                  "cycle_time_s"}},
      {"printer", {{"prints_total", "paste_height_um", "squeegee_pressure_kg", "print_speed_mm_s"},
                   "paste_height_um"}},
      {"reflow", {{"zone8_c", "zone4_c", "o2_ppm", "conveyor_mm_s", "boards_total"}, "zone8_c"}},
      {"aoi", {{"inspected_total", "first_pass_yield", "defects_total", "cycle_time_s"},
               "first_pass_yield"}}};
  for (const auto& line : doc["lines"])
    for (const auto& m : line["machines"]) {
      INFO(m.dump());
      CHECK(m["status"] == "online");
      CHECK(m["state"].is_string());
      CHECK(m["state_since"].is_number_integer());
      CHECK(m["last_poll"].is_number_integer());
      CHECK(m["last_ok"].is_number_integer());
      CHECK(m["last_error"].is_null());
      const auto& tile = tiles.at(m["type"]);
      CHECK(names_of(m["key_metrics"], "name") == tile.first);
      CHECK(m["sparkline"] == tile.second);
      for (const auto& k : m["key_metrics"]) {
        CHECK(k["value"].is_number());
        CHECK(k["ts"].is_number_integer());
        CHECK(k["ts"].get<int64_t>() <= m["last_ok"].get<int64_t>());
      }
    }
}

TEST_CASE("/floor key metrics are the values /machines/{id} shows", "[api][floor]") {
  auto& d = daemon::shared();
  // Polls land every 50 ms: compare a floor and a machine reply that saw the same poll.
  std::string mismatch = "no pair of replies saw the same poll";
  bool same_poll = wait_until(
      [&] {
        auto floor = get(d.port(), "/api/v1/floor?line=smt1");
        auto machine = get(d.port(), "/api/v1/machines/smt1-reflow");
        if (floor.status != 200 || machine.status != 200)
          return false;
        const json* tile = find_by(floor.doc["lines"][0]["machines"], "id", "smt1-reflow");
        if (!tile)
          return false;
        for (const auto& k : (*tile)["key_metrics"]) {
          const auto& full = machine.doc["metrics"][k["name"].get<std::string>()];
          if (full["ts"] != k["ts"])
            return false;  // a poll in between: try again
          if (full["value"] != k["value"]) {
            mismatch = k.dump() + " vs " + full.dump();
            return true;
          }
        }
        mismatch.clear();
        return true;
      },
      std::chrono::seconds(10));
  REQUIRE(same_poll);
  CHECK(mismatch == "");
}

TEST_CASE("/floor?line= shows one line; an unknown line is 404", "[api][floor]") {
  auto& d = daemon::shared();
  auto doc = ok_doc(d.port(), "/api/v1/floor?line=smt2");
  REQUIRE(doc["lines"].size() == 1);
  CHECK(doc["lines"][0]["id"] == "smt2");
  check_error(d.port(), "/api/v1/floor?line=smt9", 404, "unknown_line", "'smt9'");
  check_error(d.port(), "/api/v1/floor?line=%FF", 404, "unknown_line", "no line");
  check_error(d.port(), "/api/v1/floor?line=", 404, "unknown_line", "no line");
  check_error(d.port(), "/api/v1/floor?lines=smt1", 400, "bad_parameter", "'lines'");
  check_error(d.port(), "/api/v1/floor/sparklines?line=smt9", 404, "unknown_line", "'smt9'");
}

TEST_CASE("/floor/sparklines are each machine's sparkline metric as /series gives it",
          "[api][floor]") {
  auto& d = daemon::shared();
  auto dflt = ok_doc(d.port(), "/api/v1/floor/sparklines");
  CHECK(dflt["to"].get<int64_t>() - dflt["from"].get<int64_t>() == 3600 * 1000);
  auto series_default = ok_doc(d.port(), "/api/v1/machines/smt1-placer1/series?metric=cycle_time_s");
  CHECK(dflt["step_ms"] == series_default["step_ms"]);  // the same default step as /series
  CHECK(dflt["machines"].size() == 6);

  // A closed range in the past (within the 2 s of 50 ms polls the fixture waits
  // for): every poll in it is committed, both replies are final.
  const int64_t to = now_ms() - 500, from = to - 1500;
  auto doc = ok_doc(d.port(), "/api/v1/floor/sparklines?" + range(from, to) + "&step_ms=200");
  CHECK(doc["from"] == from);
  CHECK(doc["to"] == to);
  CHECK(doc["step_ms"] == 200);
  auto floor = ok_doc(d.port(), "/api/v1/floor");
  size_t machines = 0;
  for (const auto& line : floor["lines"])
    for (const auto& m : line["machines"]) {
      ++machines;
      const std::string id = m["id"];
      INFO(id);
      const auto& spark = doc["machines"][id];
      REQUIRE(spark.is_object());
      CHECK(spark["metric"] == m["sparkline"]);
      auto series = ok_doc(d.port(), "/api/v1/machines/" + id + "/series?metric=" +
                                         m["sparkline"].get<std::string>() + "&" +
                                         range(from, to) + "&step_ms=200&agg=avg");
      CHECK(spark["points"].size() >= 5);
      CHECK(spark["points"] == series["points"]);
    }
  CHECK(machines == doc["machines"].size());

  auto one = ok_doc(d.port(), "/api/v1/floor/sparklines?line=smt2&" + range(from, to));
  CHECK(one["machines"].size() == 1);
  CHECK(one["machines"].contains("smt2-aoi"));
}

TEST_CASE("/floor/sparklines refuses steps that need too many buckets", "[api][floor]") {
  auto& d = daemon::shared();
  const std::string s = "/api/v1/floor/sparklines?";
  check_error(d.port(), s + "step_ms=0", 400, "bad_parameter", "'step_ms'");
  check_error(d.port(), s + "step_ms=abc", 400, "bad_parameter", "'step_ms'");
  // Buckets align to multiples of step_ms since the epoch: this hour starts on one.
  const std::string hour = "from=1795600800000&to=1795604400000&";
  check_error(d.port(), s + hour + "step_ms=359", 400, "bad_parameter", "per machine");
  // Unaligned, the same hour touches one bucket more than 3600000 / 360.
  check_error(d.port(), s + "from=1795600800001&to=1795604400001&step_ms=360", 400,
              "bad_parameter", "per machine");
  check_error(d.port(), s + "from=2000&to=1000", 400, "bad_parameter", "'from'");
  check_error(d.port(), s + "agg=max", 400, "bad_parameter", "'agg'");
  CHECK(get(d.port(), s + hour + "step_ms=360").status == 200);  // exactly 10000 buckets
}

TEST_CASE("/lines/{id}/summary defaults to the current shift and agrees with /states and /samples",
          "[api][floor]") {
  auto& d = daemon::shared();
  auto dflt = ok_doc(d.port(), "/api/v1/lines/smt1/summary");
  CHECK(dflt["line"] == "smt1");
  CHECK(dflt["name"] == "SMT Line 1");
  const int64_t dto = dflt["to"];
  CHECK(std::abs(dto - now_ms()) < 60000);
  CHECK(dflt["from"] == edgemes::api::shift_at(edgemes::config::config{}.shifts, dto - 1).from_ms);
  CHECK(dflt["run_states"] == json::array({"RUN"}));
  CHECK(names_of(dflt["machines"], "id") ==
        std::vector<std::string>{"smt1-printer", "smt1-placer1", "smt1-placer2", "smt1-reflow",
                                 "smt1-aoi"});

  const int64_t to = now_ms() - 500, from = to - 1500;  // as in the sparklines test
  auto doc = ok_doc(d.port(), "/api/v1/lines/smt1/summary?" + range(from, to));
  CHECK(doc["from"] == from);
  CHECK(doc["to"] == to);
  for (const auto& m : doc["machines"]) {
    const std::string id = m["id"];
    INFO(m.dump());
    auto states = ok_doc(d.port(), "/api/v1/machines/" + id + "/states?" + range(from, to));
    CHECK(m["time_in_state"] == states["time_in_state"]);
    int64_t total = 0, run = 0;
    for (const auto& s : states["time_in_state"]) {
      total += s["ms"].get<int64_t>();
      run += s["state"] == "RUN" ? s["ms"].get<int64_t>() : 0;
    }
    REQUIRE(total > 0);
    CHECK(m["covered_ms"] == total);
    CHECK(m["availability"].get<double>() == Approx(double(run) / double(total)));

    REQUIRE_FALSE(m["counters"].empty());  // every sim type has a *_total metric
    for (const auto& c : m["counters"]) {
      const std::string metric = c["metric"];
      INFO(metric);
      CHECK(metric.size() > 6);
      CHECK(metric.compare(metric.size() - 6, 6, "_total") == 0);
      auto pts = ok_doc(d.port(), "/api/v1/machines/" + id + "/samples?metric=" + metric + "&" +
                                      range(from, to) + "&limit=100000")["points"];
      REQUIRE(pts.size() >= 2);
      CHECK(c["first"] == pts.front()[1]);
      CHECK(c["first_ts"] == pts.front()[0]);
      CHECK(c["last"] == pts.back()[1]);
      CHECK(c["last_ts"] == pts.back()[0]);
      const double increase = pts.back()[1].get<double>() - pts.front()[1].get<double>();
      CHECK(c["reset"] == false);  // simulated counters never go down
      CHECK(c["increase"].get<double>() == Approx(increase));
      const double hours = (pts.back()[0].get<double>() - pts.front()[0].get<double>()) / 3.6e6;
      CHECK(c["per_hour"].get<double>() == Approx(increase / hours));
    }
  }
}

TEST_CASE("/lines/{id}/summary errors name the line or the parameter", "[api][floor]") {
  auto& d = daemon::shared();
  check_error(d.port(), "/api/v1/lines/smt9/summary", 404, "unknown_line", "'smt9'");
  check_error(d.port(), "/api/v1/lines/%FF/summary", 404, "unknown_line", "no line");
  check_error(d.port(), "/api/v1/lines/smt1/summary?from=2000&to=1000", 400, "bad_parameter",
              "'from'");
  check_error(d.port(), "/api/v1/lines/smt1/summary?to=abc", 400, "bad_parameter", "'to'");
  check_error(d.port(), "/api/v1/lines/smt1/summary?line=smt1", 400, "bad_parameter", "'line'");
  auto empty = ok_doc(d.port(), "/api/v1/lines/smt2/summary?from=0&to=1000");
  const auto& m = empty["machines"].at(0);
  CHECK(m["availability"].is_null());
  CHECK(m["time_in_state"] == json::array());
  CHECK(m["counters"].at(0)["increase"].is_null());
  CHECK(m["counters"].at(0)["per_hour"].is_null());
}

TEST_CASE("configured tiles, shifts, run states and a counter reset reach the dashboard",
          "[api][floor]") {
  fake_machine machine;  // parts_total starts at 100, state SETUP
  temp_dir dir;
  const int port = free_port();
  json big = json::array();
  for (int i = 0; i < 11; ++i)
    big.push_back({{"id", "aoi" + std::to_string(i)}, {"type", "aoi"},
                   {"source", {{"adapter", "sim"}}}});
  json cfg = {
      {"site", "custom"},
      {"database", {{"path", dir.file("c.db")}}},
      {"writer", {{"flush_interval_ms", 20}}},
      {"api", {{"port", port}}},
      {"shifts", {{{"name", "night"}, {"start", "19:00"}}, {{"name", "day"}, {"start", "07:00"}}}},
      {"run_states", {"RUN", "SETUP"}},
      {"lines",
       {{{"id", "l1"},
         {"machines",
          {{{"id", "ctr"},
            {"poll_interval_ms", 50},
            {"source",
             {{"adapter", "http_json"},
              {"url", "http://127.0.0.1:" + std::to_string(machine.port()) + "/m"}}},
            {"metrics", {{"parts_total", "/count"}, {"temp_c", "/temp"}}},
            {"state", "/state"},
            {"dashboard",
             {{"key_metrics", {"temp_c", "parts_total"}},
              {"sparkline", "parts_total"},
              {"counters", {"parts_total"}}}}}}}},
        {{"id", "big"}, {"machines", big}}}}};
  write_file(dir.file("c.json"), cfg.dump());
  auto proc = start_daemon(dir, port, dir.file("c.json"));

  auto shows = [&](double count, const std::string& state) {
    return wait_until(
        [&] {
          auto r = get(port, "/api/v1/machines/ctr");
          return r.status == 200 && r.doc["metrics"]["parts_total"]["value"] == count &&
                 r.doc["state"] == state;
        },
        std::chrono::seconds(10));
  };
  REQUIRE(shows(100, "SETUP"));
  machine.set(150, "SETUP");
  REQUIRE(shows(150, "SETUP"));
  machine.set(150, "STOP");
  REQUIRE(shows(150, "STOP"));
  const int64_t before_reset = now_ms();
  machine.set(5, "STOP");  // the machine restarted: its counter begins again
  REQUIRE(shows(5, "STOP"));
  machine.set(20, "STOP");
  REQUIRE(shows(20, "STOP"));
  const int64_t after = now_ms();

  auto floor = ok_doc(port, "/api/v1/floor");
  CHECK(floor["site"] == "custom");
  const std::vector<edgemes::config::shift_config> shifts{{"night", 19 * 60}, {"day", 7 * 60}};
  auto shift = edgemes::api::shift_at(shifts, floor["now"]);
  CHECK(floor["shift"]["name"] == shift.name);
  CHECK(floor["shift"]["from"] == shift.from_ms);
  const auto& tile = floor["lines"][0]["machines"][0];
  CHECK(tile["sparkline"] == "parts_total");
  CHECK(names_of(tile["key_metrics"], "name") == std::vector<std::string>{"temp_c", "parts_total"});
  CHECK(tile["key_metrics"][0]["value"] == 21.5);
  CHECK(tile["key_metrics"][1]["value"] == 20.0);

  auto counter = [&](int64_t to) {
    auto doc = ok_doc(port, "/api/v1/lines/l1/summary?" + range(0, to));
    CHECK(doc["run_states"] == json::array({"RUN", "SETUP"}));
    const auto& c = doc["machines"][0]["counters"];
    REQUIRE(c.size() == 1);
    CHECK(c[0]["metric"] == "parts_total");
    return c[0];
  };
  auto whole = counter(after + 1);
  CHECK(whole["first"] == 100.0);
  CHECK(whole["last"] == 20.0);
  CHECK(whole["reset"] == true);
  CHECK(whole["increase"] == 20.0);  // counted from the reset
  auto before = counter(before_reset);
  CHECK(before["last"] == 150.0);
  CHECK(before["reset"] == false);
  CHECK(before["increase"] == 50.0);

  // Availability counts every run state: here the SETUP time.
  auto summary = ok_doc(port, "/api/v1/lines/l1/summary?" + range(0, after));
  auto states = ok_doc(port, "/api/v1/machines/ctr/states?" + range(0, after));
  int64_t total = 0, running = 0;
  for (const auto& s : states["time_in_state"]) {
    total += s["ms"].get<int64_t>();
    running += s["state"] == "SETUP" ? s["ms"].get<int64_t>() : 0;
  }
  REQUIRE(total > 0);
  REQUIRE(running > 0);
  REQUIRE(running < total);
  CHECK(summary["machines"][0]["availability"].get<double>() ==
        Approx(double(running) / double(total)));

  // Text from a machine is escaped, whatever it holds; whole doubles stay doubles.
  const std::string odd_state = "St\xc3\xb6rung \"A\"\\1";
  machine.set(20, odd_state);
  REQUIRE(shows(20, odd_state));
  auto raw = get(port, "/api/v1/floor?line=l1");
  REQUIRE(raw.doc.is_object());
  CHECK(raw.doc["lines"][0]["machines"][0]["state"] == odd_state);
  CHECK(raw.body.find(R"("name":"parts_total","value":20.0,)") != std::string::npos);

  // 12 machines x 9000 buckets is past the total bound; one machine is not.
  const std::string nine_k = "/api/v1/floor/sparklines?from=0&to=9000000&step_ms=1000";
  check_error(port, nine_k, 400, "bad_parameter", "in total");
  CHECK(get(port, nine_k + "&line=l1").status == 200);
}
