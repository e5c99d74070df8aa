// Tests for api/shifts.cpp: the shift in force at a moment, in a time zone
// set for the test (TZ), across midnight and both DST changes of Europe/Berlin.
#include "api/params.hpp"
#include "api/shifts.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <string>

using edgemes::api::parse_time;
using edgemes::api::shift_at;
using edgemes::config::shift_config;

namespace {

// Sets TZ for one test and restores the previous zone after it.
class time_zone {
public:
  explicit time_zone(const char* tz) {
    if (const char* old = std::getenv("TZ"))
      old_ = old, had_ = true;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~time_zone() {
    if (had_)
      setenv("TZ", old_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }

private:
  std::string old_;
  bool had_ = false;
};

int64_t at(const std::string& rfc3339) {
  auto v = parse_time(rfc3339);
  REQUIRE(v);
  return *v;
}

const std::vector<shift_config> abc{{"A", 6 * 60}, {"B", 14 * 60}, {"C", 22 * 60}};

} // namespace

TEST_CASE("the shift in force runs from its start to the next shift's start", "[api][shifts]") {
  time_zone utc("UTC");
  auto s = shift_at(abc, at("2026-11-25T16:30:00Z"));
  CHECK(s.name == "B");
  CHECK(s.from_ms == at("2026-11-25T14:00:00Z"));
  CHECK(s.to_ms == at("2026-11-25T22:00:00Z"));

  s = shift_at(abc, at("2026-11-25T06:00:00Z"));  // a start belongs to its shift
  CHECK(s.name == "A");
  CHECK(s.from_ms == at("2026-11-25T06:00:00Z"));
  s = shift_at(abc, at("2026-11-25T05:59:59.999Z"));
  CHECK(s.name == "C");
}

TEST_CASE("a night shift spans midnight, and the year's end", "[api][shifts]") {
  time_zone utc("UTC");
  auto s = shift_at(abc, at("2027-01-01T03:00:00Z"));
  CHECK(s.name == "C");
  CHECK(s.from_ms == at("2026-12-31T22:00:00Z"));
  CHECK(s.to_ms == at("2027-01-01T06:00:00Z"));
  s = shift_at(abc, at("2026-12-31T23:00:00Z"));
  CHECK(s.from_ms == at("2026-12-31T22:00:00Z"));
  CHECK(s.to_ms == at("2027-01-01T06:00:00Z"));
}

TEST_CASE("shifts listed out of order and a single shift tile the day", "[api][shifts]") {
  time_zone utc("UTC");
  const std::vector<shift_config> two{{"night", 22 * 60 + 30}, {"day", 10 * 60 + 30}};
  auto s = shift_at(two, at("2026-11-25T12:00:00Z"));
  CHECK(s.name == "day");
  CHECK(s.from_ms == at("2026-11-25T10:30:00Z"));
  CHECK(s.to_ms == at("2026-11-25T22:30:00Z"));

  const std::vector<shift_config> one{{"all", 6 * 60}};
  s = shift_at(one, at("2026-11-25T05:00:00Z"));
  CHECK(s.from_ms == at("2026-11-24T06:00:00Z"));
  CHECK(s.to_ms == at("2026-11-25T06:00:00Z"));
}

TEST_CASE("shift starts are local times: the zone's offset applies", "[api][shifts]") {
  time_zone berlin("Europe/Berlin");
  auto s = shift_at(abc, at("2026-11-25T16:30:00Z"));  // 17:30 CET
  CHECK(s.name == "B");
  CHECK(s.from_ms == at("2026-11-25T14:00:00+01:00"));
  CHECK(s.to_ms == at("2026-11-25T22:00:00+01:00"));
}

TEST_CASE("the shift across a DST change is an hour shorter in spring and longer in autumn",
          "[api][shifts]") {
  time_zone berlin("Europe/Berlin");
  auto spring = shift_at(abc, at("2026-03-29T03:00:00Z"));  // 05:00 CEST
  CHECK(spring.name == "C");
  CHECK(spring.from_ms == at("2026-03-28T22:00:00+01:00"));
  CHECK(spring.to_ms == at("2026-03-29T06:00:00+02:00"));
  CHECK(spring.to_ms - spring.from_ms == 7 * 3600 * 1000);

  auto autumn = shift_at(abc, at("2026-10-25T03:00:00Z"));  // 04:00 CET
  CHECK(autumn.name == "C");
  CHECK(autumn.from_ms == at("2026-10-24T22:00:00+02:00"));
  CHECK(autumn.to_ms == at("2026-10-25T06:00:00+01:00"));
  CHECK(autumn.to_ms - autumn.from_ms == 9 * 3600 * 1000);
}

TEST_CASE("a start in a skipped or repeated hour begins at the documented instant",
          "[api][shifts]") {
  time_zone berlin("Europe/Berlin");
  const std::vector<shift_config> odd{{"X", 2 * 60 + 30}, {"Y", 14 * 60 + 30}};
  // 02:30 does not exist on 29 March: X starts at 03:30 CEST (the clock time plus one hour).
  auto s = shift_at(odd, at("2026-03-29T05:00:00Z"));
  CHECK(s.name == "X");
  CHECK(s.from_ms == at("2026-03-29T03:30:00+02:00"));
  // 02:30 comes twice on 25 October: X starts at the first one (CEST).
  s = shift_at(odd, at("2026-10-25T05:00:00Z"));
  CHECK(s.name == "X");
  CHECK(s.from_ms == at("2026-10-25T02:30:00+02:00"));

  // Two starts landing on one instant: the shift later in the day wins, the other is empty.
  const std::vector<shift_config> clash{{"early", 2 * 60 + 30}, {"late", 3 * 60 + 30},
                                        {"day", 12 * 60}};
  s = shift_at(clash, at("2026-03-29T02:00:00Z"));  // 04:00 CEST
  CHECK(s.name == "late");
  CHECK(s.from_ms == at("2026-03-29T03:30:00+02:00"));
  s = shift_at(clash, at("2026-03-28T23:00:00Z"));  // 00:00 CET: still yesterday's day shift
  CHECK(s.name == "day");
  CHECK(s.to_ms == at("2026-03-29T03:30:00+02:00"));
}
