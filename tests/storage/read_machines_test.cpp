// tests/storage/read_machines_test: reader::read_machines (the batched reads
// of OEE over a line or the floor, storage/reader_batch.cpp) equals, machine
// by machine, reader::states (its shares; the batch leaves the intervals
// out) and reader::count_increases — and the counts
// equal the reference count_increase, which reads every poll — on a real
// file with 40 machines: random ranges (hour-aligned ends half of the time),
// `now` inside the range, random lookbacks and group sizes, requests with a
// metric the file lacks (slot -1) or a slot twice, late polls before and
// after the compaction that merges them, a reader without the head, a
// machine with no data, one whose state changes and polls all lie before
// most ranges, one that starts late.
#include "storage/counter_hours.hpp"
#include "storage/counters.hpp"

#include "tests/storage/fixture.hpp"

#include <algorithm>
#include <random>

using namespace edgemes::storage;
using namespace edgemes::storage::test;

namespace {

constexpr int64_t hour_ms = 3'600'000;
constexpr int64_t t0 = 1'699'999'200'000;  // an hour boundary
constexpr int64_t span = 4 * hour_ms;
constexpr int n_machines = 40;

struct floor_file {
  edgemes::test::temp_dir dir;
  std::string path = dir.file("floor.db");
  std::unique_ptr<writer> w = writer::open(path, options{});
  std::vector<int64_t> ids;

  floor_file() {
    std::vector<machine_def> defs;
    for (int k = 0; k < n_machines; ++k)
      defs.push_back({"m" + std::to_string(k), "M" + std::to_string(k), "l1", "placer", "sim",
                      {"c0", "c1", "c2", "noise", "temp"}});
    auto bind = w->sync_catalog({{"l1", "Line 1"}}, defs);
    for (int k = 0; k < n_machines; ++k)
      ids.push_back(bind.at("m" + std::to_string(k)).machine_id);
  }
};

// Machine k's polls (every 20 s, offset by k) and state changes. Machine 0
// has none; machine 1 only in the first 30 minutes; machine 2 from 2.5 h on.
void history(std::mt19937_64& rng, int k, int64_t id, std::vector<poll_row>& polls,
             std::vector<state_row>& states) {
  if (k == 0)
    return;
  const int64_t begin = k == 2 ? t0 + 2 * hour_ms + hour_ms / 2 : t0;
  const int64_t end = k == 1 ? t0 + hour_ms / 2 : t0 + span;
  std::vector<double> c{10.0 * k, 0, 5};
  std::uniform_int_distribution<int> step(0, 5), reset(0, 199), gap(0, 10), change(0, 14);
  std::normal_distribution<double> noise(50, 2);
  const std::vector<std::string> texts{"RUN", "IDLE", "DOWN", "SETUP", "weird"};
  std::uniform_int_distribution<size_t> text(0, texts.size() - 1);
  for (int64_t ts = begin + k * 311; ts < end; ts += 20'000) {
    std::vector<double> v(5, NAN);
    for (size_t s = 0; s < c.size(); ++s) {
      c[s] = reset(rng) == 0 ? static_cast<double>(step(rng)) : c[s] + step(rng);
      v[s] = gap(rng) == 0 ? NAN : c[s];
    }
    v[3] = noise(rng);
    polls.push_back({id, ts, std::move(v)});
    if (ts == begin + k * 311 || change(rng) == 0)
      states.push_back({id, ts + 7, texts[text(rng)]});
  }
}

// Commits every machine's history in ts order, 60 polls a batch, with a
// (non-forced) compaction after each, as the writer actor does.
void ingest(writer& w, std::vector<poll_row> polls, std::vector<state_row> states) {
  auto by_ts = [](const auto& a, const auto& b) { return a.ts_ms < b.ts_ms; };
  std::stable_sort(polls.begin(), polls.end(), by_ts);
  std::stable_sort(states.begin(), states.end(), by_ts);
  size_t s = 0;
  for (size_t i = 0; i < polls.size(); i += 60) {
    const size_t j = std::min(polls.size(), i + 60);
    std::vector<poll_row> batch(polls.begin() + static_cast<std::ptrdiff_t>(i),
                                polls.begin() + static_cast<std::ptrdiff_t>(j));
    std::vector<state_row> changes;
    while (s < states.size() && (j == polls.size() || states[s].ts_ms <= polls[j - 1].ts_ms))
      changes.push_back(states[s++]);
    w.commit(batch, changes, {});
    if (w.compaction_due())
      w.compact();
  }
}

int64_t random_time(std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> hours(-1, span / hour_ms + 1);
  std::uniform_int_distribution<int64_t> at(t0 - hour_ms, t0 + span + hour_ms);
  return std::bernoulli_distribution(0.5)(rng) ? t0 + hours(rng) * hour_ms : at(rng);
}

// read_machines == states + count_increases (exactly: the same code) ==
// count_increase (the reference) for every machine, on `n` random calls.
void compare(reader& r, const std::vector<int64_t>& ids, std::mt19937_64& rng, int n) {
  const std::vector<size_t> groups{1, 3, 16, 50, 1000};
  std::uniform_int_distribution<size_t> group(0, groups.size() - 1);
  std::uniform_int_distribution<int64_t> lookback(0, 3 * hour_ms);
  std::uniform_int_distribution<int> slot(-1, 4);  // -1: a metric the file lacks
  std::uniform_int_distribution<int> count(0, 4);
  for (int k = 0; k < n; ++k) {
    int64_t from = random_time(rng), to = random_time(rng);
    if (from > to)
      std::swap(from, to);
    if (from == to)
      to += 1;
    // `now` past the range, or inside it (the states end there).
    const int64_t now = k % 4 == 0 ? from + (to - from) / 3 : t0 + span + hour_ms;
    const int64_t lb = k % 3 == 0 ? kCounterLookbackMs : lookback(rng);
    std::vector<machine_request> req;
    for (int64_t id : ids) {
      machine_request m{id, {}};
      for (int i = count(rng); i > 0; --i)
        m.slots.push_back(slot(rng));
      req.push_back(m);
    }
    std::shuffle(req.begin(), req.end(), rng);
    const size_t g = groups[group(rng)];
    const auto got = r.read_machines(req, from, to, now, lb, g);
    REQUIRE(got.size() == req.size());
    for (size_t i = 0; i < req.size(); ++i) {
      const machine_request& m = req[i];
      INFO("call " << k << ": machine " << m.machine_id << " [" << from << ", " << to << ") now "
                   << now << " lookback " << lb << " group " << g);
      const state_report want = r.states(m.machine_id, from, to, now);
      CHECK(got[i].states.intervals.empty());  // left out: OEE needs the shares
      // The shares equal what the intervals add up to.
      std::map<std::string, int64_t> sum;
      for (const auto& in : want.intervals)
        sum[in.state] += in.to_ms - in.from_ms;
      REQUIRE(sum.size() == want.shares.size());
      for (const auto& sh : want.shares)
        CHECK(sum[sh.state] == sh.ms);
      REQUIRE(got[i].states.shares.size() == want.shares.size());
      for (size_t j = 0; j < want.shares.size(); ++j) {
        CHECK(got[i].states.shares[j].state == want.shares[j].state);
        CHECK(got[i].states.shares[j].ms == want.shares[j].ms);
        CHECK(got[i].states.shares[j].share == want.shares[j].share);
      }
      const auto counted = r.count_increases(m.machine_id, m.slots, from, to, lb);
      REQUIRE(got[i].counted.size() == m.slots.size());
      for (size_t j = 0; j < m.slots.size(); ++j) {
        INFO("slot " << m.slots[j]);
        same(got[i].counted[j], counted[j], false);
        same(got[i].counted[j], count_increase(r, m.machine_id, m.slots[j], from, to, lb),
             m.slots[j] == 3);
      }
    }
  }
}

} // namespace

TEST_CASE("read_machines equals states and count_increases machine by machine on a file of "
          "many machines", "[storage][counters][counter_hours][oee]") {
  floor_file f;
  std::mt19937_64 rng(1414);
  std::vector<poll_row> polls;
  std::vector<state_row> states;
  for (int k = 0; k < n_machines; ++k)
    history(rng, k, f.ids[static_cast<size_t>(k)], polls, states);
  ingest(*f.w, polls, states);
  sqlite3* db = f.w->handle();
  REQUIRE(query_int(db, "SELECT count(DISTINCT hour) FROM counter_hours") == 4);
  REQUIRE(query_int(db, "SELECT count(*) FROM state_changes WHERE machine_id = " +
                            std::to_string(f.ids[0])) == 0);
  REQUIRE(query_int(db, "SELECT max(ts) FROM state_changes WHERE machine_id = " +
                            std::to_string(f.ids[1])) < t0 + hour_ms / 2 + 10);
  auto r = reader::open(f.path, options{}, f.w->shared_head());

  SECTION("compacted history and the hot window, with and without the head") {
    compare(*r, f.ids, rng, 40);
    auto cold = reader::open(f.path, options{});
    compare(*cold, f.ids, rng, 15);
  }
  SECTION("a range after every change of machine 1: its state runs on from before `from`") {
    const auto got = r->read_machines({{f.ids[1], {0}}, {f.ids[0], {0}}}, t0 + 2 * hour_ms,
                                      t0 + 3 * hour_ms, t0 + span);
    REQUIRE(got[0].states.shares.size() == 1);
    CHECK(got[0].states.shares[0].ms == hour_ms);
    CHECK(got[0].states.shares[0].share == 1.0);
    CHECK(got[0].counted[0].values == 0);
    CHECK(got[0].counted[0].has_before);
    CHECK(got[1].states.shares.empty());
    CHECK_FALSE(got[1].counted[0].has_before);
    compare(*r, {f.ids[1], f.ids[0], f.ids[2]}, rng, 20);
  }
  SECTION("late polls: waiting in the head, then merged into their hours") {
    std::vector<poll_row> late;
    std::uniform_int_distribution<int64_t> at(t0, t0 + 3 * hour_ms);
    for (int k = 3; k < n_machines; k += 4) {
      std::vector<double> v(5, NAN);
      v[0] = k % 8 == 3 ? 0 : 1e6;  // a drop (reset) or a jump
      v[1] = 3;
      late.push_back({f.ids[static_cast<size_t>(k)], at(rng) / 1000 * 1000 + 1, v});
    }
    // Machine 0's first poll ever, late, inside the second hour.
    late.push_back({f.ids[0], t0 + hour_ms + 5, {1, 1, 1, 1, 1}});
    f.w->commit(late, {}, {});
    compare(*r, f.ids, rng, 30);
    auto c = f.w->compact(true);
    CHECK(c.late_polls > 0);
    compare(*r, f.ids, rng, 30);
  }
}
