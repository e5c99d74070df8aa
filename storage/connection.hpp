// storage/connection: internal helpers shared by writer, reader and schema —
// statement ownership, error reporting as db_error, and the pragmas every
// connection gets. Not part of the public surface of storage/.
#pragma once

#include "storage/database.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

namespace edgemes::storage::detail {

// Throws db_error(rc, "<what>: <SQLite's message>"). `db` may be null.
[[noreturn]] void fail(sqlite3* db, int rc, const std::string& what);

// Runs SQL without results; throws on failure.
void exec(sqlite3* db, const char* sql, const std::string& what);

struct stmt_deleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_deleter>;

// Prepares one statement (SQLITE_PREPARE_PERSISTENT: it is kept and reused).
stmt_ptr prepare(sqlite3* db, const char* sql);

// Resets a statement when the scope ends, so an early throw never leaves it
// mid-step (a statement left stepping would keep its read snapshot open).
class reset_on_exit {
public:
  explicit reset_on_exit(sqlite3_stmt* s) : s_(s) {}
  ~reset_on_exit() { sqlite3_reset(s_); }
  reset_on_exit(const reset_on_exit&) = delete;
  reset_on_exit& operator=(const reset_on_exit&) = delete;
private:
  sqlite3_stmt* s_;
};

// A read statement's failure as db_error; SQLITE_INTERRUPT is a reader's
// deadline passing (reader::set_deadline) and says so.
[[noreturn]] void fail_read(sqlite3* db, int rc, const char* what);

// Steps `s`: true for a row, false when done; throws (fail_read) otherwise.
bool next_row(sqlite3* db, sqlite3_stmt* s, const char* what);

// Column text as std::string ("" for NULL).
std::string column_text(sqlite3_stmt* s, int col);

// The value of `PRAGMA <name>` (first column of the first row).
int64_t pragma_int(sqlite3* db, const std::string& name);
std::string pragma_text(sqlite3* db, const std::string& name);

// busy_timeout, synchronous, cache_size and foreign_keys, checked and applied.
void apply_pragmas(sqlite3* db, const options& opts);

} // namespace edgemes::storage::detail
