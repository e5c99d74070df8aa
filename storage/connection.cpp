#include "storage/connection.hpp"

#include <cctype>

namespace edgemes::storage::detail {

void fail(sqlite3* db, int rc, const std::string& what) {
  // sqlite3_errmsg describes the most recent failed call on `db`, which is the
  // one that returned `rc` in every caller; fall back to the generic text.
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw db_error(rc, what + ": " + (msg ? msg : sqlite3_errstr(rc)));
}

void exec(sqlite3* db, const char* sql, const std::string& what) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK)
    fail(db, rc, what);
}

stmt_ptr prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK)
    fail(db, rc, std::string("prepare \"") + sql + "\"");
  return stmt_ptr(s);
}

void fail_read(sqlite3* db, int rc, const char* what) {
  if (rc == SQLITE_INTERRUPT)
    throw db_error(SQLITE_INTERRUPT, std::string(what) + ": query interrupted: deadline passed");
  fail(db, rc, what);
}

bool next_row(sqlite3* db, sqlite3_stmt* s, const char* what) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  fail_read(db, rc, what);
}

std::string column_text(sqlite3_stmt* s, int col) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, col))) : std::string();
}

namespace {

stmt_ptr pragma_query(sqlite3* db, const std::string& name) {
  sqlite3_stmt* s = nullptr;
  std::string sql = "PRAGMA " + name;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  if (rc != SQLITE_OK)
    fail(db, rc, sql);
  stmt_ptr st(s);
  rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    fail(db, rc, sql);
  if (rc == SQLITE_DONE)
    throw db_error(SQLITE_ERROR, sql + ": returned no value");
  return st;
}

} // namespace

int64_t pragma_int(sqlite3* db, const std::string& name) {
  return sqlite3_column_int64(pragma_query(db, name).get(), 0);
}

std::string pragma_text(sqlite3* db, const std::string& name) {
  return column_text(pragma_query(db, name).get(), 0);
}

void apply_pragmas(sqlite3* db, const options& opts) {
  int rc = sqlite3_busy_timeout(db, static_cast<int>(opts.busy_timeout_ms));
  if (rc != SQLITE_OK)
    fail(db, rc, "busy_timeout");

  // synchronous is spliced into SQL text: accept only its four keywords.
  std::string sync;
  for (char c : opts.synchronous)
    sync.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (sync != "OFF" && sync != "NORMAL" && sync != "FULL" && sync != "EXTRA")
    throw db_error(SQLITE_MISUSE, "synchronous must be OFF, NORMAL, FULL or EXTRA, not \"" +
                                      opts.synchronous + "\"");
  std::string sql = "PRAGMA synchronous=" + sync +
                    ";PRAGMA cache_size=" + std::to_string(-opts.cache_size_kib) +
                    ";PRAGMA foreign_keys=" + (opts.foreign_keys ? "ON" : "OFF");
  exec(db, sql.c_str(), "apply pragmas");
}

} // namespace edgemes::storage::detail

namespace edgemes::storage {

heap_stats sqlite_heap() {
  heap_stats h;
  h.used_bytes = sqlite3_memory_used();
  h.highwater_bytes = sqlite3_memory_highwater(0);
  h.soft_limit_bytes = sqlite3_soft_heap_limit64(-1);
  return h;
}

void set_sqlite_heap_limit(int64_t bytes) { sqlite3_soft_heap_limit64(bytes > 0 ? bytes : 0); }

} // namespace edgemes::storage
