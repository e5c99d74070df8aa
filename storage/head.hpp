// storage/head: the polls not yet compacted into chunks, in memory, and each
// machine's live status — what the writer committed last, published to the
// query workers without a lock held across a query.
//
// Ownership: the writer (storage::writer, on the writer actor's thread) is the
// only one that changes a head; readers (storage::reader, one per query
// worker) only load() snapshots. A snapshot is immutable and shared: the
// writer publishes a new one per machine after every commit that touched the
// machine (std::atomic_store of a shared_ptr), and a reader keeps the one it
// loaded for as long as its query runs. Polls live in fixed-size blocks that
// are append-only: the writer fills entries past a snapshot's `count`, never
// the entries a published snapshot shows, so readers and the writer never
// touch the same memory without the publish in between.
//
// What a head holds (the invariant the reader relies on, see schema.cpp):
// exactly the polls of the ingest log rows with id >= spilled_below (all of
// them while nothing is spilled) as of the commit that published it — every
// committed poll that is neither in a chunk nor spilled. Published only after
// COMMIT, so the API never shows a poll a crash could lose.
//
// Memory: one entry per poll of the hot window (at most compaction window +
// grace, ~150 s by default): 16 bytes + 8 per metric slot, in blocks of 64,
// 128, ... 8192 entries per machine (the last one partly empty). So it grows
// with the ingest rate: ~11 MB at 1000 machines x 1 s x 8 metrics, ~0.5 GB at
// 800 000 samples/s (bytes(); health shows it as writer.head_bytes). Past its
// cap the writer spills: spill(X) drops the in-memory copies of the polls of
// log rows below X (the oldest commits); they stay in the ingest log, where
// readers decode them in their read transaction and the next compaction reads
// them (storage/compaction.cpp).
// Nothing more is written to disk; only reads of the spilled part get slower.
#pragma once

#include "storage/writer.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

namespace edgemes::storage {

class head {
public:
  // A run of polls of one machine, in arrival order. A machine's blocks
  // double in capacity from 64 to 8192 entries, so it has a few blocks
  // however many polls it holds: a snapshot copies its block list on every
  // commit, and that list must not grow with the polls (at 200 polls/s per
  // machine, fixed 64-entry blocks made publish() the writer's top cost).
  struct block {
    static constexpr size_t min_capacity = 64, max_capacity = 8192;
    block(size_t slots, size_t cap)
        : capacity(cap), nslots(slots), ts(new int64_t[cap]), log_id(new int64_t[cap]),
          values(new double[cap * slots]) {}
    // The capacity of the block after `prev` (none: the first).
    static size_t next_capacity(const block* prev) {
      return prev ? std::min(max_capacity, prev->capacity * 2) : min_capacity;
    }
    const size_t capacity;
    const size_t nslots;
    // Entries written (the writer's count). Final once a later block exists
    // (a block is left behind when full or when a wider poll needs a wider
    // block), and only then read by readers; for the last block they use
    // snapshot::last_count, the count when the snapshot was published.
    size_t used = 0;
    std::unique_ptr<int64_t[]> ts;
    std::unique_ptr<int64_t[]> log_id;  // the ingest_log row holding the poll
    std::unique_ptr<double[]> values;   // [i * nslots + slot], NaN = no value
  };

  // One machine's uncompacted polls and live status as of one commit.
  struct snapshot {
    int64_t boundary = std::numeric_limits<int64_t>::min();  // compaction boundary then
    // > 0: the polls of log rows below this id are not in `blocks` (spilled):
    // read them from the ingest log, with the read transaction's boundary.
    int64_t spilled_below = 0;
    std::vector<std::shared_ptr<const block>> blocks;  // oldest first
    size_t last_count = 0;                             // valid entries of blocks.back()
    bool has_status = false;
    status_row status;  // what the writer committed last (newer than the machines row)

    // f(ts, values, nslots) for every poll, in arrival order (mostly ts order).
    template <class F>
    void each(F&& f) const {
      for (size_t b = 0; b < blocks.size(); ++b) {
        const block& bl = *blocks[b];
        const size_t n = b + 1 == blocks.size() ? last_count : bl.used;
        for (size_t i = 0; i < n; ++i)
          f(bl.ts[i], &bl.values[i * bl.nslots], bl.nslots);
      }
    }
  };

  head() = default;
  head(const head&) = delete;
  head& operator=(const head&) = delete;

  // Readers: the machine's latest snapshot, or null when it has none.
  // Thread-safe; never waits for the writer beyond a pointer copy.
  std::shared_ptr<const snapshot> load(int64_t machine_id) const;

  // ---- Writer side (one thread) ------------------------------------------

  // True when the machine has an uncompacted poll at ts.
  bool contains(int64_t machine_id, int64_t ts) const;

  // Adds a committed poll (not visible until publish()).
  void append(int64_t machine_id, int64_t ts, const std::vector<double>& values, int64_t log_id);
  void set_status(int64_t machine_id, const status_row& s);

  // Publishes every machine changed since the last publish.
  void publish();

  // Every uncompacted poll of every machine: f(machine_id, ts, values, nslots, log_id).
  void each_poll(const std::function<void(int64_t, int64_t, const double*, size_t, int64_t)>& f) const;

  // Removes the polls for which `moved(machine_id, ts)` is true; sets the
  // boundary; publishes.
  void compacted(int64_t boundary, const std::function<bool(int64_t, int64_t)>& moved);

  // Drops the polls of log rows with id < `below` from memory and publishes
  // the new spill level (never lowered here). clear_spill(): no log row below
  // the level is left, so snapshots stop pointing readers at the log.
  void spill(int64_t below);
  void clear_spill();
  int64_t spilled_below() const { return spilled_below_; }  // 0 = nothing spilled
  // The newest ts of the machine's spilled polls (a late poll at or before it
  // may duplicate one of them); INT64_MIN when none.
  int64_t spilled_newest(int64_t machine_id) const;

  void set_boundary(int64_t boundary);
  int64_t boundary() const { return boundary_; }
  bool has_boundary() const { return boundary_ != std::numeric_limits<int64_t>::min(); }

  int64_t newest_ts() const { return newest_ts_; }  // max ts ever appended
  int64_t polls() const { return polls_; }          // uncompacted polls held
  int64_t bytes() const { return bytes_; }          // the writer's blocks, allocated

  // Forgets everything (before a reload from the file).
  void clear();

private:
  struct machine {
    // Writer's view.
    std::vector<std::shared_ptr<block>> blocks;  // every block's `used` is current here
    bool has_status = false;
    status_row status;
    bool dirty = false;
    int64_t newest = std::numeric_limits<int64_t>::min();  // max ts held (in-order polls: O(1) contains)
    int64_t spilled_newest = std::numeric_limits<int64_t>::min();  // max ts spilled
    // Readers' view: replaced by publish(), read with std::atomic_load.
    std::shared_ptr<const snapshot> published;
  };
  machine& at(int64_t machine_id);
  // Keeps the polls for which drop(machine, ts, log_id) is false, in new
  // blocks; `track_spill`: the dropped ones raise spilled_newest. Publishes.
  void rebuild(const std::function<bool(int64_t, int64_t, int64_t)>& drop, bool track_spill);

  mutable std::shared_mutex map_mutex_;  // guards the map's shape (insertions), not machines
  std::unordered_map<int64_t, std::unique_ptr<machine>> machines_;
  int64_t boundary_ = std::numeric_limits<int64_t>::min();
  int64_t newest_ts_ = std::numeric_limits<int64_t>::min();
  int64_t spilled_below_ = 0;
  int64_t polls_ = 0;
  int64_t bytes_ = 0;  // footprint of every machine's blocks (not of older snapshots)
};

} // namespace edgemes::storage
