#include "adapters/adapter.hpp"
#include "adapters/sim_model.hpp"
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
