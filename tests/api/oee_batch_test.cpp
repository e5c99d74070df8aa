// tests/api/oee_batch_test: the floor and line OEE replies, whose machines
// are read in groups (evaluator::prefetch -> reader::read_machines), equal
// the single-machine reply (its own reads) member for member, on a real file
// with 45 machines over two lines: random ranges (hour-aligned ends half of
// the time, `now` inside some), late polls in the head, a configured machine
// the file does not know, a machine with no data, and one whose counter
// metric the file lacks. The floor (45 machines) reads every machine's
// metrics in one statement, a line (20 or 25) one per machine.
#include "api/oee.hpp"

#include "storage/reader.hpp"
#include "storage/writer.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>

using namespace edgemes;
using nlohmann::json;
namespace oee = edgemes::api::oee;

namespace {

constexpr int64_t hour_ms = 3'600'000;
constexpr int64_t t0 = 1'699'999'200'000;  // an hour boundary
constexpr int64_t span = 3 * hour_ms;

json body(const actors::query_reply& r) {
  REQUIRE(r.status == 200);
  return json::parse(r.body);
}

} // namespace

TEST_CASE("floor and line OEE equal each machine's own OEE reply", "[api][oee]") {
  test::temp_dir dir;
  const std::string path = dir.file("floor.db");
  auto w = storage::writer::open(path, storage::options{});
  config::config plant;
  std::vector<storage::machine_def> defs;
  for (int l = 0; l < 2; ++l) {
    config::line_config line;
    line.id = "l" + std::to_string(l);
    line.name = line.id;
    for (int k = 0; k < (l == 0 ? 20 : 25); ++k) {
      config::machine_config m;
      m.id = line.id + "m" + std::to_string(k);
      m.type = k % 2 ? "printer" : "aoi";
      m.oee.ideal_cycle_s = 5 + k % 4;
      m.oee.total = k == 7 ? "nothing_total" : "total";
      if (k % 2)
        m.oee.good = "good";
      else
        m.oee.reject = "reject";
      line.machines.push_back(m);
      if (!(l == 1 && k == 24))  // configured, never in the file
        defs.push_back({m.id, m.id, line.id, m.type, "sim", {"total", "good", "reject", "temp"}});
    }
    line.output = {line.machines.back().id, "total"};
    plant.lines.push_back(line);
  }
  auto bind = w->sync_catalog({{"l0", "l0"}, {"l1", "l1"}}, defs);

  std::mt19937_64 rng(1400);
  std::vector<storage::poll_row> polls;
  std::vector<storage::state_row> states;
  const std::vector<std::string> texts{"RUN", "IDLE", "DOWN", "SETUP", "NST", "OFFLINE", "odd"};
  std::uniform_int_distribution<size_t> text(0, texts.size() - 1);
  std::uniform_int_distribution<int> step(0, 3), change(0, 20), reject(0, 9);
  for (size_t i = 0; i < defs.size(); ++i) {
    if (i == 3)
      continue;  // l0m3: catalogued, no data
    const int64_t id = bind.at(defs[i].ident).machine_id;
    double total = 0, good = 0, rej = 0;
    const int64_t begin = t0 + static_cast<int64_t>(i) * 40'000;  // later starts: no_state time
    for (int64_t ts = begin; ts < t0 + span; ts += 30'000) {
      const int d = step(rng);
      total += d;
      const int bad = d > 0 && reject(rng) == 0 ? 1 : 0;
      good += d - bad;
      rej += bad;
      polls.push_back({id, ts, {total, good, rej, 20.0 + std::sin(static_cast<double>(ts))}});
      if (ts == begin || change(rng) == 0)
        states.push_back({id, ts + 3, texts[text(rng)]});
    }
  }
  auto by_ts = [](const auto& a, const auto& b) { return a.ts_ms < b.ts_ms; };
  std::stable_sort(polls.begin(), polls.end(), by_ts);
  std::stable_sort(states.begin(), states.end(), by_ts);
  size_t s = 0;
  for (size_t i = 0; i < polls.size(); i += 100) {
    const size_t j = std::min(polls.size(), i + 100);
    std::vector<storage::state_row> changes;
    while (s < states.size() && (j == polls.size() || states[s].ts_ms <= polls[j - 1].ts_ms))
      changes.push_back(states[s++]);
    const std::vector<storage::poll_row> batch(polls.begin() + static_cast<std::ptrdiff_t>(i),
                                               polls.begin() + static_cast<std::ptrdiff_t>(j));
    w->commit(batch, changes, {});
    if (w->compaction_due())
      w->compact();
  }
  // Late polls, left in the head: a reset and a jump inside compacted hours.
  w->commit({{bind.at("l0m5").machine_id, t0 + hour_ms + 1'001, {0, 0, 0, 20}},
             {bind.at("l1m2").machine_id, t0 + 2 * hour_ms + 2'002, {1e5, 1e5, 0, 20}}},
            {}, {});
  auto r = storage::reader::open(path, storage::options{}, w->shared_head());

  std::uniform_int_distribution<int64_t> hours(0, span / hour_ms);
  std::uniform_int_distribution<int64_t> at(t0 - hour_ms / 2, t0 + span + hour_ms / 2);
  for (int k = 0; k < 12; ++k) {
    int64_t from = k % 2 ? t0 + hours(rng) * hour_ms : at(rng);
    int64_t to = k % 3 ? t0 + hours(rng) * hour_ms : at(rng);
    if (from > to)
      std::swap(from, to);
    to = std::max(to, from + 1);
    const int64_t now = k % 4 == 3 ? from + (to - from) / 2 : t0 + span + hour_ms;
    INFO("[" << from << ", " << to << ") now " << now);
    const api::time_range range{from, to};
    const json floor = body(oee::floor(*r, plant, std::nullopt, range, now));
    REQUIRE(floor["machines"].size() == 45);
    for (const auto& m : floor["machines"]) {
      const std::string id = m["machine"];
      INFO(id);
      CHECK(m == body(oee::machine(*r, plant, id, range, now)));
    }
    for (const auto& l : plant.lines) {
      const json line = body(oee::line(*r, plant, l.id, range, now));
      const json one_line = body(oee::floor(*r, plant, l.id, range, now));
      REQUIRE(line["machines"].size() == l.machines.size());
      for (size_t i = 0; i < l.machines.size(); ++i) {
        INFO(l.machines[i].id);
        const json single = body(oee::machine(*r, plant, l.machines[i].id, range, now));
        CHECK(line["machines"][i] == single);
        CHECK(one_line["machines"][i] == single);
      }
    }
  }
  // The scenario holds what it claims.
  const json all = body(oee::floor(*r, plant, std::nullopt, {t0, t0 + span}, t0 + span));
  int with_oee = 0;
  for (const auto& m : all["machines"])
    with_oee += m["oee"].is_null() ? 0 : 1;
  CHECK(with_oee > 30);
  CHECK(all["machines"][3]["inputs"]["time_ms"]["no_state"] == span);
  CHECK(all["machines"][7]["null_reasons"]["performance"] ==
        "metric 'nothing_total' has no data in the file");
  CHECK(all["machines"][44]["machine"] == "l1m24");
  CHECK(all["machines"][44]["inputs"]["time_ms"]["no_state"] == span);
}
