#include "adapters/adapter.hpp"
#include "adapters/sim_model.hpp"
#include "clock/clock.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

using namespace edgemes::adapters;

TEST_CASE("sim source never blocks and answers with a numbered reply of its type", "[adapters][sim_source]") {
  auto src = make_sim("line1-reflow", "reflow", 1);
  REQUIRE_FALSE(src->blocking());
  int64_t before = edgemes::test::now_ms();
  auto first = src->poll();
  auto second = src->poll();
  REQUIRE(first.ok);
  REQUIRE(second.ok);
  REQUIRE(first.document["machine"] == "line1-reflow");
  REQUIRE(first.document["type"] == "reflow");
  REQUIRE(first.document["seq"] == 1);
  REQUIRE(second.document["seq"] == 2);
  REQUIRE(first.document["ts_ms"].get<int64_t>() >= before);
  auto r = extractor(sim_standard_metrics("reflow"), "/state").apply(second.document);
  REQUIRE(r.problems.empty());
}

TEST_CASE("sim source refuses an unknown type", "[adapters][sim_source]") {
  REQUIRE_THROWS_AS(make_sim("x", "toaster", 1), std::invalid_argument);
}

TEST_CASE("a stepped clock drives the sim source: its stamps and its production follow the clock",
          "[adapters][sim_source][clock]") {
  const int64_t start = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  edgemes::clock::manual_clock t(start);
  auto src = make_sim("line1-placer", "placer", 7);
  auto first = src->poll();
  REQUIRE(first.document["ts_ms"] == start);
  auto boards = [](const poll_reply& r) { return r.document["counters"]["boards"].get<double>(); };

  t.advance(8 * 3600 * 1000);  // a shift later, without waiting for it
  auto later = src->poll();
  REQUIRE(later.document["ts_ms"] == start + 8 * 3600 * 1000);
  // A placer runs most of the time at a cycle of well under a minute per board.
  REQUIRE(boards(later) - boards(first) > 100);
}

TEST_CASE("without a manual clock the system clock is back", "[adapters][sim_source][clock]") {
  { edgemes::clock::manual_clock t(42); }
  const int64_t before = edgemes::test::now_ms();
  auto r = make_sim("line1-aoi", "aoi", 1)->poll();
  REQUIRE(r.document["ts_ms"].get<int64_t>() >= before);
}
