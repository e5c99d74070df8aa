// Tests for storage/dashboard.cpp: the floor dashboard's index-seek reads on
// a real file written by the real writer, and the read snapshot around them.
#include "storage/dashboard.hpp"
#include "tests/storage/fixture.hpp"

using namespace edgemes::storage;
using namespace edgemes::storage::test;

namespace {

struct opened : catalogued_file {
  std::unique_ptr<reader> r = reader::open(path, options{});
};

} // namespace

TEST_CASE("dashboard latest agrees with reader latest for the slots asked", "[storage][dashboard]") {
  opened o;
  o.w->commit({{o.printer, 100, {1, 10, 100}},
               {o.printer, 200, {2, NAN, NAN}},
               {o.printer, 300, {3, NAN, NAN}},
               {o.printer, 50, {0, 0, 55}}},
              {}, {});
  dashboard_reads reads(*o.r);
  auto v = reads.latest(o.printer, {2, 0});
  REQUIRE(v.size() == 2);
  CHECK(v[0].has_value);
  CHECK(v[0].value == 100);
  CHECK(v[0].ts_ms == 100);
  CHECK(v[1].value == 3);
  CHECK(v[1].ts_ms == 300);
  auto full = o.r->latest(o.printer);
  CHECK(full[2].value == v[0].value);
  CHECK(full[0].value == v[1].value);

  v = reads.latest(o.printer, {0, 1}, 2);  // only the polls at 300 and 200
  CHECK(v[0].has_value);
  CHECK_FALSE(v[1].has_value);
  CHECK(reads.latest(o.printer, {}).empty());
  CHECK_FALSE(reads.latest(o.placer, {0})[0].has_value);  // no polls at all
}

TEST_CASE("dashboard ends are the first and last value of each slot from `from` up to `to`",
          "[storage][dashboard]") {
  opened o;
  o.w->commit({{o.printer, 100, {1, NAN, 7}},
               {o.printer, 200, {2, 20, 8}},
               {o.printer, 300, {3, 30, NAN}},
               {o.printer, 400, {4, 40, 9}}},
              {}, {});
  dashboard_reads reads(*o.r);
  auto e = reads.ends(o.printer, {0, 1, 2}, 100, 400);  // 400 is excluded
  REQUIRE(e.size() == 3);
  CHECK(e[0].first.value == 1);
  CHECK(e[0].first.ts_ms == 100);
  CHECK(e[0].last.value == 3);
  CHECK(e[0].last.ts_ms == 300);
  CHECK(e[1].first.value == 20);  // skips the poll without a value
  CHECK(e[1].first.ts_ms == 200);
  CHECK(e[2].last.value == 8);
  CHECK(e[2].last.ts_ms == 200);

  auto none = reads.ends(o.printer, {0}, 401, 1000);
  CHECK_FALSE(none[0].first.has_value);
  CHECK_FALSE(none[0].last.has_value);
  CHECK_FALSE(reads.ends(o.printer, {0}, 300, 300)[0].first.has_value);  // empty range
}

TEST_CASE("dashboard metrics lists every machine's metrics by slot in one read",
          "[storage][dashboard]") {
  opened o;
  dashboard_reads reads(*o.r);
  auto m = reads.metrics();
  REQUIRE(m.count(o.printer) == 1);
  REQUIRE(m.at(o.printer).size() == 3);
  CHECK(m.at(o.printer)[2].name == "cycle_time_s");
  CHECK(m.at(o.printer)[2].slot == 2);
  CHECK(m.at(o.placer).size() == 20);
}

TEST_CASE("a read snapshot keeps one committed state until it ends", "[storage][dashboard]") {
  opened o;
  o.w->commit({{o.printer, 100, {1, 1, 1}}}, {}, {});
  dashboard_reads reads(*o.r);
  {
    read_snapshot snap(*o.r);
    CHECK(reads.latest(o.printer, {0})[0].ts_ms == 100);
    o.w->commit({{o.printer, 200, {2, 2, 2}}}, {}, {});
    CHECK(reads.latest(o.printer, {0})[0].ts_ms == 100);  // still the snapshot's state
    CHECK(o.r->machine("smt1-printer1").has_value());      // reader methods work inside it
  }
  CHECK(sqlite3_get_autocommit(o.r->handle()) == 1);
  CHECK(reads.latest(o.printer, {0})[0].ts_ms == 200);
}

TEST_CASE("a passed deadline interrupts dashboard reads and ends the snapshot",
          "[storage][dashboard]") {
  opened o;
  // Polls without slot 5 make latest() step through all of them.
  std::vector<poll_row> polls;
  for (int i = 0; i < 5000; ++i)
    polls.push_back({o.placer, i, std::vector<double>(5, 1.0)});
  o.w->commit(polls, {}, {});
  dashboard_reads reads(*o.r);
  o.r->set_deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  try {
    read_snapshot snap(*o.r);
    reads.latest(o.placer, {5}, 5000);
    FAIL("latest ran past its deadline");
  } catch (const db_error& e) {
    CHECK(e.code() == SQLITE_INTERRUPT);
  }
  CHECK(sqlite3_get_autocommit(o.r->handle()) == 1);
  o.r->set_deadline(std::chrono::steady_clock::time_point::max());
  CHECK(reads.latest(o.placer, {0})[0].ts_ms == 4999);
}
