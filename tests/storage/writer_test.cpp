#include "tests/storage/fixture.hpp"

#include <filesystem>

using namespace edgemes::storage;
using namespace edgemes::storage::test;
using edgemes::test::temp_dir;

namespace {

using opened = catalogued_file;

int64_t count_samples(const std::vector<poll_row>& polls) {
  int64_t n = 0;
  for (const auto& p : polls)
    for (double v : p.values)
      n += std::isnan(v) ? 0 : 1;
  return n;
}

} // namespace

TEST_CASE("a batch of polls is stored as one ingest log row with every sample readable",
          "[storage][writer]") {
  opened o;
  const auto polls = make_polls(o.placer, 1000, 20, 1'000'000, 1000);
  const int64_t expected = count_samples(polls);
  commit_stats st = o.w->commit(polls, {}, {});
  CHECK(st.rows == 1000);
  CHECK(st.samples == expected);
  CHECK(st.duplicates == 0);

  sqlite3* db = o.w->handle();
  CHECK(query_int(db, "SELECT count(*) FROM ingest_log") == 1);
  CHECK(stored_polls(db) == 1000);
  CHECK(query_int(db, "SELECT count(*) FROM samples") == expected);
  CHECK(query_int(db, "SELECT count(*) FROM samples WHERE machine='smt1-placer1' AND metric='m3'") ==
        1000 - 1000 / 7 - 1);  // (i + 3) % 7 == 0 for 142 of 1000 polls
  CHECK(query_int(db, "SELECT value FROM samples WHERE machine='smt1-placer1' AND metric='m2' "
                      "ORDER BY ts LIMIT 1") == 2);

  auto r = reader::open(o.path, options{});
  int64_t via_reader = 0;
  for (int slot = 0; slot < 20; ++slot) {
    bool truncated = true;
    auto pts = r->samples(o.placer, slot, 0, INT64_MAX, 1'000'000, &truncated);
    CHECK_FALSE(truncated);
    via_reader += static_cast<int64_t>(pts.size());
    for (const auto& p : pts) {
      const int64_t i = (p.ts_ms - 1'000'000) / 1000;
      REQUIRE(p.value == i * 100.0 + slot);
    }
  }
  CHECK(via_reader == expected);
}

TEST_CASE("a poll stored twice is counted as a duplicate and kept once", "[storage][writer]") {
  opened o;
  auto polls = make_polls(o.printer, 10, 3, 5000, 100);
  o.w->commit(polls, {}, {});
  polls[0].values = {99, 99, 99};  // same (machine, ts): the first one wins
  commit_stats st = o.w->commit(polls, {}, {});
  CHECK(st.rows == 0);
  CHECK(st.duplicates == 10);
  CHECK(st.samples == 0);
  CHECK(stored_polls(o.w->handle()) == 10);
  CHECK(query_int(o.w->handle(), "SELECT count(*) FROM samples WHERE value = 99") == 0);
  // Also once the first copy is in a chunk.
  o.w->compact(true);
  CHECK(o.w->commit(polls, {}, {}).duplicates == 10);
  CHECK(stored_polls(o.w->handle()) == 10);
  CHECK(query_int(o.w->handle(), "SELECT count(*) FROM samples WHERE value = 99") == 0);
}

TEST_CASE("only state changes are stored, in time order", "[storage][writer]") {
  opened o;
  commit_stats st = o.w->commit({}, {{o.placer, 100, "idle"}, {o.placer, 200, "idle"},
                                     {o.placer, 300, "running"}, {o.printer, 300, "running"},
                                     {o.placer, 250, "error"}},  // older than the last: skipped
                                {});
  CHECK(st.state_changes == 3);
  st = o.w->commit({}, {{o.placer, 400, "running"}, {o.placer, 500, "idle"}}, {});
  CHECK(st.state_changes == 1);
  CHECK(query_int(o.w->handle(), "SELECT count(*) FROM state_changes") == 4);
  CHECK(query_text(o.w->handle(), "SELECT group_concat(state, ',') FROM (SELECT state FROM "
                                  "state_changes WHERE machine_id=" +
                                      std::to_string(o.placer) + " ORDER BY ts)") ==
        "idle,running,idle");
}

TEST_CASE("the last stored state survives a reopen of the writer", "[storage][writer]") {
  opened o;
  o.w->commit({}, {{o.placer, 100, "running"}}, {});
  o.w->close();
  auto w = writer::open(o.path, options{});
  commit_stats st = w->commit({}, {{o.placer, 200, "running"}, {o.placer, 50, "idle"}}, {});
  CHECK(st.state_changes == 0);
  st = w->commit({}, {{o.placer, 300, "idle"}}, {});
  CHECK(st.state_changes == 1);
}

TEST_CASE("a machine's status is written to its row", "[storage][writer]") {
  opened o;
  status_row s{o.printer, "offline", 1000, 900, "connection refused", 5, 2, 1, 4};
  o.w->commit({}, {}, {s});
  auto r = reader::open(o.path, options{});
  auto m = r->machine("smt1-printer1");
  REQUIRE(m);
  CHECK(m->status == "offline");
  CHECK(m->last_poll_ms == 1000);
  CHECK(m->last_ok_ms == 900);
  CHECK(m->last_error == "connection refused");
  CHECK(m->polls_ok == 5);
  CHECK(m->polls_failed == 2);
  CHECK(m->poll_problems == 1);
  CHECK(m->polls_missed == 4);
  CHECK(r->machines().at(1).polls_missed == 4);
}

TEST_CASE("deleting a line removes its machines, metrics, telemetry and states",
          "[storage][writer]") {
  opened o;
  o.w->commit(make_polls(o.placer, 5, 20, 0, 10), {{o.placer, 1, "idle"}}, {});
  o.w->compact(true);
  o.w->commit(make_polls(o.placer, 5, 20, 1'000'000, 10), {}, {});  // these stay in the log
  o.w->close();
  raw_db raw(o.path);
  raw.exec("PRAGMA foreign_keys=ON");
  raw.exec("DELETE FROM lines WHERE ident='smt1'");
  for (const char* table : {"machines", "metrics", "chunks", "state_changes", "samples"}) {
    INFO(table);
    CHECK(query_int(raw.get(), std::string("SELECT count(*) FROM ") + table) == 0);
  }
}

TEST_CASE("metric slots are append-only across catalog syncs", "[storage][writer]") {
  opened o;
  CHECK(o.bind.at("smt1-printer1").slots == std::vector<int>{0, 1, 2});
  o.w->commit({{o.printer, 10, {1, 2, 3}}}, {}, {});

  auto machines = test_machines();
  machines[1].metric_names = {"cycle_time_s", "pressure", "temp_c"};  // speed dropped
  auto bind = o.w->sync_catalog(test_lines(), machines);
  CHECK(bind.at("smt1-printer1").machine_id == o.printer);
  CHECK(bind.at("smt1-printer1").slots == std::vector<int>{2, 3, 0});

  machines[1].metric_names = {"speed", "pressure"};
  bind = o.w->sync_catalog(test_lines(), machines);
  CHECK(bind.at("smt1-printer1").slots == std::vector<int>{1, 3});
  CHECK(query_int(o.w->handle(), "SELECT count(*) FROM metrics WHERE machine_id=" +
                                     std::to_string(o.printer)) == 4);
  CHECK(query_int(o.w->handle(),
                  "SELECT value FROM samples WHERE machine='smt1-printer1' AND metric='cycle_time_s'") ==
        3);
}

TEST_CASE("a machine dropped from the config is kept unconfigured with its history",
          "[storage][writer]") {
  opened o;
  o.w->commit(make_polls(o.printer, 3, 3, 0, 10), {}, {{o.printer, "online", 1, 1, "", 1, 0, 0}});
  auto machines = test_machines();
  machines.pop_back();
  auto lines = test_lines();
  lines.push_back({"smt2", "SMT line 2"});
  machines[0].line_ident = "smt2";  // a machine may move to another line
  auto bind = o.w->sync_catalog(lines, machines);
  CHECK(bind.count("smt1-printer1") == 0);
  CHECK(bind.at("smt1-placer1").machine_id == o.placer);

  auto r = reader::open(o.path, options{});
  auto all = r->machines();
  REQUIRE(all.size() == 2);
  CHECK(all[0].ident == "smt1-placer1");
  CHECK(all[0].configured);
  CHECK(all[0].line_ident == "smt2");
  CHECK(all[1].ident == "smt1-printer1");
  CHECK_FALSE(all[1].configured);
  CHECK(all[1].status == "unknown");
  CHECK(r->samples(o.printer, 0, 0, 1000, 100).size() == 2);  // poll 0 slot 0 is missing

  machines = test_machines();
  bind = o.w->sync_catalog(test_lines(), machines);
  CHECK(bind.at("smt1-printer1").machine_id == o.printer);
  CHECK(r->machine("smt1-printer1")->configured);
}

TEST_CASE("a machine on an unknown line is refused by name", "[storage][writer]") {
  opened o;
  auto machines = test_machines();
  machines[0].line_ident = "nope";
  REQUIRE_THROWS_WITH(o.w->sync_catalog(test_lines(), machines),
                      Catch::Contains("smt1-placer1") && Catch::Contains("'nope'"));
  CHECK(query_int(o.w->handle(), "SELECT configured FROM machines WHERE ident='smt1-printer1'") == 1);
}

TEST_CASE("a failed commit throws, rolls back everything and can be retried",
          "[storage][writer]") {
  opened o;
  o.w->commit({}, {{o.placer, 1, "idle"}}, {});
  auto polls = make_polls(o.placer, 10, 20, 1000, 10);
  std::vector<state_row> states{{o.placer, 2000, "running"}};
  std::vector<status_row> statuses{{o.placer, "online", 2000, 2000, "", 10, 0, 0}};
  auto bad = polls;
  bad.push_back({9999, 5000, {1}});  // no such machine: FOREIGN KEY fails
  try {
    o.w->commit(bad, states, statuses);
    FAIL("commit with an unknown machine succeeded");
  } catch (const db_error& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("commit:"));
    CHECK_THAT(e.what(), Catch::Contains("9999"));
    CHECK_THAT(e.what(), Catch::Contains("FOREIGN KEY"));
    CHECK(e.code() == SQLITE_CONSTRAINT_FOREIGNKEY);
  }
  sqlite3* db = o.w->handle();
  CHECK(sqlite3_get_autocommit(db) == 1);
  CHECK(query_int(db, "SELECT count(*) FROM ingest_log") == 0);
  CHECK(query_int(db, "SELECT count(*) FROM state_changes") == 1);
  CHECK(query_text(db, "SELECT status FROM machines WHERE ident='smt1-placer1'") == "unknown");

  // The state cache did not see the rolled-back change: the retry stores it.
  commit_stats st = o.w->commit(polls, states, statuses);
  CHECK(st.rows == 10);
  CHECK(st.state_changes == 1);
  CHECK(query_text(db, "SELECT status FROM machines WHERE ident='smt1-placer1'") == "online");
}

TEST_CASE("checkpoints run on the writer and report the WAL frames", "[storage][writer]") {
  opened o;
  o.w->commit(make_polls(o.placer, 200, 20, 0, 10), {}, {});
  CHECK(o.w->wal_size_bytes() > 0);
  checkpoint_result c = o.w->checkpoint(checkpoint_mode::passive);
  CHECK(c.busy == 0);
  CHECK(c.wal_frames > 0);
  CHECK(c.checkpointed == c.wal_frames);
  c = o.w->checkpoint(checkpoint_mode::truncate);
  CHECK(c.busy == 0);
  CHECK(o.w->wal_size_bytes() == 0);
}

TEST_CASE("close checkpoints the WAL away and is idempotent", "[storage][writer]") {
  opened o;
  auto r = reader::open(o.path, options{});  // a reader open keeps the -wal file around
  o.w->commit(make_polls(o.placer, 200, 20, 0, 10), {}, {});
  REQUIRE(o.w->wal_size_bytes() > 0);
  o.w->close();
  CHECK(o.w->handle() == nullptr);
  CHECK(o.w->wal_size_bytes() == 0);
  o.w->close();
  REQUIRE_THROWS_AS(o.w->commit({}, {}, {}), db_error);
  CHECK(r->samples(o.placer, 1, 0, INT64_MAX, 10000).size() > 0);
}
