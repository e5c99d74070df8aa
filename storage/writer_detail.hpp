// storage/writer_detail: what writer.cpp, writer_commit.cpp, compaction.cpp and
// retention.cpp share (internal to storage/): the writer's prepared statements and small
// statement helpers. Everything here runs on the writer's connection.
#pragma once

#include "storage/connection.hpp"
#include "storage/counter_hours.hpp"
#include "storage/log_batch.hpp"
#include "storage/writer.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace edgemes::storage {

struct writer::statements {
  detail::stmt_ptr begin, commit, rollback;
  detail::stmt_ptr insert_log, delete_log, get_log, update_log, log_below;
  detail::stmt_ptr insert_state, last_state, update_status;
  detail::stmt_ptr chunk_get, chunk_put, set_boundary;
  std::unique_ptr<detail::hour_writer> hours;  // counter_hours upkeep at compaction
  std::string buf;  // encode buffer, reused
  // machine_id -> ts of the last stored state change (pairs with last_state_).
  std::map<int64_t, int64_t> last_ts;

  explicit statements(sqlite3* db);
};

namespace detail {

// Steps a statement that returns no rows and resets it; throws naming `what`.
void step_done(sqlite3* db, sqlite3_stmt* s, const char* what);

// SQLITE_STATIC binds: every caller steps and resets before the bytes go away.
void bind_text(sqlite3_stmt* s, int i, const std::string& text);
void bind_blob(sqlite3_stmt* s, int i, const std::string& bytes);

// Appends one ingest_log row holding `polls` (encoded into `buf`) with the
// writer's insert_log statement; returns the row's id.
int64_t insert_log_row(sqlite3* db, sqlite3_stmt* insert_log, std::string& buf,
                       std::vector<log_batch::poll> polls, const char* what);

// Calls f(machine_id, ts, values by slot) for every poll of ingest_log row
// `id` whose bytes are (data, size). Throws db_error (SQLITE_CORRUPT) naming
// the row when it does not decode.
void each_log_poll(int64_t id, const void* data, size_t size,
                   const std::function<void(int64_t, int64_t, const std::vector<double>&)>& f);

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows on
// any failure.
template <class Body>
void in_transaction(sqlite3* db, const char* op, Body&& body) {
  std::string what = op;
  exec(db, "BEGIN IMMEDIATE", what + ": begin");
  try {
    body();
    exec(db, "COMMIT", what + ": commit");
  } catch (...) {
    // Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back.
    if (!sqlite3_get_autocommit(db))
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

} // namespace detail
} // namespace edgemes::storage
