// storage/reader_internal: the reader's prepared statements and decode
// buffers, shared by reader.cpp (open, catalogue and state queries) and
// reader_scan.cpp (scan and the queries built on it); internal to storage/.
#pragma once

#include "storage/connection.hpp"
#include "storage/head.hpp"
#include "storage/reader.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace edgemes::storage {

namespace detail {

// One point of a scan's hot window: ts and where its values are (one double
// per requested slot) in scan_statements::hot_values.
struct hot_point {
  int64_t ts;
  size_t at;
};

// What reader::scan reads with: its statements and its decode buffers, reused
// by every call.
struct scan_statements {
  stmt_ptr compaction, oldest_chunk, hours_from, chunk, log, last_ok;
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> columns;
  std::vector<double> hot_values, chunk_values;
  std::vector<hot_point> hot;

  explicit scan_statements(sqlite3* db);
};

using scan_callback = std::function<bool(int64_t, const double*)>;

// reader::scan's work inside a read transaction that is already open, with
// the machine's head snapshot `snap` loaded before that transaction began
// (`h` null: no head, the log is decoded). Several calls in one transaction
// with one snapshot see one consistent state.
void scan_in_transaction(sqlite3* db, scan_statements& st,
                         std::chrono::steady_clock::time_point deadline, const head* h,
                         const head::snapshot* snap, int64_t machine_id,
                         const std::vector<int>& slots, int64_t from_ms, int64_t to_ms,
                         bool forward, int64_t max_polls, const scan_callback& f);

// Where scan_in_transaction finds a machine's polls, for the same
// transaction and snapshot: chunks for windows before `boundary`, the hot
// points (`hot_ts`, sorted) for the rest and for late polls.
struct scan_layout {
  std::optional<int64_t> tx_boundary;   // compaction.boundary in this transaction
  std::optional<int64_t> boundary;      // the one the scan uses (the head's, if it has one)
  int64_t window_ms = 0;
  std::vector<int64_t> hot_ts;
  std::optional<int64_t> hours_from;    // compaction.hours_from: rows before it are gone
  std::optional<int64_t> oldest_chunk;  // min(chunks.start): no chunk poll is older
};
scan_layout probe_scan(sqlite3* db, scan_statements& st,
                       std::chrono::steady_clock::time_point deadline, const head* h,
                       const head::snapshot* snap, int64_t machine_id);

// reader::count_increases' work inside a read transaction that is already
// open, with the machine's head snapshot loaded before it (as
// scan_in_transaction); `hours` is the statement reader::statements::hours.
std::vector<counter_increase> count_in_transaction(
    sqlite3* db, scan_statements& st, sqlite3_stmt* hours,
    std::chrono::steady_clock::time_point deadline, const head* h, const head::snapshot* snap,
    int64_t machine_id, const std::vector<int>& slots, int64_t from_ms, int64_t to_ms,
    int64_t lookback_ms);

// reader::states' work with its statement `states` (reader::statements::states),
// in the caller's transaction or, with none open, in the statement's own.
// `intervals` false leaves rep.intervals empty (the shares are the same).
state_report states_in(sqlite3* db, sqlite3_stmt* states, int64_t machine_id, int64_t from_ms,
                       int64_t to_ms, int64_t now_ms, bool intervals);

// Runs `body` in the caller's read transaction, or in one of its own.
template <class Body>
void in_read(sqlite3* db, sqlite3_stmt* begin, sqlite3_stmt* commit, sqlite3_stmt* rollback,
             const char* what, Body&& body) {
  const bool own = sqlite3_get_autocommit(db) != 0;
  if (own) {
    detail::reset_on_exit r(begin);
    if (int rc = sqlite3_step(begin); rc != SQLITE_DONE)
      detail::fail_read(db, rc, what);
  }
  try {
    body();
    if (own) {
      detail::reset_on_exit r(commit);
      if (int rc = sqlite3_step(commit); rc != SQLITE_DONE)
        detail::fail_read(db, rc, what);
    }
  } catch (...) {
    if (own && !sqlite3_get_autocommit(db)) {
      sqlite3_step(rollback);
      sqlite3_reset(rollback);
    }
    throw;
  }
}

} // namespace detail

struct reader::statements {
  detail::stmt_ptr begin, commit, rollback;
  detail::stmt_ptr lines, machines, machine, metrics, all_metrics, states;
  detail::stmt_ptr hours;  // counter_hours rows of one (hour, machine)
  detail::scan_statements scan;

  explicit statements(sqlite3* db);
};

} // namespace edgemes::storage
