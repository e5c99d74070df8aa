// storage/writer: the only write connection to the telemetry file.
//
// Owned by exactly one thread at a time (the writer actor); not thread-safe.
// Opening it creates the file and its parent directory if missing, sets
// journal_mode=WAL, applies the pragmas, creates or migrates the schema
// (PRAGMA user_version), and enables no other process to checkpoint: every
// checkpoint of the file happens here.
//
// commit() writes one batch in one BEGIN IMMEDIATE ... COMMIT with reused
// prepared statements. On failure it rolls back, throws db_error and leaves
// the database as it was, so the caller may retry the same batch later.
//
// Rollups: the writer keeps each machine's open 10-second bucket in memory and
// writes its telemetry_10s row in the transaction of the first poll of a later
// bucket; close() writes every open bucket (storage/open_buckets.hpp, and the
// invariants in schema.cpp). A restart, even after kill -9, rebuilds the open
// bucket from the raw rows, so a rollup row is never partial.
//
// delete_before() (storage/retention.cpp) is retention: it deletes old rows in
// one short transaction of at most `max_rows` rows, so a caller deleting a
// large backlog interleaves it with ingest instead of stalling it. Freed pages
// go to the freelist and new rows reuse them (no VACUUM needed).
#pragma once

#include "storage/database.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

struct sqlite3;

namespace edgemes::storage {

namespace detail {
class open_buckets;
}

// Catalog input: what the config declares.
struct line_def {
  std::string ident;
  std::string name;
};

struct machine_def {
  std::string ident;
  std::string name;
  std::string line_ident;
  std::string type;
  std::string adapter;
  std::vector<std::string> metric_names;
};

// Where a configured machine's data goes: its row id and, for each of
// machine_def::metric_names in order, the slot of that metric in telemetry.v.
struct machine_binding {
  int64_t machine_id = 0;
  std::vector<int> slots;
};

// One poll's values, by slot (NaN = no value). Stored as one telemetry row.
struct poll_row {
  int64_t machine_id = 0;
  int64_t ts_ms = 0;
  std::vector<double> values;
};

// A state observed by a poll. Only changes are stored: an observation equal
// to the machine's last stored state is not a new row.
struct state_row {
  int64_t machine_id = 0;
  int64_t ts_ms = 0;
  std::string state;
};

// A machine's live polling status, written to its machines row.
struct status_row {
  int64_t machine_id = 0;
  std::string status;        // online | offline | unknown
  int64_t last_poll_ms = 0;  // 0 = never
  int64_t last_ok_ms = 0;    // 0 = never
  std::string last_error;    // "" = none
  int64_t polls_ok = 0;
  int64_t polls_failed = 0;
  int64_t poll_problems = 0;
  int64_t polls_missed = 0;  // scheduled polls skipped (absolute counter like polls_ok)
};

struct commit_stats {
  int64_t rows = 0;           // telemetry rows inserted
  int64_t samples = 0;        // non-missing values in those rows
  int64_t duplicates = 0;     // rows skipped: same (machine, ts) already stored
  int64_t state_changes = 0;  // state rows inserted
};

enum class checkpoint_mode { passive, full, restart, truncate };

// What one delete_before() call removed.
struct retention_result {
  int64_t telemetry = 0;      // telemetry rows deleted
  int64_t rollups = 0;        // telemetry_10s rows deleted
  int64_t state_changes = 0;  // state_changes rows deleted
  bool done = false;          // true: nothing older than the cutoff is left
};

// Page accounting of the file (PRAGMA page_count / freelist_count / page_size).
struct page_stats {
  int64_t page_count = 0;
  int64_t freelist_count = 0;
  int64_t page_size = 0;
};

struct checkpoint_result {
  int busy = 0;            // 1 when the checkpoint could not complete (readers)
  int wal_frames = 0;      // frames in the WAL
  int checkpointed = 0;    // frames copied back into the database
};

class writer {
public:
  // Opens (creating if needed) the database at `path`. Throws db_error.
  static std::unique_ptr<writer> open(const std::string& path, const options& opts);
  ~writer();  // closes; does not checkpoint (call close() for that)
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  // Upserts lines and machines (by ident) and assigns metric slots. Slots are
  // append-only per machine: a metric keeps its slot forever, a new metric
  // gets the next free one. Machines in the file but not in `machines` are
  // marked unconfigured (kept with their history, not deleted); configured
  // machines get status 'unknown'. Returns ident -> binding.
  std::map<std::string, machine_binding> sync_catalog(const std::vector<line_def>& lines,
                                                      const std::vector<machine_def>& machines);

  // Writes one batch in one transaction (see file comment).
  commit_stats commit(const std::vector<poll_row>& polls, const std::vector<state_row>& states,
                      const std::vector<status_row>& statuses);

  checkpoint_result checkpoint(checkpoint_mode mode);

  // Retention: deletes telemetry and rollup rows of the 10 s buckets that end
  // at or before cutoff_ms (so raw rows with ts < cutoff_ms rounded down to a
  // multiple of 10 s), whole buckets at a time, and state changes older than
  // each machine's last change before cutoff_ms (that row stays: it says which
  // state the machine was in at the cutoff, so the current state is always
  // known). At most `max_rows` rows in one transaction (more only when one
  // bucket alone holds more raw rows); machines are visited round-robin across
  // calls so every machine's backlog shrinks. Throws db_error (rolled back,
  // nothing deleted).
  retention_result delete_before(int64_t cutoff_ms, int64_t max_rows);

  page_stats pages() const;

  // Size of the -wal file in bytes (0 when absent).
  int64_t wal_size_bytes() const;

  // Final TRUNCATE checkpoint, then close. Idempotent. Throws on failure.
  void close();

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }  // for tests and pragma read-back

private:
  writer(sqlite3* db, std::string path);
  struct statements;
  sqlite3* db_;
  std::string path_;
  std::unique_ptr<statements> stmts_;
  std::unique_ptr<detail::open_buckets> buckets_;  // rollups: each machine's open bucket
  std::map<int64_t, std::string> last_state_;  // machine_id -> last stored state
  int64_t retention_cursor_ = 0;  // machine id where the next delete_before() starts
};

} // namespace edgemes::storage
