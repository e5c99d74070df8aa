// Retention (storage/retention.cpp, and the writer actor running it between
// batches): old telemetry is deleted in small transactions, each machine's
// state at the cutoff stays known, and freed pages are reused by new rows.
#include "tests/reliability/rel_support.hpp"
#include "tests/storage/fixture.hpp"

#include <csignal>
#include <iostream>
#include <regex>

using namespace edgemes::storage;
using namespace edgemes::storage::test;
using edgemes::test::temp_dir;
using namespace std::chrono_literals;

namespace {

const int64_t day_ms = 86400000;

struct backdated : catalogued_file {
  int64_t cutoff = 999'960'000;  // a multiple of the 120 s compaction window
};

// Polls stored in chunks with ts < before.
int64_t chunk_polls_before(sqlite3* db, int64_t before) {
  return query_int(db, "SELECT count(*) FROM (SELECT DISTINCT c.machine_id, p.ts FROM chunks c, "
                       "edgemes_chunk(c.data) p WHERE p.ts < " + std::to_string(before) + ")");
}

} // namespace

TEST_CASE("retention deletes old telemetry in chunks of at most max_rows rows",
          "[reliability][retention]") {
  backdated b;
  // placer: 5000 old polls and 100 new; printer: 30 old polls.
  b.w->commit(make_polls(b.placer, 5000, 20, b.cutoff - 5000 * 1000, 1000), {}, {});
  b.w->commit(make_polls(b.placer, 100, 20, b.cutoff, 1000), {}, {});
  b.w->commit(make_polls(b.printer, 30, 3, b.cutoff - 30 * 1000, 1000), {}, {});
  b.w->compact(true);  // all of it into chunks: 42 windows of the placer, 1 of the printer
  sqlite3* db = b.w->handle();
  REQUIRE(query_int(db, "SELECT count(*) FROM chunks WHERE start < " + std::to_string(b.cutoff)) ==
          43);

  int64_t polls = 0, calls = 0;
  retention_result r;
  do {
    r = b.w->delete_before(b.cutoff, 8);
    REQUIRE(r.chunks + r.state_changes <= 8);
    polls += r.polls;
    REQUIRE(++calls < 20);
  } while (!r.done);
  CHECK(polls == 5030);
  CHECK(calls >= 6);
  CHECK(chunk_polls_before(db, b.cutoff) == 0);
  CHECK(stored_polls(db) == 100);
  // Caught up: the next call finds nothing.
  r = b.w->delete_before(b.cutoff, 1000);
  CHECK(r.done);
  CHECK(r.chunks == 0);
}

TEST_CASE("retention keeps each machine's last state change before the cutoff",
          "[reliability][retention]") {
  backdated b;
  std::vector<state_row> states;
  const char* names[] = {"RUN", "IDLE"};
  for (int i = 0; i < 50; ++i)
    states.push_back({b.placer, b.cutoff - 100000 + i * 1000, names[i % 2]});
  states.push_back({b.placer, b.cutoff + 5000, "DOWN"});
  states.push_back({b.printer, b.cutoff - 999, "RUN"});  // its only (and current) state
  b.w->commit({}, states, {});

  while (!b.w->delete_before(b.cutoff, 7).done) {
  }
  sqlite3* db = b.w->handle();
  auto placer = std::to_string(b.placer), printer = std::to_string(b.printer);
  // The placer keeps the change in force at the cutoff (the 50th, IDLE) and the newer one.
  CHECK(query_int(db, "SELECT count(*) FROM state_changes WHERE machine_id=" + placer) == 2);
  CHECK(query_text(db, "SELECT state FROM state_changes WHERE machine_id=" + placer +
                           " ORDER BY ts LIMIT 1") == "IDLE");
  CHECK(query_text(db, "SELECT state FROM state_changes WHERE machine_id=" + printer) == "RUN");
  // The writer's state cache still matches: a repeat of the last state is no change.
  auto st = b.w->commit({}, {{b.printer, b.cutoff + 10, "RUN"}}, {});
  CHECK(st.state_changes == 0);
}

TEST_CASE("pages freed by retention are reused by new rows before the file grows",
          "[reliability][retention]") {
  backdated b;
  b.w->commit(make_polls(b.placer, 20000, 20, b.cutoff - 20000 * 1000, 1000), {}, {});
  b.w->compact(true);
  b.w->checkpoint(checkpoint_mode::truncate);
  auto before = b.w->pages();
  while (!b.w->delete_before(b.cutoff, 2000).done) {
  }
  b.w->checkpoint(checkpoint_mode::truncate);
  auto freed = b.w->pages();
  REQUIRE(freed.freelist_count > before.page_count / 2);
  REQUIRE(freed.page_count == before.page_count);
  // Fewer new polls than were deleted fit in the freed pages and use them.
  for (int i = 0; i < 30; ++i)
    b.w->commit(make_polls(b.placer, 1000, 20, b.cutoff + i * 1'000'000, 1000), {}, {});
  auto after = b.w->pages();
  std::cout << "[retention storage] pages=" << before.page_count
            << " freelist after delete=" << freed.freelist_count
            << " after 30000 new polls: pages=" << after.page_count
            << " freelist=" << after.freelist_count << "\n";
  CHECK(after.page_count == before.page_count);
  CHECK(after.freelist_count < freed.freelist_count * 3 / 4);
}

TEST_CASE("the daemon deletes back-dated telemetry in small transactions while ingesting, "
          "and the file does not grow",
          "[reliability][retention]") {
  using namespace edgemes::test;
  using namespace edgemes::test::rel;
  temp_dir dir;
  auto db_path = dir.file("factory.db");
  const int machines = 50, old_rows_per_machine = 600;
  auto sims = sim_machines(machines, 20);
  int64_t old_ts = now_ms() - 30 * day_ms;
  {
    // Back-dated history, written through storage::writer like the daemon would
    // and compacted into chunks.
    layout_options layout;
    layout.window_ms = 5000;
    auto w = writer::open(db_path, options{}, layout);
    std::vector<machine_def> defs;
    for (auto& m : sims)
      defs.push_back({m["id"].get<std::string>(), m["id"].get<std::string>(), "l1",
                      m["type"].get<std::string>(), "sim", metric_names(10)});
    auto bind = w->sync_catalog({{"l1", "l1"}}, defs);
    for (auto& [id, b] : bind) {
      w->commit(make_polls(b.machine_id, old_rows_per_machine, 10, old_ts, 1000),
                {{b.machine_id, old_ts, "RUN"}, {b.machine_id, old_ts + 1000, "IDLE"}}, {});
    }
    w->compact(true);
    w->close();
  }
  int64_t pages0 = 0;
  {
    ro_db db(db_path);
    pages0 = db.integer("PRAGMA page_count");
  }

  int api_port = free_port();
  // Short windows keep the hot window (the ingest log) small next to the history.
  auto cfg = write_config(dir, api_port, db_path, sims,
                          {{"retention_days", 1}, {"chunk_window_ms", 5000},
                           {"compaction_grace_ms", 1000}});
  auto daemon = start_daemon(dir, api_port, cfg);
  ro_db db(db_path);
  auto old = [&] {
    return db.integer("SELECT count(*) FROM " + edgemes::test::stored_polls + " t WHERE ts < " +
                      std::to_string(now_ms() - day_ms));
  };
  int64_t max_pages = 0, max_free = 0, free_now = 0;
  auto sample = [&] {
    max_pages = std::max(max_pages, db.integer("PRAGMA page_count"));
    free_now = db.integer("PRAGMA freelist_count");
    max_free = std::max(max_free, free_now);
  };
  bool deleted = wait_until([&] { sample(); return old() == 0; }, 60s);
  INFO(daemon->log());
  REQUIRE(deleted);
  // Ingest goes on and takes the freed pages: the freelist shrinks, the file does not grow.
  int64_t pages_deleted = db.integer("PRAGMA page_count");
  int64_t max_pages_reuse = 0;
  bool reused = wait_until([&] {
    sample();
    max_pages_reuse = std::max(max_pages_reuse, db.integer("PRAGMA page_count"));
    return free_now < max_free / 2;
  }, 60s);
  REQUIRE(reused);
  CHECK(max_pages_reuse <= pages_deleted);
  auto h = health(api_port);
  daemon->signal(SIGTERM);
  REQUIRE(daemon->wait(15s) == 0);
  auto log = daemon->log();
  std::smatch m;
  REQUIRE(std::regex_search(
      log, m, std::regex(R"(retention: deleted (\d+) chunks \((\d+) polls\) and (\d+) state changes .* in (\d+) transactions of at most 2000 rows)")));
  CHECK(std::stoll(m[2]) == machines * old_rows_per_machine);
  CHECK(std::stoll(m[3]) == machines);  // RUN goes, IDLE (in force at the cutoff) stays
  CHECK(std::stoll(m[4]) >= std::stoll(m[1]) / 2000);
  // While the backlog is deleted (one chunk per tick), ingest may outpace it on a
  // loaded box and grow the file a little; on an idle one it stays within a few pages.
  CHECK(max_pages <= pages0 + pages0 / 2);
  ro_db after(db_path);
  CHECK(after.integrity() == "ok");
  CHECK(after.integer("SELECT count(*) FROM state_changes WHERE ts < " +
                      std::to_string(now_ms() - day_ms)) == machines);
  std::cout << "[retention daemon] deleted " << m[1] << " chunks (" << m[2] << " polls) in " << m[4]
            << " transactions while committing " << h["writer"]["rows_committed"]
            << " new rows; pages before=" << pages0 << " max during run=" << max_pages
            << " when old rows gone=" << pages_deleted << " max while reusing=" << max_pages_reuse
            << " freelist max=" << max_free << " at end=" << free_now << "\n";
}
