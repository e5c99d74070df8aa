// Tests for adapters/json_message.cpp: a pushed payload becomes a reading,
// and the timestamp syntax (epoch ms or ISO-8601 with a zone) is exactly the
// documented one.
#include "adapters/mqtt.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace edgemes::adapters;

TEST_CASE("ISO-8601 timestamps with a zone parse to epoch milliseconds", "[adapters][mqtt]") {
  struct row {
    const char* text;
    int64_t ms;
  };
  const row rows[] = {
      {"1970-01-01T00:00:00.001Z", 1},
      {"2023-11-14T22:13:20Z", 1700000000000},
      {"2023-11-14T22:13:20.5Z", 1700000000500},
      {"2023-11-14T22:13:20.123456Z", 1700000000123},  // beyond ms: truncated
      {"2023-11-14 22:13:20z", 1700000000000},
      {"2023-11-15T00:13:20+02:00", 1700000000000},
      {"2023-11-14T20:13:20-0200", 1700000000000},
      {"2024-02-29T00:00:00Z", 1709164800000},
      {"2023-11-14T22:13:20,250Z", 1700000000250},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto ms = parse_timestamp(r.text);
    REQUIRE(ms);
    CHECK(*ms == r.ms);
  }
}

TEST_CASE("text that is not an ISO-8601 time with a zone is no timestamp", "[adapters][mqtt]") {
  for (const char* text :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14T22:13Z", "2023-02-29T00:00:00Z",
        "2023-13-01T00:00:00Z", "2023-11-14T24:00:00Z", "2023-11-14T22:13:60Z",
        "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk", "2023-11-14T22:13:20+2",
        "1969-12-31T23:59:59Z", "yesterday", "1700000000000"}) {
    INFO(text);
    CHECK_FALSE(parse_timestamp(text));
  }
}

TEST_CASE("a payload's metrics, state and timestamp become the reading", "[adapters][mqtt]") {
  json_message m(extractor({{"boards", "/counters/boards"}, {"t", "/temp"}}, "/state"), "/ts");
  auto r = m.decode(R"({"ts": 1700000000123, "counters": {"boards": 7}, "temp": 41.5, "state": "RUN"})");
  REQUIRE(r.ok);
  CHECK(r.values == std::vector<double>{7, 41.5});
  CHECK(r.state == std::optional<std::string>("RUN"));
  CHECK(r.problems.empty());
  CHECK(r.taken_ms == 1700000000123);

  r = m.decode(R"({"ts": "2023-11-14T22:13:20.5Z", "counters": {"boards": 8}, "temp": 1, "state": "IDLE"})");
  REQUIRE(r.ok);
  CHECK(r.taken_ms == 1700000000500);
}

TEST_CASE("a missing or unreadable payload timestamp is a problem and leaves the arrival time",
          "[adapters][mqtt]") {
  json_message m(extractor({{"v", "/v"}}, ""), "/ts");
  auto r = m.decode(R"({"v": 1})");
  REQUIRE(r.ok);
  CHECK(r.taken_ms == 0);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0] == "timestamp: nothing at /ts (arrival time used)");

  for (const char* bad : {R"({"v": 1, "ts": "noon"})", R"({"v": 1, "ts": -5})", R"({"v": 1, "ts": true})"}) {
    INFO(bad);
    r = m.decode(bad);
    REQUIRE(r.ok);
    CHECK(r.taken_ms == 0);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].find("not epoch milliseconds or an ISO-8601 time") != std::string::npos);
  }
}

TEST_CASE("without a timestamp pointer the reading has no time of its own", "[adapters][mqtt]") {
  json_message m(extractor({{"v", "/v"}}, ""), "");
  auto r = m.decode(R"({"v": 2, "ts": 1700000000000})");
  REQUIRE(r.ok);
  CHECK(r.taken_ms == 0);
  CHECK(r.problems.empty());
}

TEST_CASE("a payload that is not JSON is a failed reading naming the parse error", "[adapters][mqtt]") {
  json_message m(extractor({{"v", "/v"}}, ""), "");
  for (const char* bad : {"", "not json", R"({"v": 1)", "\xff\xfe"}) {
    INFO(bad);
    auto r = m.decode(bad);
    CHECK_FALSE(r.ok);
    CHECK(r.error.rfind("payload is not JSON (", 0) == 0);
    CHECK(r.values.empty());
  }
}

TEST_CASE("a malformed timestamp pointer is refused when the decoder is made", "[adapters][mqtt]") {
  CHECK_THROWS(json_message(extractor({{"v", "/v"}}, ""), "ts"));
  CHECK_THROWS(json_message(extractor({{"v", "/v"}}, ""), "/a~2"));
}
