// storage/rollup_store: building telemetry_10s rows from telemetry rows, on
// the writer's connection (internal to storage/: the writer and the schema
// migration to version 2 use it; storage/rollup.hpp has the arithmetic).
//
// Every function runs inside the caller's write transaction and throws
// db_error on failure; the caller rolls back.
#pragma once

#include "storage/connection.hpp"
#include "storage/rollup.hpp"

#include <optional>
#include <string>
#include <vector>

namespace edgemes::storage::detail {

class rollup_store {
public:
  explicit rollup_store(sqlite3* db);
  sqlite3* db() const { return db_; }

  // Newest telemetry ts of the machine / start of its newest rollup row.
  std::optional<int64_t> newest_raw(int64_t machine_id);
  std::optional<int64_t> newest_rollup(int64_t machine_id);

  // Aggregates the machine's raw rows in the bucket starting at `start`, in ts
  // order, into `acc` (cleared first). Returns the newest ts seen, if any row.
  std::optional<int64_t> aggregate_bucket(int64_t machine_id, int64_t start, bucket_stats& acc);

  // Writes (inserts or replaces) the rollup row of one bucket.
  void write(int64_t machine_id, int64_t start, const bucket_stats& acc);

  // Rebuilds the rollup row of every bucket holding raw rows with
  // from <= ts < to (both multiples of rollup_ms), in one ordered scan.
  // Returns the number of rollup rows written.
  int64_t rebuild(int64_t machine_id, int64_t from, int64_t to);

private:
  sqlite3* db_;
  stmt_ptr newest_raw_, newest_rollup_, raw_range_, upsert_;
  std::string buf_;
  std::vector<double> values_;
};

// The migration's backfill: for every machine, the rollups of every bucket
// before the one holding its newest raw row (that bucket stays open for the
// writer, which rebuilds it from its raw rows when it next polls).
void backfill_rollups(sqlite3* db);

} // namespace edgemes::storage::detail
