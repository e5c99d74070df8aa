#include "adapters/adapter.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using edgemes::adapters::extractor;
using nlohmann::json;

namespace {
const json reply = json::parse(R"({
  "state": "RUN",
  "count": 42,
  "ratio": 0.25,
  "running": true,
  "stopped": false,
  "label": "12.5",
  "nothing": null,
  "oven": {"zones": [150.5, 160, 170], "o2_ppm": 800},
  "a/b": {"c~d": 7}
})");
} // namespace

TEST_CASE("extractor reads integers and floating point numbers as doubles", "[adapters][extractor]") {
  extractor ex({{"count", "/count"}, {"ratio", "/ratio"}}, "");
  auto r = ex.apply(reply);
  REQUIRE(r.problems.empty());
  REQUIRE(r.values == std::vector<double>{42.0, 0.25});
  REQUIRE_FALSE(r.state.has_value());
}

TEST_CASE("extractor reads true as 1 and false as 0", "[adapters][extractor]") {
  auto r = extractor({{"running", "/running"}, {"stopped", "/stopped"}}, "").apply(reply);
  REQUIRE(r.problems.empty());
  REQUIRE(r.values == std::vector<double>{1.0, 0.0});
}

TEST_CASE("extractor follows nested and array index pointers", "[adapters][extractor]") {
  auto r = extractor({{"zone1_c", "/oven/zones/0"}, {"zone3_c", "/oven/zones/2"}, {"o2", "/oven/o2_ppm"}},
                     "")
               .apply(reply);
  REQUIRE(r.problems.empty());
  REQUIRE(r.values == std::vector<double>{150.5, 170.0, 800.0});
}

TEST_CASE("extractor unescapes ~1 and ~0 in pointer tokens", "[adapters][extractor]") {
  auto r = extractor({{"odd", "/a~1b/c~0d"}}, "").apply(reply);
  REQUIRE(r.problems.empty());
  REQUIRE(r.values[0] == 7.0);
}

TEST_CASE("extractor reports a missing field as a problem and NaN", "[adapters][extractor]") {
  auto r = extractor({{"count", "/count"}, {"zone9_c", "/oven/zones/8"}, {"gone", "/a/b"}}, "")
               .apply(reply);
  REQUIRE(r.values[0] == 42.0);
  REQUIRE(std::isnan(r.values[1]));
  REQUIRE(std::isnan(r.values[2]));
  REQUIRE(r.problems == std::vector<std::string>{"metric 'zone9_c': nothing at /oven/zones/8",
                                                 "metric 'gone': nothing at /a/b"});
}

TEST_CASE("extractor reports a string, object, array or null as not a number", "[adapters][extractor]") {
  auto r = extractor({{"label", "/label"}, {"oven", "/oven"}, {"zones", "/oven/zones"}, {"nothing", "/nothing"}},
                     "")
               .apply(reply);
  for (double v : r.values)
    REQUIRE(std::isnan(v));
  REQUIRE(r.problems == std::vector<std::string>{"metric 'label': /label is a string, not a number",
                                                 "metric 'oven': /oven is an object, not a number",
                                                 "metric 'zones': /oven/zones is an array, not a number",
                                                 "metric 'nothing': /nothing is null, not a number"});
}

TEST_CASE("extractor takes the state as a string", "[adapters][extractor]") {
  auto r = extractor({}, "/state").apply(reply);
  REQUIRE(r.problems.empty());
  REQUIRE(r.state == std::optional<std::string>("RUN"));
}

TEST_CASE("extractor reports a missing or non-string state and gives no state", "[adapters][extractor]") {
  auto missing = extractor({}, "/status").apply(reply);
  REQUIRE_FALSE(missing.state.has_value());
  REQUIRE(missing.problems == std::vector<std::string>{"state: nothing at /status"});
  auto number = extractor({}, "/count").apply(reply);
  REQUIRE_FALSE(number.state.has_value());
  REQUIRE(number.problems == std::vector<std::string>{"state: /count is a number, not a string"});
}

TEST_CASE("extractor never throws, whatever the document", "[adapters][extractor]") {
  extractor ex({{"a", "/a/0/b"}, {"z", "/oven/zones/x"}, {"dash", "/oven/zones/-"}, {"lead0", "/oven/zones/01"}},
               "/state/deep");
  for (const json& doc : {json(nullptr), json(3), json("text"), json::array({1, 2}), json::object(), reply,
                          json::parse(R"({"a": 5, "state": [1]})")}) {
    extractor::result r;
    REQUIRE_NOTHROW(r = ex.apply(doc));
    REQUIRE(r.values.size() == 4);
    REQUIRE(r.problems.size() == 5);
  }
}

TEST_CASE("extractor with an empty pointer reads the whole document", "[adapters][extractor]") {
  auto r = extractor({{"all", ""}}, "").apply(json(12.5));
  REQUIRE(r.problems.empty());
  REQUIRE(r.values[0] == 12.5);
}

TEST_CASE("extractor finds every metric whatever the order of its pointers and of the reply's keys",
          "[adapters][extractor]") {
  // Checked against nlohmann's own json_pointer, on a reply about as large as
  // the metric list (looked up in one ordered pass) and on one far larger
  // (looked up one by one).
  json small = {{"b", 2},         {"d", 4},  {"f", {{"g", 6}, {"h", {7, 8}}}},
                {"k", true},      {"m", 13}, {"zz", 26}};
  json large = small;
  for (int i = 0; i < 200; ++i)
    large["x" + std::to_string(1000 + i)] = i;
  std::vector<std::pair<std::string, std::string>> metrics{
      {"zz", "/zz"},   {"a", "/a"},       {"f_g", "/f/g"}, {"b", "/b"},     {"f_h1", "/f/h/1"},
      {"c", "/c"},     {"f_x", "/f/x"},   {"m", "/m"},     {"zzz", "/zzz"}, {"f_h0", "/f/h/0"},
      {"k", "/k"},     {"b_again", "/b"}, {"d", "/d"},     {"e", "/e"}};
  extractor ex(metrics, "");
  for (const json* doc : {&small, &large}) {
    auto r = ex.apply(*doc);
    REQUIRE(r.values.size() == metrics.size());
    std::vector<std::string> problems;
    for (size_t i = 0; i < metrics.size(); ++i) {
      json::json_pointer p(metrics[i].second);
      INFO(metrics[i].second);
      if (doc->contains(p)) {
        const json& v = (*doc)[p];
        CHECK(r.values[i] == (v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>()));
      } else {
        CHECK(std::isnan(r.values[i]));
        problems.push_back("metric '" + metrics[i].first + "': nothing at " + metrics[i].second);
      }
    }
    CHECK(r.problems == problems);  // in the order of the metrics
  }
}

TEST_CASE("extractor reads a scalar reply with the empty pointer and finds nothing under it",
          "[adapters][extractor]") {
  auto r = extractor({{"all", ""}, {"under", "/a"}}, "").apply(json(5));
  REQUIRE(r.values[0] == 5.0);
  REQUIRE(std::isnan(r.values[1]));
  REQUIRE(r.problems == std::vector<std::string>{"metric 'under': nothing at /a"});
}
