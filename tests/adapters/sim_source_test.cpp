#include "adapters/adapter.hpp"
#include "adapters/sim_model.hpp"
#include "clock/clock.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

using namespace edgemes::adapters;

namespace {

// A type's standard metrics after "seq" and "ts_ms" (values[0] and [1]).
extractor numbered(const std::string& type, const std::string& state = "/state") {
  auto metrics = sim_standard_metrics(type);
  metrics.insert(metrics.begin(), {{"seq", "/seq"}, {"ts_ms", "/ts_ms"}});
  return extractor(metrics, state);
}

// NaN == NaN here: a metric missing from both readings is the same reading.
bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))))
      return false;
  return true;
}

} // namespace

TEST_CASE("sim source never blocks and reads a numbered reply of its type", "[adapters][sim_source]") {
  auto src = make_sim("line1-reflow", "reflow", 1, numbered("reflow"));
  REQUIRE_FALSE(src->blocking());
  int64_t before = edgemes::test::now_ms();
  auto first = src->poll();
  auto second = src->poll();
  REQUIRE(first.ok);
  REQUIRE(second.ok);
  REQUIRE(first.values.size() == 2 + sim_standard_metrics("reflow").size());
  REQUIRE(first.values[0] == 1);
  REQUIRE(second.values[0] == 2);
  REQUIRE(first.values[1] >= static_cast<double>(before));
  REQUIRE(first.taken_ms == 0);  // stamped by the poller when the poll started
  REQUIRE(second.problems.empty());
  for (double v : second.values)
    REQUIRE_FALSE(std::isnan(v));
  REQUIRE(second.state);
  REQUIRE_THAT(*second.state, Catch::Matches("RUN|IDLE|DOWN|ALARM"));
}

TEST_CASE("sim source reads the reply's machine and type texts as a state", "[adapters][sim_source]") {
  REQUIRE(make_sim("line1-reflow", "reflow", 1, extractor({}, "/machine"))->poll().state ==
          std::optional<std::string>("line1-reflow"));
  REQUIRE(make_sim("line1-reflow", "reflow", 1, extractor({}, "/type"))->poll().state ==
          std::optional<std::string>("reflow"));
  auto none = make_sim("line1-reflow", "reflow", 1, extractor({}, ""))->poll();
  REQUIRE(none.ok);
  REQUIRE_FALSE(none.state);
  REQUIRE(none.problems.empty());
}

TEST_CASE("sim source reports a pointer that names no number of its reply on every poll, as the extractor does",
          "[adapters][sim_source]") {
  auto src = make_sim("line1-reflow", "reflow", 1,
                      extractor({{"zone9_c", "/oven/zones/8"},
                                 {"zone1_c", "/oven/zones/0"},
                                 {"lead0", "/oven/zones/01"},
                                 {"zones", "/oven/zones"},
                                 {"oven", "/oven"},
                                 {"label", "/machine"},
                                 {"all", ""},
                                 {"under", "/seq/x"}},
                                "/seq"));
  const std::vector<std::string> expected{
      "metric 'zone9_c': nothing at /oven/zones/8",
      "metric 'lead0': nothing at /oven/zones/01",
      "metric 'zones': /oven/zones is an array, not a number",
      "metric 'oven': /oven is an object, not a number",
      "metric 'label': /machine is a string, not a number",
      "metric 'all':  is an object, not a number",
      "metric 'under': nothing at /seq/x",
      "state: /seq is a number, not a string"};
  for (int poll = 0; poll < 3; ++poll) {
    auto r = src->poll();
    REQUIRE(r.ok);
    REQUIRE(r.problems == expected);
    REQUIRE(r.values.size() == 8);
    REQUIRE_FALSE(std::isnan(r.values[1]));
    for (size_t i : {0, 2, 3, 4, 5, 6, 7})
      REQUIRE(std::isnan(r.values[i]));
    REQUIRE_FALSE(r.state);
  }
}

TEST_CASE("sim source reads exactly what the extractor reads from edgemes-sim's document for the same seed and times",
          "[adapters][sim_source][clock]") {
  // The two paths of one model: the sim source copies numbers from the flat
  // sample; edgemes-sim serves sim_machine::reply(), which the http_json
  // adapter walks with the extractor. Every type, its standard metrics, long
  // enough for every state (the stepped clock crosses hours at a time).
  const int64_t start = 1'700'000'000'000;
  edgemes::clock::manual_clock t(start);
  for (const auto& type : sim_types()) {
    for (uint64_t seed : {0ull, 1ull, 42ull}) {
      const std::string ident = "L1-" + type;
      const extractor metrics = numbered(type);
      auto src = make_sim(ident, type, seed, metrics);
      sim_machine served(ident, type, seed);
      std::set<std::string> states;
      int64_t now = start + 1000;
      t.set(now);
      for (int i = 0; i < 2000; ++i) {
        now += 250 + (i % 11) * 1000 + (i % 97 == 0 ? 3'600'000 : 0);
        t.set(now);
        auto r = src->poll();
        auto want = metrics.apply(served.reply(now));
        INFO(type << " seed " << seed << " poll " << i);
        REQUIRE(r.ok);
        REQUIRE(same_values(r.values, want.values));
        REQUIRE(r.state == want.state);
        REQUIRE(r.problems == want.problems);
        REQUIRE(r.problems.empty());
        states.insert(*r.state);
      }
      REQUIRE(states == std::set<std::string>{"RUN", "IDLE", "DOWN", "ALARM"});
    }
  }
}

TEST_CASE("sim source refuses an unknown type", "[adapters][sim_source]") {
  REQUIRE_THROWS_AS(make_sim("x", "toaster", 1, extractor({}, "")), std::invalid_argument);
}

TEST_CASE("a stepped clock drives the sim source: its stamps and its production follow the clock",
          "[adapters][sim_source][clock]") {
  const int64_t start = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  edgemes::clock::manual_clock t(start);
  auto src = make_sim("line1-placer", "placer", 7,
                      extractor({{"ts_ms", "/ts_ms"}, {"boards", "/counters/boards"}}, ""));
  auto first = src->poll();
  REQUIRE(first.values[0] == start);

  t.advance(8 * 3600 * 1000);  // a shift later, without waiting for it
  auto later = src->poll();
  REQUIRE(later.values[0] == start + 8 * 3600 * 1000);
  // A placer runs most of the time at a cycle of well under a minute per board.
  REQUIRE(later.values[1] - first.values[1] > 100);
}

TEST_CASE("without a manual clock the system clock is back", "[adapters][sim_source][clock]") {
  { edgemes::clock::manual_clock t(42); }
  const int64_t before = edgemes::test::now_ms();
  auto r = make_sim("line1-aoi", "aoi", 1, extractor({{"ts_ms", "/ts_ms"}}, ""))->poll();
  REQUIRE(r.values[0] >= static_cast<double>(before));
}
