// tests/storage/counter_hours_test: the hour summaries (storage/counter_hours.hpp)
// and the fast count_increases (storage/reader_counters.cpp) against the
// reference count_increase, which reads every poll: random counters with
// resets and gaps, random ranges and lookbacks, late polls before and after
// the compaction that merges them, a spilled head, a reader without the head,
// retention, and the v5 migration of a file written by the v4 release. Each
// row is also checked against plain SQL over the chunks it summarises.
#include "storage/counter_hours.hpp"
#include "storage/counters.hpp"

#include "tests/storage/fixture.hpp"

#include <filesystem>
#include <random>

using namespace edgemes::storage;
using namespace edgemes::storage::test;
using edgemes::test::temp_dir;

namespace {

constexpr int64_t hour_ms = 3'600'000;
constexpr int64_t t0 = 1'699'999'200'000;  // an hour boundary (472222 h)

// A random range: hour-aligned ends half of the time (the summaries' case),
// anything inside [t0 - 1 h, t0 + span + 1 h) otherwise.
std::pair<int64_t, int64_t> random_range(std::mt19937_64& rng, int64_t span) {
  std::uniform_int_distribution<int64_t> at(t0 - hour_ms, t0 + span + hour_ms);
  std::uniform_int_distribution<int64_t> hours(-1, span / hour_ms + 1);
  std::bernoulli_distribution aligned(0.5);
  int64_t a = aligned(rng) ? t0 + hours(rng) * hour_ms : at(rng);
  int64_t b = aligned(rng) ? t0 + hours(rng) * hour_ms : at(rng);
  if (a > b)
    std::swap(a, b);
  return {a, b == a ? b + 1 : b};
}

// count_increases == count_increase for every slot, on `n` random ranges.
void compare_on_random_ranges(reader& r, int64_t machine, const std::vector<int>& slots,
                              std::mt19937_64& rng, int64_t span, int n) {
  std::uniform_int_distribution<int64_t> lookback(0, 3 * hour_ms);
  for (int k = 0; k < n; ++k) {
    auto [from, to] = random_range(rng, span);
    const int64_t lb = k % 3 == 0 ? kCounterLookbackMs : lookback(rng);
    auto fast = r.count_increases(machine, slots, from, to, lb);
    REQUIRE(fast.size() == slots.size());
    for (size_t i = 0; i < slots.size(); ++i) {
      INFO("machine " << machine << " slot " << slots[i] << " [" << from << ", " << to
                      << ") lookback " << lb);
      same(fast[i], count_increase(r, machine, slots[i], from, to, lb), slots[i] == 4);
    }
  }
}

// Random counters on the placer's slots 0-3: rises of 0-5 (slot 3 by 0.25s,
// exact in binary), a reset every ~300 polls, gaps (no value); slot 4 noise
// (values that are no integers). Polls every 10 s
// with a 15-minute hole in the third hour.
std::vector<poll_row> random_polls(std::mt19937_64& rng, int64_t machine, int64_t from, int n,
                                   size_t width = 20) {
  std::vector<poll_row> out;
  std::vector<double> c{100, 0, 7, 3.5};
  std::uniform_int_distribution<int> step(0, 5), reset(0, 299), gap(0, 12);
  std::normal_distribution<double> noise(200, 3);
  for (int i = 0; i < n; ++i) {
    const int64_t ts = from + i * 10'000;
    if (ts >= t0 + 2 * hour_ms + 600'000 && ts < t0 + 2 * hour_ms + 1'500'000)
      continue;
    std::vector<double> v(width, NAN);
    for (size_t s = 0; s < std::min(c.size(), width); ++s) {
      c[s] = reset(rng) == 0 ? static_cast<double>(step(rng)) : c[s] + step(rng) * (s == 3 ? 0.25 : 1);
      v[s] = gap(rng) == 0 ? NAN : c[s];
    }
    if (width > 4)
      v[4] = noise(rng);
    out.push_back({machine, ts, std::move(v)});
  }
  return out;
}

// Commits `polls` in batches of 30 with a (non-forced) compaction after each,
// as the writer actor does.
void ingest(writer& w, const std::vector<poll_row>& polls) {
  for (size_t i = 0; i < polls.size(); i += 30) {
    std::vector<poll_row> batch(polls.begin() + static_cast<std::ptrdiff_t>(i),
                                polls.begin() + static_cast<std::ptrdiff_t>(
                                                    std::min(polls.size(), i + 30)));
    w.commit(batch, {}, {});
    if (w.compaction_due())
      w.compact();
  }
}

// Every counter_hours row equals plain SQL over the chunks of its hour: the
// count, the first and last value, and the sum of rises and the drops
// between consecutive values (LAG inside the hour).
void rows_match_sql(sqlite3* db) {
  const std::string sql = R"sql(
    WITH v AS (SELECT c.machine_id AS m, p.slot AS slot, p.ts AS ts, p.value AS value,
                      p.ts - p.ts % 3600000 AS hour
                 FROM chunks c, edgemes_chunk(c.data) p WHERE p.value IS NOT NULL),
         d AS (SELECT m, slot, hour, ts, value,
                      LAG(value) OVER (PARTITION BY m, slot, hour ORDER BY ts) AS prev,
                      first_value(value) OVER w AS fv, last_value(value) OVER w AS lv,
                      min(ts) OVER w AS fts, max(ts) OVER w AS lts
                 FROM v WINDOW w AS (PARTITION BY m, slot, hour ORDER BY ts
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)),
         s AS (SELECT m, slot, hour, count(*) AS n, min(fts) AS fts, min(fv) AS fv,
                      max(lts) AS lts, max(lv) AS lv,
                      total(CASE WHEN value >= prev THEN value - prev ELSE 0 END) AS inc,
                      sum(value < prev) AS resets
                 FROM d GROUP BY m, slot, hour)
    SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM counter_hours),
           (SELECT count(*) FROM s JOIN counter_hours h ON h.hour = s.hour
               AND h.machine_id = s.m AND h.slot = s.slot AND h.n = s.n
               AND h.first_ts = s.fts AND h.first = s.fv AND h.last_ts = s.lts
               AND h.last = s.lv AND h.increase = s.inc AND h.resets = s.resets))sql";
  sqlite3_stmt* s = nullptr;
  INFO(sqlite3_errmsg(db));
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  const int64_t expected = sqlite3_column_int64(s, 0), rows = sqlite3_column_int64(s, 1),
                equal = sqlite3_column_int64(s, 2);
  sqlite3_finalize(s);
  CHECK(expected > 0);
  CHECK(rows == expected);
  CHECK(equal == expected);
}

} // namespace

TEST_CASE("hour summaries give count_increase's result on random ranges, resets, gaps and late "
          "polls", "[storage][counters][counter_hours]") {
  catalogued_file f;
  std::mt19937_64 rng(14);
  const int polls_n = 6 * 360;  // 6 hours at 10 s
  const int64_t span = polls_n * 10'000LL;
  std::vector<poll_row> polls = random_polls(rng, f.placer, t0, polls_n);
  for (auto& p : random_polls(rng, f.printer, t0 + 3'000, polls_n, 3))
    polls.push_back(std::move(p));
  std::stable_sort(polls.begin(), polls.end(),
                   [](const poll_row& a, const poll_row& b) { return a.ts_ms < b.ts_ms; });
  ingest(*f.w, polls);
  sqlite3* db = f.w->handle();
  REQUIRE(query_int(db, "SELECT count(DISTINCT hour) FROM counter_hours") >= 5);
  rows_match_sql(db);
  const std::vector<int> slots{0, 1, 2, 3, 4, 17};
  auto r = reader::open(f.path, options{}, f.w->shared_head());

  SECTION("compacted history and hot window") {
    compare_on_random_ranges(*r, f.placer, slots, rng, span, 300);
    compare_on_random_ranges(*r, f.printer, {0, 1, 2}, rng, span, 100);
  }
  SECTION("the same through a reader without the head (the log decoded)") {
    auto cold = reader::open(f.path, options{});
    compare_on_random_ranges(*cold, f.placer, slots, rng, span, 100);
  }
  SECTION("late polls: waiting in the log, then merged into their hours") {
    // Into a compacted window of hour 1 (a drop: a reset), into the hole of
    // hour 2 (a window that has no chunk yet), and at the very start of hour 0.
    std::vector<double> low(20, NAN), high(20, NAN), first(20, NAN);
    low[0] = 1;
    high[0] = 1e6;
    high[1] = 5;
    first[2] = 0;
    f.w->commit({{f.placer, t0 + hour_ms + 1'234'567, low},
                 {f.placer, t0 + 2 * hour_ms + 900'005, high},
                 {f.placer, t0 + 1, first}},
                {}, {});
    compare_on_random_ranges(*r, f.placer, slots, rng, span, 150);
    CHECK(r->count_increases(f.placer, {0}, t0, t0 + span)[0].resets ==
          count_increase(*r, f.placer, 0, t0, t0 + span).resets);
    auto c = f.w->compact(true);
    CHECK(c.late_polls == 3);
    rows_match_sql(db);
    compare_on_random_ranges(*r, f.placer, slots, rng, span, 150);
  }
  SECTION("retention drops the rows of the hours it cut into, and readers scan those") {
    f.w->compact(true);
    retention_result got;
    do
      got = f.w->delete_before(t0 + 2 * hour_ms + 300'000, 37);
    while (!got.done);
    CHECK(query_int(db, "SELECT min(start) FROM chunks") == t0 + 2 * hour_ms + 240'000);
    CHECK(query_int(db, "SELECT min(hour) FROM counter_hours") == t0 + 3 * hour_ms);
    CHECK(query_int(db, "SELECT hours_from FROM compaction") == t0 + 3 * hour_ms);
    compare_on_random_ranges(*r, f.placer, slots, rng, span, 150);
  }
  SECTION("a spilled head reads its oldest polls from the log") {
    temp_dir dir;
    layout_options small;
    small.head_limit_bytes = 1;  // every commit spills the head
    auto w = writer::open(dir.file("spill.db"), options{}, small);
    auto bind = w->sync_catalog(test_lines(), test_machines());
    const int64_t placer = bind.at("smt1-placer1").machine_id;
    ingest(*w, random_polls(rng, placer, t0, 3 * 360));
    REQUIRE(w->head_spills() > 0);
    auto rs = reader::open(dir.file("spill.db"), options{}, w->shared_head());
    compare_on_random_ranges(*rs, placer, slots, rng, 3 * 3'600'000LL, 150);
  }
}

TEST_CASE("the v5 migration summarises every chunk of a file written by the v4 release",
          "[storage][counters][counter_hours][schema]") {
  temp_dir dir;
  const std::string path = dir.file("v4.db");
  std::filesystem::copy_file(EDGEMES_SOURCE_DIR "/tests/storage/data/v4-factory.db", path);
  auto w = writer::open(path, options{});
  sqlite3* db = w->handle();
  CHECK(query_int(db, "PRAGMA user_version") == 5);
  rows_match_sql(db);
  auto r = reader::open(path, options{}, w->shared_head());
  std::mt19937_64 rng(5);
  const int64_t lo = query_int(db, "SELECT min(start) FROM chunks");
  const int64_t hi = lo + 3'600'000;
  for (int64_t machine = 1; machine <= 5; ++machine)
    for (int k = 0; k < 40; ++k) {
      std::uniform_int_distribution<int64_t> at(lo - 60'000, hi);
      int64_t a = at(rng), b = at(rng);
      if (a > b)
        std::swap(a, b);
      auto fast = r->count_increases(machine, {0, 1, 2, 3}, a, b + 1);
      for (int slot = 0; slot < 4; ++slot) {
        INFO("machine " << machine << " slot " << slot << " [" << a << ", " << b + 1 << ")");
        same(fast[static_cast<size_t>(slot)], count_increase(*r, machine, slot, a, b + 1));
      }
    }
}
