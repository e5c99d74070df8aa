// Rollups (telemetry_10s): the writer's side (storage/open_buckets.cpp,
// retention) and the reader's (series() from rollups + raw edges). The
// reference is always the raw rows: rollup rows are checked against an
// aggregate of the raw rows computed here, and series() against series_raw().
#include "tests/storage/fixture.hpp"

#include <iostream>
#include <map>
#include <random>

using namespace edgemes::storage;
using namespace edgemes::storage::test;
using edgemes::test::temp_dir;

namespace {

using opened = catalogued_file;

// Slot 0 of the rollup row at `start` ("" when there is none).
std::string rollup_slot0(sqlite3* db, int64_t machine, int64_t start) {
  return query_text(db, "SELECT json_extract(v, '$[0]') FROM telemetry_10s WHERE machine_id=" +
                            std::to_string(machine) + " AND ts=" + std::to_string(start));
}

// One printer poll (3 slots) with slot 0 = value, slots 1, 2 fixed.
poll_row printer_poll(int64_t machine, int64_t ts, double value) {
  return {machine, ts, {value, 1, 2}};
}

std::vector<poll_row> printer_polls(int64_t machine, int64_t from, int64_t to, int64_t every) {
  std::vector<poll_row> out;
  for (int64_t ts = from; ts < to; ts += every)
    out.push_back(printer_poll(machine, ts, static_cast<double>(ts / 1000)));
  return out;
}

} // namespace

TEST_CASE("a bucket's rollup row is written with the first poll of a later bucket",
          "[storage][rollup]") {
  opened o;
  sqlite3* db = o.w->handle();
  o.w->commit(printer_polls(o.printer, 100'000, 110'000, 1000), {}, {});
  CHECK(query_int(db, "SELECT count(*) FROM telemetry_10s") == 0);  // bucket 100 s still open
  o.w->commit({printer_poll(o.printer, 112'000, 7)}, {}, {});
  CHECK(rollup_slot0(db, o.printer, 100'000) == "[10,1045,100,109]");
  CHECK(query_int(db, "SELECT count(*) FROM telemetry_10s") == 1);
  CHECK(check_rollups(db, o.printer) == 1);
  // The shell's view of it.
  CHECK(query_text(db, "SELECT count || ' ' || sum || ' ' || min || ' ' || max || ' ' || last "
                       "FROM samples_10s WHERE machine='smt1-printer1' AND metric='temp_c'") ==
        "10 1045 100 109 109");
}

TEST_CASE("close writes every open bucket and a reopened writer keeps the row exact",
          "[storage][rollup]") {
  opened o;
  o.w->commit(printer_polls(o.printer, 100'000, 105'000, 1000), {}, {});
  o.w->commit(make_polls(o.placer, 3, 20, 200'500, 1000), {}, {});
  o.w->close();
  {
    raw_db raw(o.path);
    CHECK(query_int(raw.get(), "SELECT count(*) FROM telemetry_10s") == 2);
    CHECK(rollup_slot0(raw.get(), o.printer, 100'000) == "[5,510,100,104]");
  }
  // Polls after the restart in the same bucket rebuild its row at once.
  auto w = writer::open(o.path, options{});
  w->commit(printer_polls(o.printer, 105'000, 107'000, 1000), {}, {});
  CHECK(rollup_slot0(w->handle(), o.printer, 100'000) == "[7,721,100,106]");
  CHECK(check_rollups(w->handle(), o.printer) == 1);
  CHECK(check_rollups(w->handle(), o.placer) == 1);
}

TEST_CASE("after a crash mid-bucket the open bucket is rebuilt from raw rows, never partial",
          "[storage][rollup]") {
  opened o;
  o.w->commit(printer_polls(o.printer, 100'000, 105'000, 1000), {}, {});
  o.w.reset();  // gone without close(): like kill -9 after the last commit
  auto w = writer::open(o.path, options{});
  CHECK(query_int(w->handle(), "SELECT count(*) FROM telemetry_10s") == 0);
  w->commit(printer_polls(o.printer, 105'000, 111'000, 1000), {}, {});
  CHECK(rollup_slot0(w->handle(), o.printer, 100'000) == "[10,1045,100,109]");
  CHECK(check_rollups(w->handle(), o.printer) == 1);
}

TEST_CASE("a poll older than the open bucket rebuilds the stored row; last stays the newest ts's",
          "[storage][rollup]") {
  opened o;
  sqlite3* db = o.w->handle();
  o.w->commit(printer_polls(o.printer, 100'000, 125'000, 1000), {}, {});
  REQUIRE(rollup_slot0(db, o.printer, 100'000) == "[10,1045,100,109]");
  // The machine's clock stepped back: 103.5 s arrives after 124 s.
  o.w->commit({printer_poll(o.printer, 103'500, -5)}, {}, {});
  CHECK(rollup_slot0(db, o.printer, 100'000) == "[11,1040,-5,109]");
  // ... and into an empty old bucket, and out of order within the open one.
  o.w->commit({printer_poll(o.printer, 50'000, 3), printer_poll(o.printer, 121'500, 99)}, {}, {});
  CHECK(rollup_slot0(db, o.printer, 50'000) == "[1,3]");
  o.w->commit({printer_poll(o.printer, 131'000, 0)}, {}, {});  // closes 120 s
  CHECK(rollup_slot0(db, o.printer, 120'000) == "[6,709,99,124]");
  CHECK(check_rollups(db, o.printer) == 4);
}

TEST_CASE("a duplicate poll is not counted twice in a rollup", "[storage][rollup]") {
  opened o;
  auto polls = printer_polls(o.printer, 100'000, 110'000, 1000);
  o.w->commit(polls, {}, {});
  polls[3].values = {1000, 1000, 1000};
  CHECK(o.w->commit(polls, {}, {}).duplicates == 10);
  o.w->commit({printer_poll(o.printer, 110'000, 0)}, {}, {});
  CHECK(rollup_slot0(o.w->handle(), o.printer, 100'000) == "[10,1045,100,109]");
}

TEST_CASE("a rolled-back commit leaves no trace in the rollups", "[storage][rollup]") {
  opened o;
  o.w->commit(printer_polls(o.printer, 100'000, 105'000, 1000), {}, {});
  auto polls = printer_polls(o.printer, 105'000, 125'000, 1000);  // closes two buckets
  auto bad = polls;
  bad.push_back({9999, 130'000, {1}});  // no such machine: FOREIGN KEY fails at the end
  REQUIRE_THROWS_AS(o.w->commit(bad, {}, {}), db_error);
  CHECK(query_int(o.w->handle(), "SELECT count(*) FROM telemetry_10s") == 0);
  o.w->commit(polls, {}, {});
  CHECK(check_rollups(o.w->handle(), o.printer) == 2);
  CHECK(rollup_slot0(o.w->handle(), o.printer, 100'000) == "[10,1045,100,109]");
}

TEST_CASE("series reads whole 10 s buckets from the rollups and the edges from raw rows",
          "[storage][rollup][reader]") {
  opened o;
  o.w->commit(printer_polls(o.printer, 100'000, 160'000, 1000), {}, {});
  o.w->close();
  {
    // Tamper with the rollup of [120 s, 130 s): only a read of it shows it.
    raw_db raw(o.path);
    raw.exec("UPDATE telemetry_10s SET v='[[1,-1,-1,-1,-1],null,null]' WHERE ts=120000");
  }
  auto r = reader::open(o.path, options{});
  auto rolled = r->series(o.printer, 0, 115'000, 145'500, 10'000, aggregate::sum);
  auto raw = r->series_raw(o.printer, 0, 115'000, 145'500, 10'000, aggregate::sum);
  REQUIRE(rolled.size() == 4);
  REQUIRE(raw.size() == 4);
  CHECK(rolled[0].ts_ms == 110'000);  // aligned to the step, holding only ts >= from
  CHECK(rolled[0].value == 115 + 116 + 117 + 118 + 119);
  CHECK(rolled[1].value == -1);       // from the (tampered) rollup row
  CHECK(raw[1].value == 1245);
  CHECK(rolled[2].value == raw[2].value);
  CHECK(rolled[3].ts_ms == 140'000);
  CHECK(rolled[3].count == 6);        // 140..145 from raw rows: the edge at 145.5 s
  // A step that is not a multiple of 10 s, and a range inside one bucket: raw only.
  CHECK(r->series(o.printer, 0, 100'000, 160'000, 15'000, aggregate::sum).at(1).value ==
        r->series_raw(o.printer, 0, 100'000, 160'000, 15'000, aggregate::sum).at(1).value);
  CHECK(r->series(o.printer, 0, 121'000, 129'000, 10'000, aggregate::count).at(0).value == 8);
}

TEST_CASE("series from rollups equals series from raw rows for random histories and queries",
          "[storage][rollup][reader]") {
  for (uint64_t seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    auto uni = [&](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    opened o;
    const std::vector<std::pair<int64_t, int>> machines{{o.placer, 20}, {o.printer, 3}};
    std::map<int64_t, int64_t> clock{{o.placer, 1'700'000'000'123}, {o.printer, 1'700'000'004'567}};
    const int64_t t0 = 1'700'000'000'000;
    int64_t queries = 0;

    // Random queries of series() and series_raw() on the file as it is now.
    auto compare = [&](int n) {
      auto r = reader::open(o.path, options{});
      const int64_t t1 = std::max(clock[o.placer], clock[o.printer]);
      const int64_t steps[] = {10'000, 20'000, 30'000, 60'000, 120'000, 300'000, 1000, 7000, 15'000};
      for (int q = 0; q < n; ++q, ++queries) {
        const auto [id, slots] = machines[static_cast<size_t>(uni(0, 1))];
        const int slot = static_cast<int>(uni(0, slots));  // == slots: past the end
        int64_t from = uni(t0 - 30'000, t1 + 10'000);
        int64_t to = from + uni(1, t1 - t0 + 60'000);
        if (uni(0, 3) == 0) {  // whole buckets only, sometimes
          from = floor_to(from, rollup_ms);
          to = ceil_to(to, rollup_ms);
        }
        const int64_t step = uni(0, 4) == 0 ? 10'000 * uni(1, 40) : steps[uni(0, 8)];
        const auto agg = static_cast<aggregate>(uni(0, 5));
        auto a = r->series(id, slot, from, to, step, agg);
        auto b = r->series_raw(id, slot, from, to, step, agg);
        INFO("query " << q << ": machine " << id << " slot " << slot << " [" << from << ", " << to
                      << ") step " << step << " agg " << static_cast<int>(agg));
        REQUIRE(a.size() == b.size());
        for (size_t i = 0; i < a.size(); ++i) {
          REQUIRE(a[i].ts_ms == b[i].ts_ms);
          REQUIRE(a[i].count == b[i].count);
          REQUIRE(a[i].value == b[i].value);  // exactly: one order of additions
        }
      }
    };

    for (int session = 0; session < 6; ++session) {
      if (!o.w)
        o.w = writer::open(o.path, options{});
      for (int batch = 0; batch < 40; ++batch) {
        std::vector<poll_row> polls;
        for (int64_t n = uni(1, 25); n > 0; --n) {
          const auto [id, slots] = machines[static_cast<size_t>(uni(0, 1))];
          int64_t& t = clock[id];
          const int64_t kind = uni(0, 99);
          int64_t ts = t;
          if (kind < 3)
            ts = t - uni(0, 40'000);  // clock stepped back / a late poll
          else if (kind < 6)
            ts = t;                   // same ts again: a duplicate
          else
            t = ts = t + (kind < 10 ? uni(10'000, 60'000) : uni(100, 1500));
          poll_row p{id, ts, {}};
          for (int s = 0; s < slots - static_cast<int>(uni(0, 1)); ++s) {
            const int64_t v = uni(0, 19);
            p.values.push_back(v == 0 ? NAN : v == 1 ? INFINITY : v == 2 ? -0.0
                               : static_cast<double>(uni(-100'000, 100'000)) / 1000);
          }
          polls.push_back(std::move(p));
        }
        if (uni(0, 19) == 0) {  // a commit that fails and is retried
          auto bad = polls;
          bad.push_back({9999, t0, {1}});
          REQUIRE_THROWS_AS(o.w->commit(bad, {}, {}), db_error);
        }
        o.w->commit(polls, {}, {});
      }
      compare(100);  // the writer's buckets are open now
      if (session % 2 == 0)
        o.w->close();
      o.w.reset();  // odd sessions end as a crash does: no close()
      raw_db raw(o.path);
      for (const auto& m : machines)
        check_rollups(raw.get(), m.first);
    }
    {
      raw_db raw(o.path);
      REQUIRE(check_rollups(raw.get(), o.placer) > 100);
      REQUIRE(check_rollups(raw.get(), o.printer) > 100);
    }
    compare(1500);
    std::cout << "[rollup property] seed " << seed << ": " << queries
              << " random series() == series_raw() comparisons\n";
  }
}

TEST_CASE("retention deletes raw and rollup rows by whole 10 s buckets", "[storage][rollup]") {
  opened o;
  o.w->commit(printer_polls(o.printer, 100'000, 200'000, 1000), {}, {});
  sqlite3* db = o.w->handle();
  REQUIRE(query_int(db, "SELECT count(*) FROM telemetry_10s") == 9);  // 190 s still open
  // Cutoff 134.5 s: buckets ending at or before 130 s go, 130 s stays whole.
  int64_t raw = 0, rollups = 0;
  retention_result r;
  do {
    r = o.w->delete_before(134'500, 7);  // 7 rows: one bucket (10 raw) exceeds it: taken whole
    raw += r.telemetry;
    rollups += r.rollups;
  } while (!r.done);
  CHECK(raw == 30);
  CHECK(rollups == 3);
  CHECK(query_int(db, "SELECT min(ts) FROM telemetry") == 130'000);
  CHECK(query_int(db, "SELECT min(ts) FROM telemetry_10s") == 130'000);
  CHECK(check_rollups(db, o.printer) == 6);
  // The open bucket survives retention: closing it writes the exact row.
  o.w->commit({printer_poll(o.printer, 200'000, 0)}, {}, {});
  CHECK(check_rollups(db, o.printer) == 7);

  // With a budget that fits several buckets, a chunk stops at a bucket edge.
  r = o.w->delete_before(170'000, 25);
  CHECK(r.telemetry == 20);
  CHECK(r.rollups == 2);
  CHECK_FALSE(r.done);
  CHECK(check_rollups(db, o.printer) == 5);
}
