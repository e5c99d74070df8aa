#include "tests/storage/fixture.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <tuple>

using namespace edgemes::storage;
using namespace edgemes::storage::test;
using edgemes::test::temp_dir;

TEST_CASE("a new file gets schema version 5 with every table and the samples views",
          "[storage][schema]") {
  temp_dir dir;
  auto w = writer::open(dir.file("edge.db"), options{});
  sqlite3* db = w->handle();
  CHECK(query_int(db, "PRAGMA user_version") == schema_version);
  CHECK(schema_version == 5);
  for (const char* table : {"lines", "machines", "metrics", "chunks", "ingest_log", "compaction",
                            "state_changes", "counter_hours", "products", "bom_revisions", "bom_items",
                            "work_orders", "work_order_runs"}) {
    INFO(table);
    CHECK(query_int(db, std::string("SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                                    "name='") + table + "'") == 1);
  }
  for (const char* gone : {"telemetry", "telemetry_10s"}) {
    INFO(gone);
    CHECK(query_int(db, std::string("SELECT count(*) FROM sqlite_master WHERE name='") + gone +
                            "'") == 0);
  }
  for (const char* view : {"samples", "samples_10s"}) {
    INFO(view);
    CHECK(query_int(db, std::string("SELECT count(*) FROM sqlite_master WHERE type='view' AND "
                                    "name='") + view + "'") == 1);
  }
  CHECK(query_int(db, "SELECT window_ms FROM compaction") == layout_options{}.window_ms);
  CHECK(query_int(db, "SELECT count(*) FROM compaction WHERE boundary IS NULL") == 1);
  CHECK(query_int(db, "SELECT count(*) FROM pragma_table_info('machines') "
                      "WHERE name='polls_missed' AND \"notnull\"=1 AND dflt_value='0'") == 1);
}

TEST_CASE("the chunk width is the file's: a reopen with another window keeps the first",
          "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("edge.db");
  layout_options a;
  a.window_ms = 60'000;
  writer::open(path, options{}, a)->close();
  layout_options b;
  b.window_ms = 300'000;
  auto w = writer::open(path, options{}, b);
  CHECK(w->window_ms() == 60'000);
  CHECK(query_int(w->handle(), "SELECT window_ms FROM compaction") == 60'000);
}

TEST_CASE("samples_10s aggregates the samples view into 10 s buckets", "[storage][schema]") {
  catalogued_file f;
  // Two buckets of the printer: 10..19 s and 20..21 s; slot 0 = 1, 2, 3 ...
  std::vector<poll_row> polls;
  for (int i = 0; i < 12; ++i)
    polls.push_back({f.printer, 10'000 + i * 1000, {static_cast<double>(i + 1), 7, NAN}});
  f.w->commit({polls.begin(), polls.begin() + 5}, {}, {});
  f.w->compact(true);  // some in a chunk, the rest in the log: the view reads both
  f.w->commit({polls.begin() + 5, polls.end()}, {}, {});
  auto row = [&](int64_t ts, const char* metric) {
    return query_text(f.w->handle(),
                      "SELECT count || ' ' || sum || ' ' || min || ' ' || max || ' ' || last "
                      "FROM samples_10s WHERE machine='smt1-printer1' AND ts=" +
                          std::to_string(ts) + " AND metric='" + metric + "'");
  };
  CHECK(row(10'000, "temp_c") == "10 55.0 1.0 10.0 10.0");
  CHECK(row(20'000, "temp_c") == "2 23.0 11.0 12.0 12.0");
  CHECK(row(10'000, "speed") == "10 70.0 7.0 7.0 7.0");
  CHECK(row(10'000, "cycle_time_s").empty());  // no values: no row
}

TEST_CASE("the writer creates missing parent directories", "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("a/b/edge.db");
  auto w = writer::open(path, options{});
  CHECK(std::filesystem::exists(path));
}

TEST_CASE("reopening an existing file keeps its schema and data", "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("edge.db");
  int64_t objects = 0;
  {
    auto w = writer::open(path, options{});
    w->sync_catalog(test_lines(), test_machines());
    objects = query_int(w->handle(), "SELECT count(*) FROM sqlite_master");
    w->close();
  }
  auto w = writer::open(path, options{});
  CHECK(query_int(w->handle(), "PRAGMA user_version") == schema_version);
  CHECK(query_int(w->handle(), "SELECT count(*) FROM sqlite_master") == objects);
  CHECK(query_int(w->handle(), "SELECT count(*) FROM machines") == 2);
}

TEST_CASE("a file written by a newer build is refused by writer and reader with both versions",
          "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("edge.db");
  writer::open(path, options{})->close();
  {
    raw_db raw(path);
    raw.exec("PRAGMA user_version=" + std::to_string(schema_version + 1));
  }
  try {
    writer::open(path, options{});
    FAIL("writer opened a newer file");
  } catch (const db_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("database schema version " + std::to_string(schema_version + 1) +
                                          " is newer than this build (" +
                                          std::to_string(schema_version) + ")"));
    CHECK_THAT(e.what(), Catch::Contains(path));
  }
  try {
    reader::open(path, options{});
    FAIL("reader opened a newer file");
  } catch (const db_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("database schema version " + std::to_string(schema_version + 1) +
                                          " is newer than this build (" +
                                          std::to_string(schema_version) + ")"));
  }
}

TEST_CASE("a reader refuses a file the writer has not set up", "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("plain.db");
  {
    raw_db raw(path);
    raw.exec("CREATE TABLE t(x)");
  }
  REQUIRE_THROWS_WITH(reader::open(path, options{}),
                      Catch::Contains("schema version 0") && Catch::Contains("writer"));
}

TEST_CASE("the writer's pragmas are in force on its connection", "[storage][schema]") {
  temp_dir dir;
  options opts;
  int64_t expected_sync = 1;
  SECTION("synchronous NORMAL") {}
  SECTION("synchronous FULL") {
    opts.synchronous = "full";
    expected_sync = 2;
  }
  opts.busy_timeout_ms = 1234;
  opts.wal_autocheckpoint_pages = 500;
  opts.journal_size_limit_bytes = 1 << 20;
  auto w = writer::open(dir.file("edge.db"), opts);
  sqlite3* db = w->handle();
  CHECK(query_text(db, "PRAGMA journal_mode") == "wal");
  CHECK(query_int(db, "PRAGMA synchronous") == expected_sync);
  CHECK(query_int(db, "PRAGMA cache_size") == -64000);
  CHECK(query_int(db, "PRAGMA foreign_keys") == 1);
  CHECK(query_int(db, "PRAGMA busy_timeout") == 1234);
  CHECK(query_int(db, "PRAGMA wal_autocheckpoint") == 500);
  CHECK(query_int(db, "PRAGMA journal_size_limit") == 1 << 20);
  CHECK(query_int(db, "PRAGMA secure_delete") == 2);  // FAST: no write just to zero a freed page
}

TEST_CASE("a reader's pragmas are in force and it is query-only", "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("edge.db");
  auto w = writer::open(path, options{});
  options opts;
  opts.synchronous = "FULL";
  opts.cache_size_kib = 2000;
  opts.busy_timeout_ms = 777;
  auto r = reader::open(path, opts);
  sqlite3* db = r->handle();
  CHECK(query_text(db, "PRAGMA journal_mode") == "wal");
  CHECK(query_int(db, "PRAGMA synchronous") == 2);
  CHECK(query_int(db, "PRAGMA cache_size") == -2000);
  CHECK(query_int(db, "PRAGMA foreign_keys") == 1);
  CHECK(query_int(db, "PRAGMA busy_timeout") == 777);
  CHECK(query_int(db, "PRAGMA query_only") == 1);
  CHECK(sqlite3_db_readonly(db, "main") == 1);
}

TEST_CASE("an unknown synchronous mode is refused with the allowed values", "[storage][schema]") {
  temp_dir dir;
  options opts;
  opts.synchronous = "NORMAL; DROP TABLE lines";
  REQUIRE_THROWS_WITH(writer::open(dir.file("edge.db"), opts),
                      Catch::Contains("OFF, NORMAL, FULL or EXTRA"));
}

TEST_CASE("a reader of a file that never appears gives up with SQLITE_CANTOPEN",
          "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("missing/edge.db");
  try {
    reader::open(path, options{});
    FAIL("reader opened a missing file");
  } catch (const db_error& e) {
    CHECK((e.code() & 0xff) == SQLITE_CANTOPEN);
    CHECK_THAT(e.what(), Catch::Contains(path));
  }
}

namespace {
// SQLite's heap after writing `polls` polls of the placer (20 values each)
// through a writer whose own cache_size would hold all of it.
int64_t heap_after_writing(int polls) {
  catalogued_file f;
  std::vector<poll_row> batch;
  int64_t ts = 1'700'000'000'000;
  for (int i = 0; i < polls; ++i) {
    poll_row p{f.placer, ts + i * 1000, {}};
    for (int m = 0; m < 20; ++m)  // not decimals: ~7 bytes a value even compressed
      p.values.push_back(1000.0 * m + std::sin(i * 0.37 + m));
    batch.push_back(std::move(p));
    if (batch.size() == 5000) {
      f.w->commit(batch, {}, {});
      batch.clear();
    }
  }
  f.w->commit(batch, {}, {});
  return sqlite_heap().used_bytes;
}
} // namespace

TEST_CASE("the SQLite heap limit keeps every page cache together under it", "[storage]") {
  // ~11 MB in the ingest log: the writer's default cache (64 000 KiB) keeps it all
  // unless the soft heap limit makes the cache recycle its pages.
  REQUIRE(sqlite_heap().soft_limit_bytes == 0);
  int64_t unlimited = heap_after_writing(80000);
  set_sqlite_heap_limit(3 << 20);
  CHECK(sqlite_heap().soft_limit_bytes == (3 << 20));
  int64_t limited = heap_after_writing(80000);
  set_sqlite_heap_limit(0);
  CHECK(sqlite_heap().soft_limit_bytes == 0);
  INFO("heap without limit " << unlimited << " B, with a 3 MiB limit " << limited << " B");
  CHECK(unlimited > (8 << 20));
  CHECK(limited < (4 << 20));
}

namespace {

// A copy of tests/storage/data/v3-factory.db (written by the schema v3 release).
std::string copy_v3_file(const temp_dir& dir) {
  const std::string path = dir.file("v3.db");
  std::filesystem::copy_file(EDGEMES_SOURCE_DIR "/tests/storage/data/v3-factory.db", path);
  return path;
}

// machine id -> ts -> values, from a version 3 file's JSON rows.
std::map<int64_t, std::map<int64_t, std::vector<double>>> v3_polls(const std::string& path) {
  std::map<int64_t, std::map<int64_t, std::vector<double>>> out;
  raw_db raw(path);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw.get(), "SELECT machine_id, ts, v FROM telemetry", -1, &s,
                             nullptr) == SQLITE_OK);
  std::vector<double> values;
  while (sqlite3_step(s) == SQLITE_ROW) {
    REQUIRE(decode_all(reinterpret_cast<const char*>(sqlite3_column_text(s, 2)),
                       static_cast<size_t>(sqlite3_column_bytes(s, 2)), values));
    out[sqlite3_column_int64(s, 0)][sqlite3_column_int64(s, 1)] = values;
  }
  sqlite3_finalize(s);
  return out;
}

} // namespace

TEST_CASE("a version 3 file written by the previous release is migrated in place, every sample kept",
          "[storage][schema]") {
  temp_dir dir;
  const std::string path = copy_v3_file(dir);
  const auto want = v3_polls(path);
  int64_t samples = 0;
  for (const auto& [m, polls] : want)
    for (const auto& [ts, v] : polls)
      for (double x : v)
        samples += std::isfinite(x) ? 1 : 0;
  REQUIRE(samples == 2906);
  REQUIRE_THROWS_WITH(reader::open(path, options{}),
                      Catch::Contains("schema version 3 is not this build's (5)"));

  auto w = writer::open(path, options{});
  sqlite3* db = w->handle();
  CHECK(query_int(db, "PRAGMA user_version") == schema_version);
  CHECK(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('telemetry', "
                      "'telemetry_10s')") == 0);
  CHECK(query_int(db, "SELECT count(*) FROM samples") == samples);
  CHECK(query_int(db, "SELECT count(*) FROM state_changes") == 6);
  CHECK(query_int(db, "SELECT count(*) FROM machines") == 5);
  CHECK(stored_polls(db) == 408);
  CHECK(query_int(db, "SELECT count(*) FROM chunks") > 0);       // older windows
  CHECK(query_int(db, "SELECT count(*) FROM ingest_log") > 0);   // the newest window
  CHECK(query_text(db, "PRAGMA integrity_check") == "ok");

  // Every poll reads back bit for bit through the daemon's reader, with and
  // without the writer's head.
  auto with_head = reader::open(path, options{}, w->shared_head());
  auto without = reader::open(path, options{});
  for (const auto& [machine, polls] : want) {
    size_t slots = 0;
    for (const auto& [ts, v] : polls)
      slots = std::max(slots, v.size());
    for (size_t slot = 0; slot < slots; ++slot) {
      std::vector<point> expected;
      for (const auto& [ts, v] : polls)
        if (slot < v.size() && std::isfinite(v[slot]))
          expected.push_back({ts, v[slot]});
      for (auto* r : {with_head.get(), without.get()}) {
        auto got = r->samples(machine, static_cast<int>(slot), INT64_MIN, INT64_MAX, 1'000'000);
        INFO("machine " << machine << " slot " << slot);
        REQUIRE(got.size() == expected.size());
        for (size_t i = 0; i < got.size(); ++i) {
          REQUIRE(got[i].ts_ms == expected[i].ts_ms);
          REQUIRE(got[i].value == expected[i].value);
        }
      }
    }
  }
  // The migrated file goes on: new polls, a compaction, a reopen.
  const int64_t placer = w->sync_catalog({{"smt1", "SMT line 1"}},
                                         {{"smt1-placer1", "", "smt1", "placer", "sim",
                                           {"placements_total"}}})
                             .at("smt1-placer1")
                             .machine_id;
  const int64_t later = want.at(placer).rbegin()->first + 600'000;
  CHECK(w->commit({{placer, later, {1}}}, {}, {}).rows == 1);
  w->compact(true);
  w->close();
  w = writer::open(path, options{});
  CHECK(stored_polls(w->handle()) == 409);
}

TEST_CASE("the stock sqlite3 shell reads every sample of a file through the samples view",
          "[storage][schema][shell]") {
  const std::string shell = "/usr/bin/sqlite3";
  REQUIRE(std::filesystem::exists(shell));  // tools/setup.sh installs Debian's sqlite3
  catalogued_file f;
  // Decimals, counters, non-decimal doubles, gaps; some in chunks, the rest in the log.
  std::vector<poll_row> polls;
  std::map<std::tuple<std::string, std::string, int64_t>, double> want;
  for (int i = 0; i < 400; ++i) {
    poll_row p{f.printer, 1'700'000'000'000 + i * 1000,
               {20.0 + (i % 7) * 0.1, static_cast<double>(i / 3), std::sin(i) * 1e3}};
    if (i % 11 == 0)
      p.values[1] = NAN;
    const char* names[] = {"temp_c", "speed", "cycle_time_s"};
    for (int s = 0; s < 3; ++s)
      if (std::isfinite(p.values[static_cast<size_t>(s)]))
        want[{"smt1-printer1", names[s], p.ts_ms}] = p.values[static_cast<size_t>(s)];
    polls.push_back(std::move(p));
  }
  f.w->commit({polls.begin(), polls.begin() + 300}, {}, {});
  f.w->compact(true);
  f.w->commit({polls.begin() + 300, polls.end()}, {}, {});
  f.w->close();
  REQUIRE(query_int(raw_db(f.path).get(), "SELECT count(*) FROM chunks") > 0);

  const std::string log = f.dir.file("shell.log");
  edgemes::test::process p(
      {shell, f.path, "-cmd", std::string(".load ") + EDGEMES_BINARY_DIR + "/bin/edgemes",
       "SELECT machine, metric, ts, printf('%!.17g', value) FROM samples ORDER BY ts, metric"},
      log);
  REQUIRE(p.wait(std::chrono::seconds(20)) == 0);
  std::istringstream in(p.log());
  size_t rows = 0;
  for (std::string line; std::getline(in, line); ++rows) {
    std::istringstream cols(line);
    std::string machine, metric, ts, value;
    std::getline(cols, machine, '|');
    std::getline(cols, metric, '|');
    std::getline(cols, ts, '|');
    std::getline(cols, value, '|');
    INFO(line);
    auto it = want.find({machine, metric, std::stoll(ts)});
    REQUIRE(it != want.end());
    REQUIRE(std::strtod(value.c_str(), nullptr) == it->second);
  }
  CHECK(rows == want.size());
}

namespace {

// Every sample of a file as "machine metric ts value-bits", read through the
// samples view (chunks and ingest log alike).
std::vector<std::string> all_samples(sqlite3* db) {
  std::vector<std::string> out;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT machine, metric, ts, value FROM samples "
                                 "ORDER BY machine, metric, ts", -1, &s, nullptr) == SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const double v = sqlite3_column_double(s, 3);
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    std::ostringstream row;
    row << sqlite3_column_text(s, 0) << ' ' << sqlite3_column_text(s, 1) << ' '
        << sqlite3_column_int64(s, 2) << ' ' << bits;
    out.push_back(row.str());
  }
  sqlite3_finalize(s);
  return out;
}

} // namespace

TEST_CASE("a version 4 file written by the current release gains the MES tables, every sample "
          "kept", "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("v4.db");
  std::filesystem::copy_file(EDGEMES_SOURCE_DIR "/tests/storage/data/v4-factory.db", path);
  std::vector<std::string> before;
  {
    raw_db raw(path);
    REQUIRE(query_int(raw.get(), "PRAGMA user_version") == 4);
    before = all_samples(raw.get());
  }
  REQUIRE(before.size() == 3052);
  REQUIRE_THROWS_WITH(reader::open(path, options{}),
                      Catch::Contains("schema version 4 is not this build's (5)"));

  int from = 0, to = 0;
  layout_options layout;
  layout.before_migration = [&](int f, int t) {
    from = f;
    to = t;
  };
  auto w = writer::open(path, options{}, layout);
  CHECK(from == 4);
  CHECK(to == 5);
  sqlite3* db = w->handle();
  CHECK(query_int(db, "PRAGMA user_version") == 5);
  for (const char* table : {"products", "bom_revisions", "bom_items", "work_orders",
                            "work_order_runs"}) {
    INFO(table);
    CHECK(query_int(db, std::string("SELECT count(*) FROM ") + table) == 0);
  }
  CHECK(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                      "name='work_orders_running' AND sql LIKE '%WHERE status = ''running''%'") ==
        1);
  CHECK(all_samples(db) == before);
  CHECK(query_int(db, "SELECT count(*) FROM state_changes") == 6);
  CHECK(query_int(db, "SELECT count(*) FROM chunks") == 15);
  CHECK(query_int(db, "SELECT count(*) FROM ingest_log") == 22);
  CHECK(query_text(db, "PRAGMA integrity_check") == "ok");
  CHECK(query_text(db, "PRAGMA foreign_key_check") == "");
  w->close();
  // Reopened: nothing to migrate, readers accept it.
  from = 0;
  w = writer::open(path, options{}, layout);
  CHECK(from == 0);
  CHECK_NOTHROW(reader::open(path, options{}));
}
