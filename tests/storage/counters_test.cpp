// tests/storage/counters_test: count_increase against the same arithmetic in
// plain SQL (LAG over the samples view), on polls in chunks and in the log,
// with resets, gaps and range edges that cut between polls.
#include "storage/counters.hpp"
#include "storage/dashboard.hpp"

#include "tests/storage/fixture.hpp"

#include <cmath>

using namespace edgemes::storage;
using namespace edgemes::storage::test;

namespace {

// The increase over [from, to) computed by SQL alone: each value minus the one
// before it when it did not drop, summed over the values in the range.
double sql_increase(sqlite3* db, const std::string& machine, const std::string& metric,
                    int64_t from, int64_t to) {
  const std::string sql =
      "SELECT coalesce(sum(CASE WHEN value >= prev THEN value - prev ELSE 0 END), 0) FROM ("
      "SELECT ts, value, LAG(value) OVER (ORDER BY ts) AS prev FROM samples WHERE machine='" +
      machine + "' AND metric='" + metric + "') WHERE prev IS NOT NULL AND ts >= " +
      std::to_string(from) + " AND ts < " + std::to_string(to);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  const double v = sqlite3_column_double(s, 0);
  sqlite3_finalize(s);
  return v;
}

} // namespace

TEST_CASE("a counter's increase over a range treats a drop as a reset and matches plain SQL",
          "[storage][counters]") {
  catalogued_file f;
  // printer slot 0 ("temp_c") is used as a counter: +3 a poll, a reset to 5 at
  // poll 400, a power cycle to 0 at poll 900, a gap (no value) every 11th poll.
  const int64_t t0 = 1'700'000'000'000;
  std::vector<poll_row> polls;
  double c = 1000;
  for (int i = 0; i < 1500; ++i) {
    if (i == 400)
      c = 5;
    else if (i == 900)
      c = 0;
    else
      c += 3;
    const double v = i % 11 == 0 ? NAN : c;
    polls.push_back({f.printer, t0 + i * 1000, {v, 1, 2}});
  }
  f.w->commit(polls, {}, {});
  f.w->compact(true);  // most of it into chunks; whatever is left stays in the log
  auto r = reader::open(f.path, options{}, f.w->shared_head());
  sqlite3* db = f.w->handle();

  SECTION("the whole range: every rise, both resets") {
    auto got = count_increase(*r, f.printer, 0, t0, t0 + 1'500'000);
    CHECK(got.resets == 2);
    CHECK(got.has_before == false);
    CHECK(got.first_ts == t0 + 1000);  // poll 0 has no value
    CHECK(got.last_ts == t0 + 1'499'000);
    CHECK(got.increase == sql_increase(db, "smt1-printer1", "temp_c", t0, t0 + 1'500'000));
    CHECK(got.increase > 0);
  }
  SECTION("adjacent ranges cut between polls add up to their union") {
    double sum = 0;
    int64_t resets = 0;
    for (int64_t from = t0 - 500; from < t0 + 1'500'000; from += 123'457) {
      const int64_t to = from + 123'457;
      auto got = count_increase(*r, f.printer, 0, from, to);
      INFO("range [" << from << ", " << to << ")");
      CHECK(got.increase == sql_increase(db, "smt1-printer1", "temp_c", from, to));
      sum += got.increase;
      resets += got.resets;
    }
    CHECK(sum == count_increase(*r, f.printer, 0, t0 - 500, t0 + 2'000'000).increase);
    CHECK(resets == 2);
  }
  SECTION("a range after a reset counts from the new value, never negative") {
    auto got = count_increase(*r, f.printer, 0, t0 + 399'500, t0 + 401'500);
    CHECK(got.has_before);
    CHECK(got.resets == 1);
    CHECK(got.increase == 3);  // 5 -> 8; the drop 1000+3*399 -> 5 counts nothing
  }
  SECTION("no value before the lookback: the first value counts nothing") {
    auto got = count_increase(*r, f.printer, 0, t0 + 100'500, t0 + 110'500, 400);
    CHECK(got.has_before == false);
    CHECK(got.increase == sql_increase(db, "smt1-printer1", "temp_c", t0 + 100'500,
                                       t0 + 110'500) - 3);
  }
  SECTION("an empty range and a range without polls count nothing") {
    CHECK(count_increase(*r, f.printer, 0, t0, t0).values == 0);
    auto none = count_increase(*r, f.printer, 0, t0 + 5'000'000, t0 + 6'000'000);
    CHECK(none.values == 0);
    CHECK(none.increase == 0);
  }
}

TEST_CASE("count_increase reads the value before the range and the range in one state, even "
          "when a compaction moves the polls between the two",
          "[storage][counters]") {
  // The reference used to read the value before `from` and the range in two
  // scans, loading the writer's head for each: inside a caller's read
  // snapshot, a compaction between the two took the range's polls out of the
  // head into chunks the snapshot does not see, and it counted 0 of 190
  // polls. The hook runs that compaction at that point, every time.
  catalogued_file f;
  // 300 polls in the writer's head (nothing compacted), +2 a poll.
  const int64_t t0 = 1'700'000'040'000;
  std::vector<poll_row> polls;
  for (int i = 0; i < 300; ++i)
    polls.push_back({f.printer, t0 + i * 1000, {100.0 + 2 * i, 1, 2}});
  f.w->commit(polls, {}, {});
  auto r = reader::open(f.path, options{}, f.w->shared_head());
  const int64_t from = t0 + 100'500, to = t0 + 290'500;  // polls 101..290
  const double expected = 2.0 * 190;                       // 100 -> 101 counts too
  int64_t compacted = 0;
  // Between the two reads, everything in the head moves into chunks.
  test_hooks::count_increase_between_reads = [&] { compacted += f.w->compact(true).chunks; };
  struct reset_hook {
    ~reset_hook() { test_hooks::count_increase_between_reads = nullptr; }
  } reset;

  SECTION("inside a caller's read snapshot") {
    counter_increase got;
    {
      read_snapshot snap(*r);
      got = count_increase(*r, f.printer, 0, from, to);
    }
    CHECK(compacted > 0);
    CHECK(got.has_before);
    CHECK(got.values == 190);
    CHECK(got.increase == expected);
    CHECK(got.first_ts == t0 + 101'000);
    CHECK(got.last_ts == t0 + 290'000);
  }
  SECTION("in its own read transaction") {
    auto got = count_increase(*r, f.printer, 0, from, to);
    CHECK(compacted > 0);
    CHECK(got.has_before);
    CHECK(got.values == 190);
    CHECK(got.increase == expected);
  }
  // And afterwards, from the chunks alone.
  test_hooks::count_increase_between_reads = nullptr;
  auto again = count_increase(*r, f.printer, 0, from, to);
  CHECK(again.values == 190);
  CHECK(again.increase == expected);
}
