// The whole pipeline through real processes: edgemes-sim serves machines over
// HTTP, edgemes polls them, stores them through its one writer and answers
// the API from read-only connections.
#include "tests/e2e/e2e_support.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <map>
#include <set>

using namespace edgemes::test;
using nlohmann::json;

namespace {

std::string pipeline_config(const temp_dir& dir, int sim_port, int api_port) {
  auto url = [&](const std::string& id) {
    return "http://127.0.0.1:" + std::to_string(sim_port) + "/machines/" + id + "/status";
  };
  auto machine = [&](const std::string& id, const std::string& type, json metrics) {
    metrics["seq"] = "/seq";
    return json{{"id", id},
                {"type", type},
                {"poll_interval_ms", 200},
                {"source", {{"adapter", "http_json"}, {"url", url(id)}, {"timeout_ms", 1000}}},
                {"metrics", metrics},
                {"state", "/state"}};
  };
  json cfg = {
      {"site", "e2e"},
      {"database", {{"path", dir.file("factory.db")}}},
      {"writer", {{"max_batch", 50}, {"flush_interval_ms", 100}, {"max_queue", 100000}}},
      {"api", {{"bind", "127.0.0.1"}, {"port", api_port}, {"query_actors", 2}}},
      {"lines",
       {{{"id", "smt1"},
         {"name", "SMT Line 1"},
         {"machines",
          {machine("p1", "placer",
                   {{"placements_total", "/counters/placements"},
                    {"cycle_time_s", "/cycle_time_s"}}),
           machine("r1", "reflow", {{"zone1_c", "/oven/zones/0"}, {"o2_ppm", "/oven/o2_ppm"}}),
           machine("a1", "aoi", {{"inspected_total", "/counters/inspected"}}),
           machine("bad1", "placer", {{"cycle_time_s", "/cycle_time_s"}})}}}}},
  };
  auto path = dir.file("edgemes.json");
  write_file(path, cfg.dump(2));
  return path;
}


json machine_status(int port, const std::string& id) {
  return get_json(port, "/api/v1/machines/" + id);
}

} // namespace

TEST_CASE("every reply served to a healthy machine is stored exactly once and the API agrees "
          "with the raw data",
          "[e2e]") {
  temp_dir dir;
  int sim_port = free_port();
  int api_port = free_port();
  auto cfg = pipeline_config(dir, sim_port, api_port);
  auto sim = start_sim(dir, sim_port, cfg, {"--fault", "bad1=http500"});
  auto daemon = start_daemon(dir, api_port, cfg);
  const std::vector<std::string> healthy{"p1", "r1", "a1"};

  // Let it run until every healthy machine has polled a few times and the
  // faulty one has gone offline.
  bool settled = wait_until(
      [&] {
        for (const auto& id : healthy) {
          auto m = machine_status(api_port, id);
          if (!m.is_object() || m["polls"]["ok"].get<int64_t>() < 10)
            return false;
        }
        auto bad = machine_status(api_port, "bad1");
        return bad.is_object() && bad["status"] == "offline";
      },
      std::chrono::seconds(20));
  INFO(daemon->log());
  REQUIRE(settled);


  // The faulty machine: offline, with the error that made it so.
  auto bad = machine_status(api_port, "bad1");
  CHECK(bad["status"] == "offline");
  CHECK(bad["last_error"].get<std::string>().find("HTTP 500") != std::string::npos);
  CHECK(bad["polls"]["failed"].get<int64_t>() >= 3);
  CHECK(bad["polls"]["ok"].get<int64_t>() == 0);
  for (const auto& id : healthy) {
    auto m = machine_status(api_port, id);
    CHECK(m["status"] == "online");
    CHECK(m["metrics"]["seq"]["value"].get<double>() >= 10);
  }

  // /series agrees with /samples over the same fixed, already committed range.
  auto to = now_ms() - 1000;
  auto from = to - 60 * 1000;
  auto range = "&from=" + std::to_string(from) + "&to=" + std::to_string(to);
  auto samples = get_json(api_port, "/api/v1/machines/p1/samples?metric=cycle_time_s&limit=100000" + range);
  REQUIRE(samples["points"].size() >= 5);
  CHECK(samples["truncated"] == false);
  const int64_t step = 1000;
  std::map<int64_t, std::vector<double>> buckets;
  for (const auto& p : samples["points"]) {
    auto ts = p[0].get<int64_t>();
    REQUIRE(ts >= from);
    REQUIRE(ts < to);
    buckets[ts / step * step].push_back(p[1].get<double>());  // aligned to the epoch
  }
  for (std::string agg : {"avg", "min", "max", "sum", "count", "last"}) {
    auto series = get_json(api_port, "/api/v1/machines/p1/series?metric=cycle_time_s&step_ms=1000&agg=" +
                                         agg + range);
    INFO(agg << " " << series.dump());
    REQUIRE(series["points"].size() == buckets.size());
    size_t i = 0;
    for (const auto& [start, values] : buckets) {
      double expect = 0;
      if (agg == "avg") {
        for (double v : values) expect += v;
        expect /= static_cast<double>(values.size());
      } else if (agg == "min") {
        expect = *std::min_element(values.begin(), values.end());
      } else if (agg == "max") {
        expect = *std::max_element(values.begin(), values.end());
      } else if (agg == "sum") {
        for (double v : values) expect += v;
      } else if (agg == "count") {
        expect = static_cast<double>(values.size());
      } else {
        expect = values.back();
      }
      const auto& pt = series["points"][i++];
      CHECK(pt[0].get<int64_t>() == start);
      CHECK(pt[1].get<double>() == Approx(expect).epsilon(1e-9));
    }
  }

  // /states agrees with the raw state changes in the file.
  auto states = get_json(api_port, "/api/v1/machines/p1/states?from=" + std::to_string(from) +
                                       "&to=" + std::to_string(to));
  REQUIRE(states["intervals"].size() >= 1);
  int64_t cursor = states["intervals"][0]["from"].get<int64_t>();
  for (const auto& iv : states["intervals"]) {
    CHECK(iv["from"].get<int64_t>() == cursor);
    CHECK(iv["to"].get<int64_t>() > cursor);
    cursor = iv["to"].get<int64_t>();
  }
  CHECK(cursor == to);
  double share_sum = 0;
  int64_t ms_sum = 0;
  for (const auto& s : states["time_in_state"]) {
    share_sum += s["share"].get<double>();
    ms_sum += s["ms"].get<int64_t>();
  }
  CHECK(share_sum == Approx(1.0));
  CHECK(ms_sum == to - states["intervals"][0]["from"].get<int64_t>());
  {
    ro_db db{dir.file("factory.db")};
    auto changes = db.rows(
        "SELECT ts, state FROM state_changes JOIN machines ON machines.id = machine_id "
        "WHERE ident = 'p1' AND ts < " + std::to_string(to) + " ORDER BY ts");
    REQUIRE(!changes.empty());
    // Every interval's state is the raw state in force at its start.
    for (const auto& iv : states["intervals"]) {
      std::string in_force;
      for (const auto& c : changes)
        if (std::stoll(c[0]) <= iv["from"].get<int64_t>())
          in_force = c[1];
      CHECK(iv["state"].get<std::string>() == in_force);
    }
  }

  // The hot window held in memory is a figure: the polls committed and not
  // yet compacted, and their blocks (16 bytes per poll at least).
  auto writer = get_json(api_port, "/api/v1/health")["writer"];
  CHECK(writer["head_polls"].get<int64_t>() > 0);
  CHECK(writer["head_polls"].get<int64_t>() <= writer["rows_committed"].get<int64_t>());
  CHECK(writer["head_bytes"].get<int64_t>() >= writer["head_polls"].get<int64_t>() * 16);
  CHECK(writer["head_spills"].get<int64_t>() == 0);  // far under its 64 MiB limit

  // Graceful stop: everything polled is committed, the WAL is checkpointed.
  daemon->signal(SIGTERM);
  int code = daemon->wait(std::chrono::seconds(15));
  INFO(daemon->log());
  REQUIRE(code == 0);
  CHECK(daemon->log().find("ERROR") == std::string::npos);

  ro_db db{dir.file("factory.db")};
  CHECK(db.rows("PRAGMA integrity_check")[0][0] == "ok");
  for (const auto& id : healthy) {
    auto served = get_json(sim_port, "/machines/" + id + "/served")["seqs"].get<std::vector<int64_t>>();
    auto rows = db.rows("SELECT value FROM samples WHERE machine = '" + id +
                        "' AND metric = 'seq' ORDER BY ts");
    std::vector<int64_t> stored;
    for (const auto& r : rows)
      stored.push_back(static_cast<int64_t>(std::llround(std::stod(r[0]))));
    INFO("machine " << id);
    CHECK(served.size() >= 10);
    CHECK(stored == served);  // same replies, same order, none twice, none missing
  }
  auto bad_rows = db.rows("SELECT count(*) FROM samples WHERE machine = 'bad1'");
  CHECK(bad_rows[0][0] == "0");
}

TEST_CASE("the shipped example-http config polls edgemes-sim with no poll problems", "[e2e]") {
  temp_dir dir;
  int sim_port = free_port();
  int api_port = free_port();
  auto text = read_file(source_path("config/example-http.json"));
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
      text.replace(pos, from.size(), to);
  };
  replace_all("127.0.0.1:9100", "127.0.0.1:" + std::to_string(sim_port));
  replace_all("\"data/factory.db\"", "\"" + dir.file("factory.db") + "\"");
  replace_all("\"port\": 8080", "\"port\": " + std::to_string(api_port));
  auto cfg = dir.file("example.json");
  write_file(cfg, text);
  auto sim = start_sim(dir, sim_port, cfg);
  auto daemon = start_daemon(dir, api_port, cfg);
  auto machines = get_json(api_port, "/api/v1/machines")["machines"];
  REQUIRE(machines.size() == 4);
  bool polled = wait_until(
      [&] {
        auto all = get_json(api_port, "/api/v1/machines");
        if (!all.is_object() || all["machines"].size() != 4)
          return false;
        for (const auto& m : all["machines"])
          if (m["polls"]["ok"].get<int64_t>() < 2)
            return false;
        return true;
      },
      std::chrono::seconds(20));
  INFO(daemon->log());
  REQUIRE(polled);
  auto all = get_json(api_port, "/api/v1/machines");
  REQUIRE(all["machines"].size() == 4);
  for (const auto& m : all["machines"]) {
    INFO(m.dump());
    CHECK(m["status"] == "online");
    CHECK(m["polls"]["problems"] == 0);
    CHECK(m["state"].is_string());
    auto detail = get_json(api_port, "/api/v1/machines/" + m["id"].get<std::string>());
    for (const auto& [name, latest] : detail["metrics"].items()) {
      INFO(name);
      CHECK(latest["value"].is_number());
    }
  }
  daemon->signal(SIGTERM);
  CHECK(daemon->wait(std::chrono::seconds(15)) == 0);
}
