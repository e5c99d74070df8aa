#include "tests/storage/fixture.hpp"

#include <filesystem>

using namespace edgemes::storage;
using namespace edgemes::storage::test;
using edgemes::test::temp_dir;

namespace {

// (machine_id, ts) -> v of every rollup row.
std::map<std::pair<int64_t, int64_t>, std::string> rollup_rows(sqlite3* db) {
  std::map<std::pair<int64_t, int64_t>, std::string> out;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT machine_id, ts, v FROM telemetry_10s", -1, &s, nullptr) ==
          SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW)
    out[{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1)}] =
        reinterpret_cast<const char*>(sqlite3_column_text(s, 2));
  sqlite3_finalize(s);
  return out;
}

} // namespace

TEST_CASE("a new file gets schema version 3 with every table and the samples views",
          "[storage][schema]") {
  temp_dir dir;
  auto w = writer::open(dir.file("edge.db"), options{});
  sqlite3* db = w->handle();
  CHECK(query_int(db, "PRAGMA user_version") == schema_version);
  CHECK(schema_version == 3);
  for (const char* table : {"lines", "machines", "metrics", "telemetry", "telemetry_10s",
                            "state_changes"}) {
    INFO(table);
    CHECK(query_int(db, std::string("SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                                    "name='") + table + "'") == 1);
  }
  for (const char* view : {"samples", "samples_10s"}) {
    INFO(view);
    CHECK(query_int(db, std::string("SELECT count(*) FROM sqlite_master WHERE type='view' AND "
                                    "name='") + view + "'") == 1);
  }
  CHECK(query_int(db, "SELECT count(*) FROM pragma_table_info('machines') "
                      "WHERE name='polls_missed' AND \"notnull\"=1 AND dflt_value='0'") == 1);
}

TEST_CASE("a version 1 file is migrated to version 3 with its rollups backfilled",
          "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("edge.db");
  std::map<std::pair<int64_t, int64_t>, std::string> written;
  std::map<std::string, machine_binding> bind;
  {
    auto w = writer::open(path, options{});
    bind = w->sync_catalog(test_lines(), test_machines());
    w->commit(make_polls(bind.at("smt1-placer1").machine_id, 300, 20, 1'000'000, 700), {}, {});
    w->commit(make_polls(bind.at("smt1-printer1").machine_id, 40, 3, 2'000'500, 1000), {}, {});
    w->close();  // every bucket has its row, the newest ones too
  }
  {
    raw_db raw(path);
    written = rollup_rows(raw.get());
  }
  REQUIRE(written.size() == 21 + 4);
  {
    // Back to version 1: what an older build wrote.
    raw_db raw(path);
    raw.exec("DROP VIEW samples_10s; DROP TABLE telemetry_10s; "
             "ALTER TABLE machines DROP COLUMN polls_missed; PRAGMA user_version=1");
  }
  REQUIRE_THROWS_WITH(reader::open(path, options{}),
                      Catch::Contains("schema version 1 is not this build's (3)"));

  auto w = writer::open(path, options{});
  CHECK(query_int(w->handle(), "PRAGMA user_version") == 3);
  auto migrated = rollup_rows(w->handle());
  // Every bucket but each machine's newest, byte for byte what the writer wrote.
  CHECK(migrated.size() == written.size() - 2);
  for (const auto& [key, v] : migrated) {
    INFO("machine " << key.first << " bucket " << key.second);
    CHECK(written.at(key) == v);
  }
  // The newest buckets are the writer's open ones: a later poll closes them.
  w->commit({{bind.at("smt1-placer1").machine_id, 5'000'000, {1}},
             {bind.at("smt1-printer1").machine_id, 5'000'000, {1}}},
            {}, {});
  migrated = rollup_rows(w->handle());
  for (const auto& [key, v] : written) {
    INFO("machine " << key.first << " bucket " << key.second);
    CHECK(migrated.at(key) == v);
  }
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
    raw.exec("PRAGMA user_version=4");
  }
  try {
    writer::open(path, options{});
    FAIL("writer opened a newer file");
  } catch (const db_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("database schema version 4 is newer than this build (3)"));
    CHECK_THAT(e.what(), Catch::Contains(path));
  }
  try {
    reader::open(path, options{});
    FAIL("reader opened a newer file");
  } catch (const db_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("database schema version 4 is newer than this build (3)"));
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
    for (int m = 0; m < 20; ++m)
      p.values.push_back(1000.0 * m + i * 0.37);  // distinct digits: ~200 B a row
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
  // ~10 MB of telemetry: the writer's default cache (64 000 KiB) keeps it all
  // unless the soft heap limit makes the cache recycle its pages.
  REQUIRE(sqlite_heap().soft_limit_bytes == 0);
  int64_t unlimited = heap_after_writing(50000);
  set_sqlite_heap_limit(3 << 20);
  CHECK(sqlite_heap().soft_limit_bytes == (3 << 20));
  int64_t limited = heap_after_writing(50000);
  set_sqlite_heap_limit(0);
  CHECK(sqlite_heap().soft_limit_bytes == 0);
  INFO("heap without limit " << unlimited << " B, with a 3 MiB limit " << limited << " B");
  CHECK(unlimited > (8 << 20));
  CHECK(limited < (4 << 20));
}

TEST_CASE("a version 2 file gets the samples_10s view that reads every rollup form",
          "[storage][schema]") {
  temp_dir dir;
  const std::string path = dir.file("edge.db");
  int64_t placer = 0;
  {
    auto w = writer::open(path, options{});
    placer = w->sync_catalog(test_lines(), test_machines()).at("smt1-placer1").machine_id;
  }
  {
    // What a version 2 build left: its view, and rollups in the general form only.
    raw_db raw(path);
    raw.exec("DROP VIEW samples_10s;"
             "CREATE VIEW samples_10s(machine, metric, ts, count, sum, min, max, last) AS "
             "SELECT mc.ident, m.name, r.ts, json_extract(r.v, '$[' || m.slot || '][0]') AS n, "
             "json_extract(r.v, '$[' || m.slot || '][1]'), json_extract(r.v, '$[' || m.slot || '][2]'), "
             "json_extract(r.v, '$[' || m.slot || '][3]'), json_extract(r.v, '$[' || m.slot || '][4]') "
             "FROM telemetry_10s r JOIN machines mc ON mc.id = r.machine_id "
             "JOIN metrics m ON m.machine_id = r.machine_id WHERE n IS NOT NULL;"
             "PRAGMA user_version=2");
    raw.exec("INSERT INTO telemetry_10s VALUES(" + std::to_string(placer) +
             ", 10000, '[[10,6510,650,652,652],null,[3,6,1,3,2]]')");
  }
  auto w = writer::open(path, options{});
  sqlite3* db = w->handle();
  CHECK(query_int(db, "PRAGMA user_version") == 3);
  // This build's short forms next to the old row.
  std::string insert = "INSERT INTO telemetry_10s VALUES(" + std::to_string(placer) +
                       ", 20000, '[[10,6510,650,652],[10,2500,250],[1,0.82]]')";
  REQUIRE(sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  auto row = [&](int64_t ts, const char* metric) {
    return query_text(db, "SELECT count || ' ' || sum || ' ' || min || ' ' || max || ' ' || last "
                          "FROM samples_10s WHERE machine='smt1-placer1' AND ts=" +
                              std::to_string(ts) + " AND metric='" + metric + "'");
  };
  CHECK(row(10000, "m0") == "10 6510 650 652 652");
  CHECK(row(10000, "m1").empty());  // null: no values in that bucket
  CHECK(row(10000, "m2") == "3 6 1 3 2");
  CHECK(row(20000, "m0") == "10 6510 650 652 652");
  CHECK(row(20000, "m1") == "10 2500 250 250 250");
  CHECK(row(20000, "m2") == "1 0.82 0.82 0.82 0.82");
}
