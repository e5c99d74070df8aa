// The hot window (ingest log + head) and the compacted history (chunks):
// storage/compaction.cpp on the writer's side, the merge in reader::scan on
// the reader's. The reference is a model of every poll the writer accepted
// (first write of a (machine, ts) wins): whatever was compacted, reopened or
// crashed, a reader must return exactly the model's points, and series()
// exactly what the model's points give in the one order of additions of
// storage/rollup.hpp.
#include "storage/head.hpp"
#include "tests/storage/fixture.hpp"

#include <iostream>
#include <map>
#include <random>

using namespace edgemes::storage;
using namespace edgemes::storage::test;
using edgemes::test::temp_dir;

namespace {

using opened = catalogued_file;

// (machine, ts) -> values, as the writer must have kept them.
using model = std::map<std::pair<int64_t, int64_t>, std::vector<double>>;

void remember(model& m, const std::vector<poll_row>& polls) {
  for (const auto& p : polls)
    m.emplace(std::make_pair(p.machine_id, p.ts_ms), p.values);  // first one wins
}

std::vector<point> expected_points(const model& m, int64_t machine, int slot, int64_t from,
                                   int64_t to) {
  std::vector<point> out;
  for (auto it = m.lower_bound({machine, from}); it != m.end() && it->first.first == machine &&
                                                 it->first.second < to;
       ++it) {
    const auto& v = it->second;
    if (slot < static_cast<int>(v.size()) && std::isfinite(v[static_cast<size_t>(slot)]))
      out.push_back({it->first.second, v[static_cast<size_t>(slot)]});
  }
  return out;
}

// series() computed here: per step bucket, its 10 s sub-buckets in ts order,
// each the add() of its points in ts order (storage/rollup.hpp).
std::vector<bucket> expected_series(const std::vector<point>& pts, int64_t step, aggregate agg) {
  std::map<int64_t, std::map<int64_t, slot_stats>> steps;  // step start -> sub start -> stats
  for (const auto& p : pts) {
    const int64_t s = floor_to(p.ts_ms, step);
    const int64_t sub = std::max(s, floor_to(p.ts_ms, rollup_ms));
    steps[s][sub].add(p.value);
  }
  std::vector<bucket> out;
  for (const auto& [start, subs] : steps) {
    slot_stats a;
    for (const auto& [sub, st] : subs)
      a.merge(st);
    out.push_back({start, aggregate_value(a, agg), a.count});
  }
  return out;
}

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

int64_t chunk_rows(sqlite3* db) { return query_int(db, "SELECT count(*) FROM chunks"); }
int64_t log_rows(sqlite3* db) { return query_int(db, "SELECT count(*) FROM ingest_log"); }

poll_row printer_poll(int64_t machine, int64_t ts, double value) {
  return {machine, ts, {value, 1, 2}};
}

} // namespace

TEST_CASE("a commit appends one ingest log row and compaction moves ended windows into chunks",
          "[storage][compaction]") {
  opened o;
  sqlite3* db = o.w->handle();
  std::vector<poll_row> polls;
  for (int64_t ts = 0; ts < 300'000; ts += 1000)
    polls.push_back(printer_poll(o.printer, ts, static_cast<double>(ts / 1000)));
  o.w->commit(polls, {}, {});
  CHECK(log_rows(db) == 1);
  CHECK(chunk_rows(db) == 0);
  // Newest poll 299 s, grace 30 s: windows [0, 120) and [120, 240) ended by 269 s.
  REQUIRE(o.w->compaction_due());
  auto r = o.w->compact();
  CHECK(r.boundary == 240'000);
  CHECK(r.chunks == 2);
  CHECK(r.polls == 240);
  CHECK(r.log_rewritten == 1);  // the row keeps the 60 polls of [240, 300)
  CHECK(chunk_rows(db) == 2);
  CHECK(log_rows(db) == 1);
  CHECK(query_int(db, "SELECT sum(polls) FROM chunks") == 240);
  CHECK_FALSE(o.w->compaction_due());
  CHECK(o.w->compact().chunks == 0);
  CHECK(query_int(db, "SELECT boundary FROM compaction") == 240'000);

  // Every poll is read back once, from the head or a chunk.
  auto r1 = reader::open(o.path, options{}, o.w->shared_head());
  auto r2 = reader::open(o.path, options{});  // no head: decodes the log itself
  for (auto* rd : {r1.get(), r2.get()}) {
    auto pts = rd->samples(o.printer, 0, 0, 1'000'000, 10'000);
    REQUIRE(pts.size() == 300);
    for (size_t i = 0; i < pts.size(); ++i) {
      REQUIRE(pts[i].ts_ms == static_cast<int64_t>(i) * 1000);
      REQUIRE(pts[i].value == static_cast<double>(i));
    }
  }
  // Forced: every window, the newest too; the log is empty.
  r = o.w->compact(true);
  CHECK(r.boundary == 360'000);
  CHECK(r.polls == 60);
  CHECK(log_rows(db) == 0);
  CHECK(r1->samples(o.printer, 0, 0, 1'000'000, 10'000).size() == 300);
}

TEST_CASE("a late poll waits in the log and is merged into its window's chunk",
          "[storage][compaction]") {
  opened o;
  sqlite3* db = o.w->handle();
  for (int64_t ts = 0; ts < 300'000; ts += 1000)
    o.w->commit({printer_poll(o.printer, ts, 1)}, {}, {});
  o.w->compact();
  REQUIRE(query_int(db, "SELECT polls FROM chunks WHERE start=0") == 120);
  // 5.5 s into the first window, long after it was compacted.
  auto st = o.w->commit({printer_poll(o.printer, 5'500, 42)}, {}, {});
  CHECK(st.rows == 1);
  // The same poll again is a duplicate, in the head or in a chunk.
  CHECK(o.w->commit({printer_poll(o.printer, 5'500, 43)}, {}, {}).duplicates == 1);
  CHECK(o.w->commit({printer_poll(o.printer, 5'000, 43)}, {}, {}).duplicates == 1);
  auto r = reader::open(o.path, options{}, o.w->shared_head());
  auto pts = r->samples(o.printer, 0, 5'000, 6'001, 10);
  REQUIRE(pts.size() == 3);
  CHECK(pts[1].ts_ms == 5'500);
  CHECK(pts[1].value == 42);
  for (int64_t ts = 300'000; ts < 400'000; ts += 1000)
    o.w->commit({printer_poll(o.printer, ts, 1)}, {}, {});
  auto c = o.w->compact();
  CHECK(c.late_polls == 1);
  CHECK(query_int(db, "SELECT polls FROM chunks WHERE start=0") == 121);
  pts = r->samples(o.printer, 0, 5'000, 6'001, 10);
  REQUIRE(pts.size() == 3);
  CHECK(pts[1].value == 42);
}

TEST_CASE("a rolled-back commit leaves no trace in the log or the head", "[storage][compaction]") {
  opened o;
  auto good = printer_poll(o.printer, 1000, 1);
  const std::vector<poll_row> bad{good, poll_row{9999, 2000, {1}}};
  REQUIRE_THROWS_AS(o.w->commit(bad, {}, {}), db_error);
  CHECK(log_rows(o.w->handle()) == 0);
  CHECK(o.w->shared_head()->load(o.printer) == nullptr);
  CHECK(o.w->commit({good}, {}, {}).rows == 1);
}

TEST_CASE("the head and the compacted history return identical points for random histories",
          "[storage][compaction][reader]") {
  // Seeds 4-6 give the head a tiny memory limit, so the writer spills its
  // oldest polls (readers and compaction then read them from the log): 16 KiB
  // is about one block per machine, 1 byte spills everything on every commit.
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    const int64_t head_limit = seed <= 3 ? layout_options{}.head_limit_bytes
                                         : seed == 5 ? 1 : 16 * 1024;
    INFO("seed " << seed << ", head limit " << head_limit << " bytes");
    std::mt19937_64 rng(seed);
    auto uni = [&](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    opened o;
    o.w.reset();
    layout_options layout;
    layout.window_ms = 60'000;
    layout.grace_ms = static_cast<int64_t>((seed - 1) % 3) * 10'000;
    layout.head_limit_bytes = head_limit;
    temp_dir dir;
    const std::string path = dir.file("random.db");
    auto w = writer::open(path, options{}, layout);
    auto bind = w->sync_catalog(test_lines(), test_machines());
    const int64_t placer = bind.at("smt1-placer1").machine_id;
    const int64_t printer = bind.at("smt1-printer1").machine_id;
    const std::vector<std::pair<int64_t, int>> machines{{placer, 20}, {printer, 3}};
    std::map<int64_t, int64_t> clock{{placer, 1'700'000'000'123}, {printer, 1'700'000'004'567}};
    const int64_t t0 = 1'700'000'000'000;
    model truth;
    int64_t queries = 0;

    auto compare = [&](int n) {
      auto with_head = reader::open(path, options{}, w ? w->shared_head() : nullptr);
      auto without = reader::open(path, options{});
      const int64_t t1 = std::max(clock[placer], clock[printer]);
      const int64_t steps[] = {10'000, 20'000, 30'000, 60'000, 120'000, 300'000, 1000, 7000};
      for (int q = 0; q < n; ++q, ++queries) {
        const auto [id, slots] = machines[static_cast<size_t>(uni(0, 1))];
        const int slot = static_cast<int>(uni(0, slots));  // == slots: past the end
        const int64_t from = uni(t0 - 30'000, t1 + 10'000);
        const int64_t to = from + uni(1, t1 - t0 + 60'000);
        auto want = expected_points(truth, id, slot, from, to);
        INFO("query " << q << ": machine " << id << " slot " << slot << " [" << from << ", "
                      << to << ")");
        for (auto* rd : {with_head.get(), without.get()}) {
          bool truncated = true;
          auto got = rd->samples(id, slot, from, to, 1'000'000, &truncated);
          CHECK_FALSE(truncated);
          REQUIRE(got.size() == want.size());
          for (size_t i = 0; i < got.size(); ++i) {
            REQUIRE(got[i].ts_ms == want[i].ts_ms);
            REQUIRE(same(got[i].value, want[i].value));
          }
          const int64_t step = steps[uni(0, 7)];
          const auto agg = static_cast<aggregate>(uni(0, 5));
          auto a = rd->series(id, slot, from, to, step, agg);
          auto b = expected_series(want, step, agg);
          INFO("step " << step << " agg " << static_cast<int>(agg));
          REQUIRE(a.size() == b.size());
          for (size_t i = 0; i < a.size(); ++i) {
            REQUIRE(a[i].ts_ms == b[i].ts_ms);
            REQUIRE(a[i].count == b[i].count);
            REQUIRE(same(a[i].value, b[i].value));  // exactly: one order of additions
          }
        }
      }
    };

    int64_t compactions = 0, late = 0, spills = 0;
    for (int session = 0; session < 6; ++session) {
      if (!w)
        w = writer::open(path, options{}, layout);
      for (int batch = 0; batch < 60; ++batch) {
        std::vector<poll_row> polls;
        for (int64_t n = uni(1, 25); n > 0; --n) {
          const auto [id, slots] = machines[static_cast<size_t>(uni(0, 1))];
          int64_t& t = clock[id];
          const int64_t kind = uni(0, 99);
          int64_t ts = t;
          if (kind < 3)
            ts = t - uni(0, 200'000);  // clock stepped back / a late poll
          else if (kind < 6)
            ts = t;                    // same ts again: a duplicate
          else
            t = ts = t + (kind < 10 ? uni(10'000, 90'000) : uni(100, 1500));
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
          REQUIRE_THROWS_AS(w->commit(bad, {}, {}), db_error);
        }
        w->commit(polls, {}, {});
        remember(truth, polls);
        if (uni(0, 9) == 0) {
          auto r = w->compact(uni(0, 4) == 0);
          compactions += r.chunks > 0;
          late += r.late_polls;
        }
      }
      compare(60);
      spills += w->head_spills();
      if (session % 2 == 0)
        w->close();
      w.reset();  // odd sessions end as a crash does: no close()
    }
    w = writer::open(path, options{}, layout);
    compare(300);
    w->compact(true);
    compare(300);
    REQUIRE(compactions > 3);
    REQUIRE(late > 0);
    if (seed <= 3)
      REQUIRE(spills == 0);
    else
      REQUIRE(spills > 10);
    std::cout << "[compaction property] seed " << seed << ": " << queries << " queries, "
              << compactions << " compactions, " << late << " late polls merged, " << spills
              << " head spills\n";
  }
}

TEST_CASE("retention deletes whole chunks of windows that ended before the cutoff",
          "[storage][compaction][retention]") {
  opened o;
  sqlite3* db = o.w->handle();
  std::vector<poll_row> polls;
  for (int64_t ts = 0; ts < 600'000; ts += 1000) {
    polls.push_back(printer_poll(o.printer, ts, 1));
    polls.push_back({o.placer, ts, {1, 2}});
  }
  o.w->commit(polls, {}, {});
  o.w->compact();  // windows up to 480 s: 4 windows x 2 machines
  REQUIRE(chunk_rows(db) == 8);
  // Cutoff 250 s: windows ending at or before 240 s go; [240, 360) stays whole.
  int64_t chunks = 0, polls_deleted = 0;
  retention_result r;
  do {
    r = o.w->delete_before(250'000, 3);
    CHECK(r.chunks <= 3);
    chunks += r.chunks;
    polls_deleted += r.polls;
  } while (!r.done);
  CHECK(chunks == 4);
  CHECK(polls_deleted == 480);
  CHECK(query_int(db, "SELECT min(start) FROM chunks") == 240'000);
  auto rd = reader::open(o.path, options{}, o.w->shared_head());
  auto pts = rd->samples(o.printer, 0, 0, 1'000'000, 10'000);
  REQUIRE(pts.size() == 360);
  CHECK(pts.front().ts_ms == 240'000);
  // The hot window is never deleted by retention, whatever the cutoff.
  do {
    r = o.w->delete_before(10'000'000, 100);
  } while (!r.done);
  CHECK(rd->samples(o.printer, 0, 0, 1'000'000, 10'000).size() == 120);
}
