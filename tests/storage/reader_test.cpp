#include "tests/storage/fixture.hpp"

using namespace edgemes::storage;
using namespace edgemes::storage::test;
using edgemes::test::temp_dir;

namespace {

// A writer with the test catalog and a reader on the same file.
struct opened : catalogued_file {
  std::unique_ptr<reader> r = reader::open(path, options{});
};

} // namespace

TEST_CASE("a reader cannot write", "[storage][reader]") {
  opened o;
  int rc = sqlite3_exec(o.r->handle(), "INSERT INTO lines(ident, name) VALUES('x', 'x')", nullptr,
                        nullptr, nullptr);
  CHECK((rc & 0xff) == SQLITE_READONLY);
  CHECK(query_int(o.w->handle(), "SELECT count(*) FROM lines WHERE ident='x'") == 0);
}

TEST_CASE("a reader lists lines and machines with their last state", "[storage][reader]") {
  opened o;
  o.w->commit({}, {{o.printer, 100, "idle"}, {o.printer, 200, "running"}}, {});
  auto lines = o.r->lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].ident == "smt1");
  CHECK(lines[0].name == "SMT line 1");
  CHECK(lines[0].machines == 2);

  auto machines = o.r->machines(std::string("smt1"));
  REQUIRE(machines.size() == 2);
  CHECK(machines[0].ident == "smt1-placer1");
  CHECK(machines[0].type == "placer");
  CHECK(machines[0].adapter == "sim");
  CHECK(machines[0].state.empty());
  CHECK(machines[0].state_since_ms == 0);
  CHECK(machines[1].state == "running");
  CHECK(machines[1].state_since_ms == 200);
  CHECK(o.r->machines(std::string("other")).empty());
  CHECK_FALSE(o.r->machine("nope"));

  auto metrics = o.r->metrics(o.printer);
  REQUIRE(metrics.size() == 3);
  CHECK(metrics[2].name == "cycle_time_s");
  CHECK(metrics[2].slot == 2);
}

TEST_CASE("samples honours from <= ts < to, the limit and reports truncation",
          "[storage][reader]") {
  opened o;
  // ts 0, 10, ..., 90; slot 0 value = ts, missing at ts 30.
  std::vector<poll_row> polls;
  for (int64_t ts = 0; ts < 100; ts += 10)
    polls.push_back({o.printer, ts, {ts == 30 ? NAN : double(ts), 1, 2}});
  o.w->commit(polls, {}, {});

  bool truncated = true;
  auto pts = o.r->samples(o.printer, 0, 10, 60, 100, &truncated);
  CHECK_FALSE(truncated);
  REQUIRE(pts.size() == 4);  // 10, 20, 40, 50
  CHECK(pts.front().ts_ms == 10);
  CHECK(pts.front().value == 10);
  CHECK(pts[2].ts_ms == 40);
  CHECK(pts.back().ts_ms == 50);

  pts = o.r->samples(o.printer, 0, 10, 60, 4, &truncated);
  CHECK(pts.size() == 4);
  CHECK_FALSE(truncated);  // exactly the limit, nothing more in range
  pts = o.r->samples(o.printer, 0, 0, 100, 3, &truncated);
  CHECK(pts.size() == 3);
  CHECK(truncated);
  CHECK(pts.back().ts_ms == 20);

  CHECK(o.r->samples(o.printer, 0, 60, 60, 10).empty());
  CHECK(o.r->samples(o.printer, 7, 0, 100, 10).empty());  // slot past the end
  CHECK(o.r->samples(o.placer, 0, 0, 100, 10).empty());   // other machine
}

TEST_CASE("series buckets match hand-computed aggregates", "[storage][reader]") {
  opened o;
  // Slot 1 values by ts: 100:1, 110:4, 125:NaN, 130:2, 150:10, 190:7, 200:99 (outside).
  std::vector<std::pair<int64_t, double>> data{{100, 1}, {110, 4}, {125, NAN}, {130, 2},
                                               {150, 10}, {190, 7}, {200, 99}};
  std::vector<poll_row> polls;
  for (auto [ts, v] : data)
    polls.push_back({o.printer, ts, {0, v, 0}});
  o.w->commit(polls, {}, {});

  // from 105, step 40, to 200: buckets aligned to multiples of 40 since the
  // epoch, the first holding only points >= from: [80,120) {4} (not 100's 1),
  // [120,160) {2,10}, [160,200) {7}.
  auto run = [&](aggregate a) { return o.r->series(o.printer, 1, 105, 200, 40, a); };
  auto check = [](const std::vector<bucket>& b, std::vector<double> values) {
    REQUIRE(b.size() == 3);
    CHECK(b[0].ts_ms == 80);
    CHECK(b[1].ts_ms == 120);
    CHECK(b[2].ts_ms == 160);
    CHECK(b[0].count == 1);
    CHECK(b[1].count == 2);
    CHECK(b[2].count == 1);
    for (size_t i = 0; i < 3; ++i)
      CHECK(b[i].value == Approx(values[i]));
  };
  check(run(aggregate::avg), {4, 6, 7});
  check(run(aggregate::min), {4, 2, 7});
  check(run(aggregate::max), {4, 10, 7});
  check(run(aggregate::sum), {4, 12, 7});
  check(run(aggregate::count), {1, 2, 1});
  check(run(aggregate::last), {4, 10, 7});

  auto all = o.r->series(o.printer, 1, 0, 1000, 1000, aggregate::count);
  REQUIRE(all.size() == 1);
  CHECK(all[0].ts_ms == 0);
  CHECK(all[0].value == 6);
  REQUIRE_THROWS_AS(o.r->series(o.printer, 1, 0, 1000, 0, aggregate::avg), db_error);
}

TEST_CASE("states clips intervals to the range, starting with the state in force at from",
          "[storage][reader]") {
  opened o;
  o.w->commit({}, {{o.placer, 100, "idle"}, {o.placer, 1000, "running"},
                   {o.placer, 1600, "error"}, {o.placer, 1700, "running"},
                   {o.placer, 5000, "idle"}},
              {});

  state_report rep = o.r->states(o.placer, 500, 3000, 2500);  // now before `to`
  REQUIRE(rep.intervals.size() == 4);
  CHECK(rep.intervals[0].state == "idle");
  CHECK(rep.intervals[0].from_ms == 500);
  CHECK(rep.intervals[0].to_ms == 1000);
  CHECK(rep.intervals[1].state == "running");
  CHECK(rep.intervals[1].to_ms == 1600);
  CHECK(rep.intervals[2].state == "error");
  CHECK(rep.intervals[3].state == "running");
  CHECK(rep.intervals[3].from_ms == 1700);
  CHECK(rep.intervals[3].to_ms == 2500);

  // running 600 + 800 = 1400, idle 500, error 100 of 2000.
  REQUIRE(rep.shares.size() == 3);
  CHECK(rep.shares[0].state == "running");
  CHECK(rep.shares[0].ms == 1400);
  CHECK(rep.shares[0].share == Approx(0.7));
  CHECK(rep.shares[1].state == "idle");
  CHECK(rep.shares[1].ms == 500);
  CHECK(rep.shares[2].state == "error");
  CHECK(rep.shares[2].share == Approx(0.05));

  rep = o.r->states(o.placer, 1000, 1650, 10000);  // a change exactly at from
  REQUIRE(rep.intervals.size() == 2);
  CHECK(rep.intervals[0].state == "running");
  CHECK(rep.intervals[0].from_ms == 1000);
  CHECK(rep.intervals[1].to_ms == 1650);

  rep = o.r->states(o.placer, 0, 200, 10000);  // nothing known before the first change
  REQUIRE(rep.intervals.size() == 1);
  CHECK(rep.intervals[0].from_ms == 100);

  rep = o.r->states(o.printer, 0, 1000, 10000);
  CHECK(rep.intervals.empty());
  CHECK(rep.shares.empty());
}

TEST_CASE("latest picks each metric's newest non-missing value", "[storage][reader]") {
  opened o;
  o.w->commit({{o.printer, 100, {1, 10, 100}},
               {o.printer, 200, {2, NAN, NAN}},
               {o.printer, 300, {3, NAN, NAN}},
               {o.printer, 50, {0, 0, 55}}},
              {}, {});
  auto l = o.r->latest(o.printer);
  REQUIRE(l.size() == 3);
  CHECK(l[0].metric == "temp_c");
  CHECK(l[0].has_value);
  CHECK(l[0].value == 3);
  CHECK(l[0].ts_ms == 300);
  CHECK(l[1].value == 10);
  CHECK(l[1].ts_ms == 100);
  CHECK(l[2].value == 100);

  l = o.r->latest(o.printer, 2);  // only the polls at 300 and 200
  CHECK(l[0].has_value);
  CHECK_FALSE(l[1].has_value);
  CHECK_FALSE(l[2].has_value);
  CHECK(sqlite3_get_autocommit(o.r->handle()) == 1);  // its read transaction ended
}

TEST_CASE("a passed deadline interrupts a query and the reader stays usable",
          "[storage][reader]") {
  opened o;
  o.w->commit(make_polls(o.placer, 5000, 20, 0, 10), {}, {});
  o.r->set_deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  try {
    o.r->series(o.placer, 1, 0, 50'000, 1000, aggregate::avg);
    FAIL("series ran past its deadline");
  } catch (const db_error& e) {
    CHECK(e.code() == SQLITE_INTERRUPT);
    CHECK_THAT(e.what(), Catch::Contains("deadline passed"));
  }
  // A metric no poll has makes latest() scan all 5000 rows inside its read
  // transaction; the interrupt must end that transaction too.
  auto machines = test_machines();
  machines[0].metric_names.push_back("never_seen");
  o.w->sync_catalog(test_lines(), machines);
  CHECK_THROWS_AS(o.r->latest(o.placer, 5000), db_error);
  CHECK(sqlite3_get_autocommit(o.r->handle()) == 1);

  o.r->set_deadline(std::chrono::steady_clock::time_point::max());
  CHECK(o.r->series(o.placer, 1, 0, 50'000, 1000, aggregate::count).size() == 50);
  CHECK(o.r->latest(o.placer).size() == 21);
}

TEST_CASE("a reader sees each commit of the writer", "[storage][reader]") {
  opened o;
  CHECK(o.r->samples(o.printer, 2, 0, 1000, 10).empty());
  o.w->commit({{o.printer, 10, {1, 2, 3}}}, {}, {});
  CHECK(o.r->samples(o.printer, 2, 0, 1000, 10).size() == 1);
}
