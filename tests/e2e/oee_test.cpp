// End-to-end OEE: the real daemon polls the real simulator (edgemes-sim over
// HTTP) through a shift boundary, an offline period (the simulator's http500
// fault switch), a counter reset (the simulator restarted: its counters start
// again from their first values) and an unmapped state text; then the test
// computes availability, performance and quality of each machine and of the
// line from the raw rows with plain SQL (state_changes and the samples view,
// read through the loadable extension) and compares them with
// /machines/{id}/oee, /machines/{id}/oee/series?step=shift and /lines/{id}/oee.
#include "tests/e2e/e2e_support.hpp"

#include <algorithm>
#include <csignal>
#include <ctime>
#include <map>
#include <thread>

using namespace edgemes::test;
using nlohmann::json;

namespace {

// What the test configures for each machine's OEE.
struct machine_oee {
  std::string id;
  double ideal_cycle_s;
  std::string total, good, reject;
};

const std::vector<machine_oee> machines{
    {"pr1", 14, "prints_total", "boards_total", ""},
    {"ao1", 12, "inspected_total", "", "defects_total"},
    {"ao2", 12, "inspected_total", "", "defects_total"},  // its state is "aoi": unmapped
};

// Local "HH:MM" of an epoch ms.
std::string local_hhmm(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", tm.tm_hour, tm.tm_min);
  return buf;
}

std::string oee_config(const temp_dir& dir, int sim_port, int api_port, int64_t boundary) {
  auto url = [&](const std::string& id) {
    return "http://127.0.0.1:" + std::to_string(sim_port) + "/machines/" + id + "/status";
  };
  json list = json::array();
  for (const auto& m : machines) {
    const bool aoi = m.id != "pr1";
    json metrics = aoi ? json{{"inspected_total", "/counters/inspected"},
                              {"defects_total", "/counters/defects"}}
                       : json{{"prints_total", "/counters/prints"},
                              {"boards_total", "/counters/boards"}};
    json oee = {{"ideal_cycle_s", m.ideal_cycle_s}, {"total", m.total}};
    if (!m.good.empty())
      oee["good"] = m.good;
    if (!m.reject.empty())
      oee["reject"] = m.reject;
    list.push_back({{"id", m.id},
                    {"type", aoi ? "aoi" : "printer"},
                    {"poll_interval_ms", 200},
                    {"source", {{"adapter", "http_json"}, {"url", url(m.id)}, {"timeout_ms", 1000}}},
                    {"metrics", metrics},
                    {"state", m.id == "ao2" ? "/type" : "/state"},
                    {"oee", oee}});
  }
  json cfg = {
      {"site", "e2e-oee"},
      {"database",
       {{"path", dir.file("factory.db")}, {"chunk_window_ms", 2000}, {"compaction_grace_ms", 1000}}},
      {"writer", {{"flush_interval_ms", 100}}},
      {"api", {{"bind", "127.0.0.1"}, {"port", api_port}, {"query_actors", 2}}},
      // Shift Y begins at `boundary` (a whole local minute), X twelve hours later.
      {"shifts",
       {{{"name", "Y"}, {"start", local_hhmm(boundary)}},
        {{"name", "X"}, {"start", local_hhmm(boundary + 12 * 3600 * 1000)}}}},
      {"lines",
       {{{"id", "smt1"},
         {"machines", list},
         {"output", {{"machine", "ao1"}, {"metric", "inspected_total"}}}}}},
  };
  auto path = dir.file("edgemes.json");
  write_file(path, cfg.dump(2));
  return path;
}

// The arithmetic of docs/MES.md from plain SQL over the raw rows.
struct expected {
  std::map<std::string, int64_t> state_ms;  // state text -> ms in [from, to)
  double total = 0, good = 0, reject = 0;
  int64_t total_resets = 0;
  int64_t prd = 0, planned = 0, total_ms = 0;
  double a = 0, p = 0, q = 0, p_raw = 0;
};

std::map<std::string, int64_t> sql_state_ms(ro_db& db, const std::string& id, int64_t from,
                                            int64_t to) {
  const std::string f = std::to_string(from), t = std::to_string(to);
  const std::string sql =
      "WITH c AS (SELECT ts, state, lead(ts) OVER (ORDER BY ts) AS nx FROM state_changes "
      "WHERE machine_id = (SELECT id FROM machines WHERE ident = '" + id + "')) "
      "SELECT state, sum(min(coalesce(nx, " + t + "), " + t + ") - max(ts, " + f + ")) FROM c "
      "WHERE coalesce(nx, " + t + ") > " + f + " AND ts < " + t + " GROUP BY state";
  std::map<std::string, int64_t> out;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW)
    out[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))] = sqlite3_column_int64(s, 1);
  sqlite3_finalize(s);
  return out;
}

// A counter's increase and resets over [from, to): each value minus the one
// before it when it did not drop (a drop is a reset and counts nothing).
std::pair<double, int64_t> sql_increase(ro_db& db, const std::string& id, const std::string& metric,
                                        int64_t from, int64_t to) {
  const std::string sql =
      "SELECT coalesce(sum(CASE WHEN value >= prev THEN value - prev ELSE 0 END), 0), "
      "coalesce(sum(value < prev), 0) FROM (SELECT ts, value, LAG(value) OVER (ORDER BY ts) AS prev "
      "FROM samples WHERE machine = '" + id + "' AND metric = '" + metric + "') "
      "WHERE prev IS NOT NULL AND ts >= " + std::to_string(from) + " AND ts < " + std::to_string(to);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  std::pair<double, int64_t> out{sqlite3_column_double(s, 0), sqlite3_column_int64(s, 1)};
  sqlite3_finalize(s);
  return out;
}

expected sql_oee(ro_db& db, const machine_oee& m, int64_t from, int64_t to) {
  expected e;
  e.state_ms = sql_state_ms(db, m.id, from, to);
  // E10 of the simulator's texts (config::e10_default_map): RUN is PRD; IDLE,
  // DOWN, ALARM, OFFLINE and the unmapped "aoi" are neither NST nor SDT, so
  // the planned time is the part of the range some state covers (before the
  // first state edgemes was not watching: docs/MES.md, no_state).
  e.prd = e.state_ms.count("RUN") ? e.state_ms.at("RUN") : 0;
  e.total_ms = to - from;
  for (const auto& [state, ms] : e.state_ms)
    e.planned += ms;
  std::tie(e.total, e.total_resets) = sql_increase(db, m.id, m.total, from, to);
  if (!m.good.empty())
    e.good = sql_increase(db, m.id, m.good, from, to).first;
  if (!m.reject.empty())
    e.good = e.total - (e.reject = sql_increase(db, m.id, m.reject, from, to).first);
  e.a = static_cast<double>(e.prd) / static_cast<double>(e.planned);
  e.p_raw = e.prd > 0 ? m.ideal_cycle_s * e.total / (static_cast<double>(e.prd) / 1000.0) : 0;
  e.p = std::min(e.p_raw, 1.0);
  e.q = e.total > 0 ? e.good / e.total : 0;
  return e;
}

// The API's reply (or a series point) against the SQL arithmetic.
void check_against_sql(const json& got, const expected& e) {
  INFO(got.dump().substr(0, 1500));
  const auto& in = got["inputs"];
  CHECK(in["total_ms"].get<int64_t>() == e.total_ms);
  CHECK(in["planned_ms"].get<int64_t>() == e.planned);
  CHECK(in["time_ms"]["no_state"].get<int64_t>() == e.total_ms - e.planned);
  CHECK(in["time_ms"]["PRD"].get<int64_t>() == e.prd);
  int64_t offline = e.state_ms.count("OFFLINE") ? e.state_ms.at("OFFLINE") : 0;
  CHECK(in["time_ms"]["OFFLINE"].get<int64_t>() == offline);
  int64_t unmapped = e.state_ms.count("aoi") ? e.state_ms.at("aoi") : 0;
  CHECK(in["time_ms"]["unmapped"].get<int64_t>() == unmapped);
  CHECK(in["total"]["count"].get<double>() == e.total);
  CHECK(in["total"]["resets"].get<int64_t>() == e.total_resets);
  CHECK(got["availability"].get<double>() == Approx(e.a).epsilon(1e-12));
  if (e.prd > 0) {
    CHECK(got["performance"].get<double>() == Approx(e.p).epsilon(1e-12));
    CHECK(got["performance_raw"].get<double>() == Approx(e.p_raw).epsilon(1e-12));
    CHECK(got["performance_capped"].get<bool>() == (e.p_raw > 1));
  } else {
    CHECK(got["performance"].is_null());
    CHECK(got["null_reasons"]["performance"] == "no productive (PRD) time in the range");
  }
  if (e.total > 0) {
    CHECK(got["quality"].get<double>() == Approx(e.q).epsilon(1e-12));
    CHECK(in["good_count"].get<double>() == e.good);
  } else {
    CHECK(got["quality"].is_null());
  }
  if (e.prd > 0 && e.total > 0)
    CHECK(got["oee"].get<double>() == Approx(e.a * e.p * e.q).epsilon(1e-12));
}

json ok(int port, const std::string& target) {
  int status = 0;
  auto doc = get_json(port, target, &status);
  INFO(target << " -> " << status << " " << doc.dump().substr(0, 300));
  REQUIRE(status == 200);
  return doc;
}

std::string range(int64_t from, int64_t to) {
  return "from=" + std::to_string(from) + "&to=" + std::to_string(to);
}

} // namespace

TEST_CASE("OEE from the API equals plain SQL over the raw rows through a shift change, an "
          "offline period, a counter reset and an unmapped state",
          "[e2e][oee]") {
  temp_dir dir;
  const int sim_port = free_port(), api_port = free_port();
  const int64_t started = now_ms();
  // The shift boundary: the next whole minute at least 25 s away.
  const int64_t boundary = (started + 25'000) / 60'000 * 60'000 + 60'000;
  const auto cfg = oee_config(dir, sim_port, api_port, boundary);
  auto sim = start_sim(dir, sim_port, cfg, {"--seed", "14"});
  auto daemon = start_daemon(dir, api_port, cfg);
  auto counter = [&](const std::string& id, const std::string& metric) {
    auto m = get_json(api_port, "/api/v1/machines/" + id);
    const auto& v = m["metrics"][metric]["value"];
    return v.is_number() ? v.get<double>() : -1.0;
  };
  REQUIRE(wait_until([&] { return counter("pr1", "prints_total") >= 0; }, std::chrono::seconds(10)));
  const double first_prints = counter("pr1", "prints_total");

  // An offline period: ao1's replies fail for 2.5 s (3 failures at 200 ms make it OFFLINE).
  REQUIRE(http_request(sim_port, "POST", "/machines/ao1/fault?mode=http500").status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the outage's length, not a wait
  REQUIRE(http_request(sim_port, "POST", "/machines/ao1/fault?mode=none").status == 200);

  // A counter reset: once the printer has printed, the simulator restarts and
  // its counters begin again from their first values.
  bool printed = wait_until([&] { return counter("pr1", "prints_total") > first_prints; },
                            std::chrono::seconds(90));
  INFO(daemon->log());
  REQUIRE(printed);
  const double before_restart = counter("pr1", "prints_total");
  sim->signal(SIGTERM);
  REQUIRE(sim->wait(std::chrono::seconds(10)) >= 0);
  sim = start_sim(dir, sim_port, cfg, {"--seed", "14"});
  REQUIRE(wait_until([&] {
    const double c = counter("pr1", "prints_total");
    return c >= 0 && c < before_restart;
  }, std::chrono::seconds(10)));

  // Past the shift boundary, with some production after it.
  REQUIRE(wait_until([&] { return now_ms() > boundary + 8'000; }, std::chrono::seconds(150)));
  const int64_t from = started - 1'000, to = now_ms() - 2'000;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the flush after `to`
  ro_db db(dir.file("factory.db"));

  std::map<std::string, expected> whole;
  for (const auto& m : machines) {
    INFO(m.id);
    whole[m.id] = sql_oee(db, m, from, to);
    auto got = ok(api_port, "/api/v1/machines/" + m.id + "/oee?" + range(from, to));
    CHECK(got["machine"] == m.id);
    check_against_sql(got, whole[m.id]);
    // Per shift: the points split at the boundary, each equal to SQL on its part.
    auto series = ok(api_port, "/api/v1/machines/" + m.id + "/oee/series?step=shift&" +
                                   range(from, to));
    REQUIRE(series["points"].size() == 2);
    CHECK(series["points"][0]["shift"] == "X");
    CHECK(series["points"][0]["to"].get<int64_t>() == boundary);
    CHECK(series["points"][1]["shift"] == "Y");
    check_against_sql(series["points"][0], sql_oee(db, m, from, boundary));
    check_against_sql(series["points"][1], sql_oee(db, m, boundary, to));
  }
  // The scenario happened: the reset, the offline period, the unmapped text.
  CHECK(whole["pr1"].total_resets >= 1);
  CHECK(whole["ao1"].state_ms["OFFLINE"] > 0);
  CHECK(whole["ao2"].state_ms["aoi"] > 0);
  auto ao2 = ok(api_port, "/api/v1/machines/ao2/oee?" + range(from, to));
  CHECK(ao2["inputs"]["unmapped_states"]["aoi"].get<int64_t>() == whole["ao2"].state_ms["aoi"]);

  // The line: time and ideal cycle from the bottleneck (pr1, the longest
  // ideal cycle), units and quality from the end-of-line counter (ao1).
  auto line = ok(api_port, "/api/v1/lines/smt1/oee?" + range(from, to));
  CHECK(line["basis"]["bottleneck"] == "pr1");
  CHECK(line["basis"]["output"]["machine"] == "ao1");
  const expected& b = whole["pr1"];
  const expected& out = whole["ao1"];
  CHECK(line["availability"].get<double>() == Approx(b.a).epsilon(1e-12));
  CHECK(line["inputs"]["total"]["count"].get<double>() == out.total);
  const double p_raw = 14 * out.total / (static_cast<double>(b.prd) / 1000.0);
  CHECK(line["performance_raw"].get<double>() == Approx(p_raw).epsilon(1e-12));
  if (out.total > 0)
    CHECK(line["quality"].get<double>() == Approx(out.q).epsilon(1e-12));
  REQUIRE(line["machines"].size() == 3);
  for (const auto& m : line["machines"])
    CHECK(m["inputs"]["total_ms"].get<int64_t>() == to - from);

  // Default range: the current shift (Y), from its start up to now.
  auto current = ok(api_port, "/api/v1/machines/pr1/oee");
  CHECK(current["from"].get<int64_t>() == boundary);
  CHECK(current["to"].get<int64_t>() == boundary + 12 * 3600 * 1000);
  int64_t sum = 0;
  for (const auto& [cls, ms] : current["inputs"]["time_ms"].items())
    sum += ms.get<int64_t>();
  CHECK(sum == current["inputs"]["total_ms"].get<int64_t>());
}
