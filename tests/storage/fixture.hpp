// tests/storage: a small catalog, raw-SQL helpers and the rollup check shared
// by the storage (and reliability) tests. Everything runs against real SQLite
// files in a temp_dir.
#pragma once

#include "storage/codec.hpp"
#include "storage/reader.hpp"
#include "storage/sql_functions.hpp"
#include "storage/writer.hpp"
#include "tests/support/test_support.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace edgemes::storage::test {

inline std::vector<std::string> metric_names(int n, const std::string& prefix = "m") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(prefix + std::to_string(i));
  return out;
}

// One line "smt1" with a placer (20 metrics) and a printer (3 metrics).
inline std::vector<line_def> test_lines() { return {{"smt1", "SMT line 1"}}; }
inline std::vector<machine_def> test_machines() {
  return {{"smt1-placer1", "Placer 1", "smt1", "placer", "sim", metric_names(20)},
          {"smt1-printer1", "Printer 1", "smt1", "printer", "sim", {"temp_c", "speed", "cycle_time_s"}}};
}

// A fresh file with the test catalog, through the one writer connection.
struct catalogued_file {
  edgemes::test::temp_dir dir;
  std::string path = dir.file("edge.db");
  std::unique_ptr<writer> w = writer::open(path, options{});
  std::map<std::string, machine_binding> bind = w->sync_catalog(test_lines(), test_machines());
  int64_t placer = bind.at("smt1-placer1").machine_id;
  int64_t printer = bind.at("smt1-printer1").machine_id;
};

// Runs SQL expecting one integer (first column, first row; 0 if no row).
inline int64_t query_int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  INFO(sql << ": " << sqlite3_errmsg(db));
  REQUIRE(rc == SQLITE_OK);
  rc = sqlite3_step(s);
  int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_finalize(s);
  REQUIRE((rc == SQLITE_ROW || rc == SQLITE_DONE));
  return v;
}

inline std::string query_text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  INFO(sql << ": " << sqlite3_errmsg(db));
  REQUIRE(rc == SQLITE_OK);
  rc = sqlite3_step(s);
  std::string v;
  if (rc == SQLITE_ROW && sqlite3_column_text(s, 0))
    v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  REQUIRE((rc == SQLITE_ROW || rc == SQLITE_DONE));
  return v;
}

// A read-write connection of the test's own, for tampering with a file while
// no writer has it open.
class raw_db {
public:
  explicit raw_db(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) == SQLITE_OK);
    REQUIRE(register_sql_functions(db_) == SQLITE_OK);
  }
  ~raw_db() { sqlite3_close_v2(db_); }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;
  void exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  sqlite3* get() const { return db_; }
private:
  sqlite3* db_ = nullptr;
};

// Polls of one machine every `period` ms from `t0`; value of slot s in poll i
// is i * 100 + s, and every 7th value (by i + s) is missing.
inline std::vector<poll_row> make_polls(int64_t machine_id, int n, int slots, int64_t t0,
                                        int64_t period) {
  std::vector<poll_row> out;
  for (int i = 0; i < n; ++i) {
    poll_row p{machine_id, t0 + i * period, {}};
    for (int s = 0; s < slots; ++s)
      p.values.push_back((i + s) % 7 == 0 ? NAN : i * 100.0 + s);
    out.push_back(std::move(p));
  }
  return out;
}

// Calls f(ts, text) for each row of `sql` (two columns), in order.
template <class F>
void each_row(sqlite3* db, const std::string& sql, F&& f) {
  sqlite3_stmt* s = nullptr;
  INFO(sql << ": " << sqlite3_errmsg(db));
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    f(sqlite3_column_int64(s, 0),
      std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)),
                  static_cast<size_t>(sqlite3_column_bytes(s, 1))));
  sqlite3_finalize(s);
  REQUIRE(rc == SQLITE_DONE);
}

// Polls stored, wherever they are (chunks or the ingest log). REQUIRES: the
// SQL functions on `db` (a writer's connection or raw_db has them).
inline int64_t stored_polls(sqlite3* db) {
  return query_int(db, "SELECT (SELECT coalesce(sum(polls), 0) FROM chunks) + (SELECT count(*) "
                       "FROM (SELECT DISTINCT p.machine_id, p.ts FROM ingest_log l, "
                       "edgemes_log(l.data) p))");
}

// Two counts equal field for field; `increase` bit for bit unless
// `fractional` (values that are not integers: hour summaries group the
// additions differently, so only the last bits may differ — reader.hpp says so).
inline void same(const counter_increase& got, const counter_increase& want,
                 bool fractional = false) {
  if (fractional)
    CHECK(got.increase == Approx(want.increase).epsilon(1e-12));
  else
    CHECK(got.increase == want.increase);
  CHECK(got.resets == want.resets);
  CHECK(got.values == want.values);
  CHECK(got.first_ts == want.first_ts);
  CHECK(got.last_ts == want.last_ts);
  CHECK(got.has_before == want.has_before);
}

} // namespace edgemes::storage::test
