// api/params: the strict parsing every request parameter goes through before
// any query runs. Tables of inputs and what each must parse to (or refuse).
#include "api/params.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using namespace edgemes::api;

namespace {

// 2026-11-25T16:30:00Z
constexpr int64_t t0 = 1795624200000LL;

struct time_case {
  std::string text;
  std::optional<int64_t> ms;
};

query_params make(std::multimap<std::string, std::string> raw, std::set<std::string> allowed) {
  return query_params(raw, allowed);
}

} // namespace

TEST_CASE("parse_time accepts epoch milliseconds and RFC 3339 times", "[api][params]") {
  std::vector<time_case> cases{
      {"0", 0},
      {"1795624200000", t0},
      {"00001795624200000", t0},
      {"253402300799999", max_epoch_ms},
      {"2026-11-25T16:30:00Z", t0},
      {"2026-11-25t16:30:00z", t0},
      {"2026-11-25 16:30:00Z", t0},
      {"2026-11-25T17:30:00+01:00", t0},
      {"2026-11-25T11:00:00-05:30", t0},
      {"2026-11-25T16:30:00+00:00", t0},
      {"2026-11-25T16:30:00-00:00", t0},
      {"2026-11-25T16:30:00.250Z", t0 + 250},
      {"2026-11-25T16:30:00.5Z", t0 + 500},
      {"2026-11-25T16:30:00.123456789Z", t0 + 123},
      {"2026-11-25T17:30:00.250+01:00", t0 + 250},
      {"1970-01-01T00:00:00Z", 0},
      {"2024-02-29T00:00:00Z", 1709164800000LL},
      {"2000-02-29T00:00:00Z", 951782400000LL},
      {"9999-12-31T23:59:59.999Z", max_epoch_ms},
  };
  for (const auto& c : cases) {
    INFO("'" << c.text << "'");
    CHECK(parse_time(c.text) == c.ms);
  }
}

TEST_CASE("parse_time refuses invalid dates, out-of-range times and garbage", "[api][params]") {
  std::vector<std::string> bad{
      "",
      " ",
      "-1",
      "+1",
      "-2026-11-25T16:30:00Z",
      "253402300800000",              // one past 9999-12-31T23:59:59.999Z
      "999999999999999999999",        // longer than any int64
      "99999999999999999999",         // overflows int64
      "1e3",
      "1.5",
      "NaN",
      "inf",
      "1e999",
      "0x10",
      "12 34",
      "1795624200000 ",
      " 1795624200000",
      "1;DROP TABLE telemetry",
      "' OR 1=1 --",
      "now",
      "2026-11-25",                   // a date alone is not a time
      "2026-11-25T16:30:00",          // no offset
      "2026-11-25T16:30Z",            // no seconds
      "2026-11-25T16:30:00ZZ",
      "2026-11-25T16:30:00Z ",
      "2026-11-25T16:30:00+0100",     // offset without colon
      "2026-11-25T16:30:00+01",
      "2026-11-25T16:30:00+24:00",
      "2026-11-25T16:30:00+01:60",
      "2026-11-25T16:30:00.Z",        // fraction without digits
      "2026-11-25T16:30:00.1234567890Z",
      "2026-11-25X16:30:00Z",
      "2026/11/25T16:30:00Z",
      "2026-02-30T00:00:00Z",
      "2026-02-29T00:00:00Z",         // 2026 is not a leap year
      "1900-02-29T00:00:00Z",         // neither is 1900
      "2026-04-31T00:00:00Z",
      "2026-00-10T00:00:00Z",
      "2026-13-10T00:00:00Z",
      "2026-11-00T00:00:00Z",
      "2026-11-25T24:00:00Z",
      "2026-11-25T16:60:00Z",
      "2026-11-25T16:30:61Z",
      "1969-12-31T23:59:59Z",         // before the epoch
      "1970-01-01T00:30:00+01:00",    // also before the epoch
      "10000-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999-00:01",
      "２０２６-11-25T16:30:00Z",      // full-width digits
  };
  for (const auto& text : bad) {
    INFO("'" << text << "'");
    CHECK_FALSE(parse_time(text));
  }
}

TEST_CASE("parse_int takes plain base-10 integers within the bounds only", "[api][params]") {
  CHECK(parse_int("1", 1, 100000) == 1);
  CHECK(parse_int("100000", 1, 100000) == 100000);
  CHECK(parse_int("-5", -10, 10) == -5);
  CHECK(parse_int("9223372036854775807", 0, std::numeric_limits<int64_t>::max()) ==
        std::numeric_limits<int64_t>::max());
  CHECK(parse_int("-9223372036854775808", std::numeric_limits<int64_t>::min(), 0) ==
        std::numeric_limits<int64_t>::min());
  for (std::string bad : {"0", "-1", "100001", "", "abc", "1a", "a1", " 1", "1 ", "+1", "1.0",
                          "1e3", "0x10", "9223372036854775808", "-9223372036854775809",
                          "00000000000000000000001"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_int(bad, 1, 100000));
  }
}

TEST_CASE("parse_aggregate knows exactly the six aggregates, case-sensitively", "[api][params]") {
  using edgemes::storage::aggregate;
  for (auto a : {aggregate::avg, aggregate::min, aggregate::max, aggregate::sum, aggregate::count,
                 aggregate::last})
    CHECK(parse_aggregate(aggregate_name(a)) == a);
  CHECK(parse_aggregate("avg") == aggregate::avg);
  CHECK(parse_aggregate("last") == aggregate::last);
  for (std::string bad : {"", "AVG", "mean", "avg ", "median", "first"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_aggregate(bad));
  }
}

TEST_CASE("valid_ident allows 1-64 characters from A-Z a-z 0-9 _ . -", "[api][params]") {
  CHECK(valid_ident("smt1-placer1"));
  CHECK(valid_ident("a"));
  CHECK(valid_ident("A_b.c-9"));
  CHECK(valid_ident(std::string(64, 'x')));
  CHECK(valid_ident(".."));  // harmless: only ever compared with the catalog
  for (std::string bad : {std::string(), std::string(65, 'x'), std::string("a b"),
                          std::string("a/b"), std::string("../etc/passwd"), std::string("a%2Fb"),
                          std::string("caf\xc3\xa9"), std::string("\xff"), std::string("a\0b", 3),
                          std::string("a'b"), std::string("a;b"), std::string("a\nb")}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(valid_ident(bad));
  }
}

TEST_CASE("query_params keeps the allowed parameters and their values", "[api][params]") {
  auto q = make({{"metric", "x"}, {"limit", "5"}}, {"metric", "limit", "from"});
  CHECK_FALSE(q.error());
  CHECK(q.get("metric") == std::string("x"));
  CHECK(q.get("limit") == std::string("5"));
  CHECK_FALSE(q.get("from"));
  auto empty_value = make({{"metric", ""}}, {"metric"});
  CHECK_FALSE(empty_value.error());
  CHECK(empty_value.get("metric") == std::string());
}

TEST_CASE("query_params names an unknown parameter and lists the allowed ones", "[api][params]") {
  auto q = make({{"metric", "x"}, {"limt", "5"}}, {"metric", "limit"});
  REQUIRE(q.error());
  CHECK(q.error()->param == "limt");
  CHECK(q.error()->message == "unknown parameter 'limt' (expected one of: limit, metric)");

  auto none = make({{"x", "1"}}, {});
  REQUIRE(none.error());
  CHECK(none.error()->message == "unknown parameter 'x' (this endpoint takes none)");

  auto long_name = make({{std::string(1000, 'n'), "1"}}, {"metric"});
  REQUIRE(long_name.error());
  CHECK(long_name.error()->param == std::string(40, 'n') + "...");
  CHECK(long_name.error()->message.size() < 200);
}

TEST_CASE("query_params refuses a parameter given more than once", "[api][params]") {
  auto q = make({{"metric", "x"}, {"metric", "y"}}, {"metric"});
  REQUIRE(q.error());
  CHECK(q.error()->param == "metric");
  CHECK(q.error()->message == "parameter 'metric' given more than once");
  auto same = make({{"metric", "x"}, {"metric", "x"}}, {"metric"});
  CHECK(same.error());
}

TEST_CASE("parse_range defaults to the hour before now", "[api][params]") {
  time_range r;
  CHECK_FALSE(parse_range(make({}, {"from", "to"}), t0, r));
  CHECK(r.to_ms == t0);
  CHECK(r.from_ms == t0 - 3600000);

  CHECK_FALSE(parse_range(make({{"to", "2026-11-25T10:00:00Z"}}, {"from", "to"}), t0, r));
  CHECK(r.to_ms == t0 - 6 * 3600000 - 30 * 60000);
  CHECK(r.from_ms == r.to_ms - 3600000);

  CHECK_FALSE(parse_range(make({{"from", "1000"}}, {"from", "to"}), t0, r));
  CHECK(r.from_ms == 1000);
  CHECK(r.to_ms == t0);

  // The default start is clamped to the epoch rather than refused.
  CHECK_FALSE(parse_range(make({{"to", "1000"}}, {"from", "to"}), t0, r));
  CHECK(r.from_ms == 0);
  CHECK(r.to_ms == 1000);
}

TEST_CASE("parse_range refuses from >= to and names the bad parameter", "[api][params]") {
  time_range r;
  auto equal = parse_range(make({{"from", "5000"}, {"to", "5000"}}, {"from", "to"}), t0, r);
  REQUIRE(equal);
  CHECK(equal->param == "from");
  CHECK(equal->message == "'from' must be before 'to'");

  auto reversed = parse_range(make({{"from", "6000"}, {"to", "5000"}}, {"from", "to"}), t0, r);
  REQUIRE(reversed);
  CHECK(reversed->param == "from");

  auto future = parse_range(make({{"from", std::to_string(t0 + 1)}}, {"from", "to"}), t0, r);
  REQUIRE(future);
  CHECK(future->param == "from");

  auto epoch = parse_range(make({{"to", "0"}}, {"from", "to"}), t0, r);
  REQUIRE(epoch);
  CHECK(epoch->param == "from");

  auto bad_to = parse_range(make({{"from", "nope"}, {"to", "nope"}}, {"from", "to"}), t0, r);
  REQUIRE(bad_to);
  CHECK(bad_to->param == "to");
  CHECK(bad_to->message.find("bad 'to'") == 0);

  auto bad_from = parse_range(make({{"from", "-1"}}, {"from", "to"}), t0, r);
  REQUIRE(bad_from);
  CHECK(bad_from->param == "from");
  CHECK(bad_from->message.find("RFC 3339") != std::string::npos);
}
