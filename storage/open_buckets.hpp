// storage/open_buckets: the writer's side of the rollups (internal to
// storage/): per machine, the aggregates of its open 10 s bucket, and the
// rollup rows written as polls are inserted. Owned by storage::writer; every
// call runs inside the writer's write transaction.
//
// Per machine (see schema.cpp for the invariants this keeps):
//   open bucket  the bucket of the newest poll, accumulated in memory; it has
//                no rollup row until a poll of a later bucket closes it (that
//                poll's transaction writes the row) or flush_all() runs;
//   sealed       the start of the machine's newest rollup row.
// A poll of the open bucket newer than its last poll is added in memory. Any
// other poll (an older one in the open bucket, or one of an older bucket: the
// machine's clock stepped back) makes its bucket be re-aggregated from the raw
// rows, so sums and `last` stay exactly what the raw rows in ts order give.
//
// The state is loaded lazily, per machine, from the file: the open bucket is
// rebuilt from the raw rows of the machine's newest bucket (unless that bucket
// already has a rollup row), so a restart after kill -9 never writes a
// partial rollup. After a rollback the caller forgets everything; after
// retention, the machines it touched: they are reloaded on their next poll.
#pragma once

#include "storage/rollup_store.hpp"

#include <cstdint>
#include <limits>
#include <unordered_map>
#include <vector>

namespace edgemes::storage::detail {

class open_buckets {
public:
  struct machine_state {
    bool open = false;
    int64_t start = 0;     // open bucket's start (when open)
    int64_t last_ts = 0;   // newest poll added to it
    int64_t sealed = std::numeric_limits<int64_t>::min();  // newest rollup row's start
    bucket_stats acc;
  };

  explicit open_buckets(sqlite3* db) : store_(db) {}

  // Before a poll of `machine_id` is inserted: its state, loaded if needed
  // (the load must not see the poll's own row).
  machine_state& before_insert(int64_t machine_id);

  // After the poll was inserted (not a duplicate): updates the open bucket
  // or writes rollup rows.
  void after_insert(machine_state& st, int64_t machine_id, int64_t ts,
                    const std::vector<double>& values);

  // Writes the open bucket of every machine in the file (close()).
  void flush_all();

  void forget_all() { machines_.clear(); }
  void forget(int64_t machine_id) { machines_.erase(machine_id); }

private:
  void load(int64_t machine_id, machine_state& st);
  rollup_store store_;
  std::unordered_map<int64_t, machine_state> machines_;
};

} // namespace edgemes::storage::detail
