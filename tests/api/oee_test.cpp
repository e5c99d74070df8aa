// tests/api/oee_test: the OEE endpoints on the shared test daemon (two lines
// of simulated machines, no `oee` blocks): every bad parameter is a 400
// naming it, unknown ids are 404, the default range is the current shift,
// and a machine without OEE config gets availability with null performance
// and quality, each with its reason. The arithmetic against raw SQL is
// tests/e2e/oee_test.cpp; compute() is checked on docs/MES.md's worked example.
#include "api/oee.hpp"
#include "api/shifts.hpp"

#include "tests/api/api_fixture.hpp"

using namespace edgemes::test;
using namespace edgemes::test::api;
namespace oee = edgemes::api::oee;

TEST_CASE("OEE endpoints name the bad parameter and answer 404 for unknown ids", "[api][oee]") {
  auto& d = daemon::shared();
  for (const std::string base : {"/api/v1/machines/smt1-aoi/oee", "/api/v1/lines/smt1/oee",
                                 "/api/v1/oee", "/api/v1/machines/smt1-aoi/oee/series",
                                 "/api/v1/lines/smt1/oee/series"}) {
    INFO(base);
    check_error(d.port(), base + "?from=yesterday", 400, "bad_parameter", "'from'");
    check_error(d.port(), base + "?to=1e9", 400, "bad_parameter", "'to'");
    check_error(d.port(), base + "?from=2000&to=1000", 400, "bad_parameter", "'from'");
    check_error(d.port(), base + "?from=0&to=40000000000", 400, "bad_parameter", "366 days");
    check_error(d.port(), base + "?metric=x", 400, "bad_parameter", "'metric'");
  }
  for (const std::string base : {"/api/v1/machines/smt1-aoi/oee/series",
                                 "/api/v1/lines/smt1/oee/series"}) {
    INFO(base);
    check_error(d.port(), base + "?step=day", 400, "bad_parameter", "'step'");
    check_error(d.port(), base + "?step=hour&from=0&to=31536000000", 400, "bad_parameter",
                "2000 points");
  }
  check_error(d.port(), "/api/v1/machines/nope/oee", 404, "unknown_machine", "'nope'");
  check_error(d.port(), "/api/v1/machines/nope/oee/series", 404, "unknown_machine", "'nope'");
  check_error(d.port(), "/api/v1/lines/smt9/oee", 404, "unknown_line", "'smt9'");
  check_error(d.port(), "/api/v1/lines/smt9/oee/series", 404, "unknown_line", "'smt9'");
  check_error(d.port(), "/api/v1/oee?line=smt9", 404, "unknown_line", "'smt9'");
}

TEST_CASE("OEE defaults to the current shift and says why a factor without config is null",
          "[api][oee]") {
  auto& d = daemon::shared();
  auto doc = ok_doc(d.port(), "/api/v1/machines/smt1-printer/oee");
  const auto shift = edgemes::api::shift_at(edgemes::config::config{}.shifts, now_ms());
  CHECK(doc["from"].get<int64_t>() == shift.from_ms);
  CHECK(doc["to"].get<int64_t>() == shift.to_ms);
  CHECK(doc["machine"] == "smt1-printer");
  CHECK(doc["line"] == "smt1");
  const auto& in = doc["inputs"];
  int64_t sum = 0;
  for (const auto& [cls, ms] : in["time_ms"].items())
    sum += ms.get<int64_t>();
  CHECK(sum == in["total_ms"].get<int64_t>());
  CHECK(in["planned_ms"].get<int64_t>() ==
        in["total_ms"].get<int64_t>() - in["time_ms"]["NST"].get<int64_t>() -
            in["time_ms"]["SDT"].get<int64_t>() - in["time_ms"]["no_state"].get<int64_t>());
  REQUIRE(in["planned_ms"].get<int64_t>() > 0);
  CHECK(doc["availability"].get<double>() ==
        Approx(in["time_ms"]["PRD"].get<double>() / in["planned_ms"].get<double>()));
  CHECK(doc["performance"].is_null());
  CHECK(doc["null_reasons"]["performance"] == "oee.ideal_cycle_s is not configured");
  CHECK(doc["quality"].is_null());
  CHECK(doc["null_reasons"]["quality"] == "oee.total is not configured");
  CHECK(doc["oee"].is_null());

  auto floor = ok_doc(d.port(), "/api/v1/oee?line=smt1");
  CHECK(floor["machines"].size() == 5);
  auto all = ok_doc(d.port(), "/api/v1/oee");
  CHECK(all["machines"].size() == 6);
  auto line = ok_doc(d.port(), "/api/v1/lines/smt1/oee");
  CHECK(line["basis"]["bottleneck"].is_null());
  CHECK(line["null_reasons"]["performance"] == "the line has no output counter");
  CHECK(line["availability"].is_null());
  CHECK(line["null_reasons"]["availability"] ==
        "no machine of the line gives its time: none has oee.ideal_cycle_s and the line has no "
        "output counter");
  auto hours = ok_doc(d.port(), "/api/v1/machines/smt1-aoi/oee/series?step=hour&from=0&to=" +
                                     std::to_string(3 * 3600 * 1000 + 5));
  REQUIRE(hours["points"].size() == 4);
  CHECK(hours["points"][3]["from"] == 3 * 3600 * 1000);
  CHECK(hours["points"][3]["to"] == 3 * 3600 * 1000 + 5);
}

TEST_CASE("OEE arithmetic on the worked example of docs/MES.md", "[api][oee]") {
  oee::inputs in;
  in.total_ms = 28'800'000;
  in.class_ms = {{"PRD", 22'680'000}, {"SBY", 1'800'000}, {"SDT", 1'800'000},
                 {"UDT", 1'620'000}, {"OFFLINE", 600'000}, {"unmapped", 300'000}};
  in.ideal_cycle_s = 18;
  edgemes::storage::counter_increase total, reject;
  total.increase = 1134;
  total.resets = 1;
  reject.increase = 34;
  in.total = oee::counter_input{"boards_total", total};
  in.reject = oee::counter_input{"rejects_total", reject};
  auto r = oee::compute(in);
  CHECK(r.planned_ms == 27'000'000);
  CHECK(*r.availability == Approx(0.84));
  CHECK(*r.performance == Approx(0.9));
  CHECK(*r.good_count == 1100);
  CHECK(*r.quality == Approx(1100.0 / 1134));
  CHECK(*r.oee == Approx(18.0 * 1100 / 27'000));
  CHECK_FALSE(r.performance_capped);

  in.ideal_cycle_s = 25;  // faster than "ideal": capped and flagged
  r = oee::compute(in);
  CHECK(*r.performance == 1.0);
  CHECK(*r.performance_raw == Approx(1.25));
  CHECK(r.performance_capped);
}

TEST_CASE("OEE leaves time before a machine's first state out of planned time", "[api][oee]") {
  // Added to the config 6 h into an 8 h shift: 2 h watched, 1.5 h of it PRD.
  oee::inputs in;
  in.total_ms = 28'800'000;
  in.class_ms = {{"no_state", 21'600'000}, {"PRD", 5'400'000}, {"UDT", 1'800'000}};
  auto r = oee::compute(in);
  CHECK(r.planned_ms == 7'200'000);
  CHECK(*r.availability == Approx(0.75));

  in.class_ms = {{"no_state", 28'800'000}};  // nothing known yet
  r = oee::compute(in);
  CHECK(r.planned_ms == 0);
  CHECK_FALSE(r.availability);
  CHECK(r.null_reasons.at("availability") ==
        "no state known in the range (edgemes was not watching the machine yet)");
}
