// storage/reader: one read-only connection, for one query actor.
//
// Opened SQLITE_OPEN_READONLY with PRAGMA query_only=1: it can neither write
// nor checkpoint (see database.hpp on the WAL-reset race). Each method is one
// short read transaction, so readers never pin an old WAL snapshot for long.
// Not thread-safe: one reader per thread/actor.
//
// A deadline set with set_deadline() interrupts any statement running past it
// (a progress handler); the method then throws db_error with code
// SQLITE_INTERRUPT and the connection stays usable.
#pragma once

#include "storage/database.hpp"
#include "storage/rollup.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace edgemes::storage {

class head;

struct line_info {
  std::string ident;
  std::string name;
  int64_t machines = 0;  // configured machines on the line
};

struct machine_info {
  int64_t id = 0;             // row id (internal)
  std::string ident;
  std::string name;
  std::string line_ident;
  std::string type;
  std::string adapter;
  bool configured = true;
  std::string status;         // online | offline | unknown
  int64_t last_poll_ms = 0;   // 0 = never
  int64_t last_ok_ms = 0;     // 0 = never
  std::string last_error;
  int64_t polls_ok = 0;
  int64_t polls_failed = 0;
  int64_t poll_problems = 0;
  int64_t polls_missed = 0;
  std::string state;          // last stored state, "" = none
  int64_t state_since_ms = 0; // when it began, 0 = none
};

struct metric_info {
  std::string name;
  int slot = 0;
};

struct latest_value {
  std::string metric;
  bool has_value = false;
  double value = 0;
  int64_t ts_ms = 0;
};

struct point {
  int64_t ts_ms;
  double value;
};

enum class aggregate { avg, min, max, sum, count, last };

// What a bucket with these statistics reports for `agg` (count > 0).
double aggregate_value(const slot_stats& a, aggregate agg);

struct bucket {
  int64_t ts_ms;   // bucket start: k * step since the epoch (the first may be < from)
  double value;
  int64_t count;   // points in the bucket (buckets with none are omitted)
};

struct state_interval {
  std::string state;
  int64_t from_ms;
  int64_t to_ms;
};

struct state_share {
  std::string state;
  int64_t ms;       // time spent in the state within the range
  double share;     // ms / (sum over states), 0..1
};

struct state_report {
  std::vector<state_interval> intervals;  // clipped to [from, to], oldest first
  std::vector<state_share> shares;        // largest first
};

// What a counter counted over [from, to) (storage/counters.hpp has the rule).
struct counter_increase {
  double increase = 0;  // units counted in [from, to)
  int64_t resets = 0;   // drops in [from, to), each read as a reset
  int64_t values = 0;   // polls with a value in [from, to)
  int64_t first_ts = 0; // the first and last of those polls; 0 when none
  int64_t last_ts = 0;
  bool has_before = false;  // a value before `from` was found (the first rise counts)
};

constexpr int64_t kCounterLookbackMs = 24LL * 3600 * 1000;

// One machine of reader::read_machines: its row id and the counter slots
// whose increase is wanted (as count_increases' `slots`; -1 reads as no data).
struct machine_request {
  int64_t machine_id = 0;
  std::vector<int> slots;
};

// What reader::read_machines gives for one machine.
struct machine_reads {
  state_report states;                    // shares = states(id, from, to, now).shares; no intervals
  std::vector<counter_increase> counted;  // = count_increases(id, slots, from, to, lookback)
};

class reader {
public:
  // Opens read-only. Retries briefly while the file is being created or its
  // WAL recovered (SQLITE_CANTOPEN / SQLITE_READONLY_RECOVERY). Throws db_error.
  // `hot`: the writer's head when the writer runs in this process
  // (writer::shared_head()): the hot window is then read from memory and the
  // machines' live status overlays their rows; without it the reader decodes
  // the ingest log and shows the status rows as written (at most
  // layout_options::status_every_ms behind).
  static std::unique_ptr<reader> open(const std::string& path, const options& opts,
                                      std::shared_ptr<const head> hot = nullptr);
  ~reader();
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  // Statements running past `deadline` are interrupted. time_point::max() = none.
  void set_deadline(std::chrono::steady_clock::time_point deadline);

  std::vector<line_info> lines();
  // All machines (configured or not, configured first), optionally of one line.
  std::vector<machine_info> machines(const std::optional<std::string>& line_ident = std::nullopt);
  std::optional<machine_info> machine(const std::string& ident);
  std::vector<metric_info> metrics(int64_t machine_id);
  // Every machine's metrics by machine id, by slot, in one statement.
  std::map<int64_t, std::vector<metric_info>> all_metrics();

  // Latest value and its timestamp for each metric of the machine, looking
  // back at most `max_rows` polls and 720 compaction windows (a metric not
  // seen in them has no value).
  std::vector<latest_value> latest(int64_t machine_id, int max_rows = 500);

  // Points of one metric slot with from <= ts < to, oldest first, at most
  // `limit`. *truncated is set when more points exist in the range.
  std::vector<point> samples(int64_t machine_id, int slot, int64_t from_ms, int64_t to_ms,
                             int64_t limit, bool* truncated = nullptr);

  // One value per non-empty bucket [k*step, (k+1)*step) (aligned to the epoch)
  // of the points with from <= ts < to, oldest first: 10 s sub-buckets in ts
  // order, merged into the step (storage/rollup.hpp defines the one order of
  // additions). It reads in one read transaction: its own, or the caller's
  // when one is open (storage::read_snapshot). Throws db_error for step <= 0.
  std::vector<bucket> series(int64_t machine_id, int slot, int64_t from_ms, int64_t to_ms,
                             int64_t step_ms, aggregate agg);

  // The same, point by point: the reference series() is tested against.
  std::vector<bucket> series_raw(int64_t machine_id, int slot, int64_t from_ms, int64_t to_ms,
                                 int64_t step_ms, aggregate agg);

  // State intervals overlapping [from, to), clipped to it. The interval in
  // force at `from` starts from the last change before it; the last interval
  // ends at min(to, now_ms).
  state_report states(int64_t machine_id, int64_t from_ms, int64_t to_ms, int64_t now_ms);

  // Every poll of one machine with from <= ts < to, oldest first (forward) or
  // newest first, as f(ts, values) with one value per entry of `slots` (NaN
  // where the poll has none); stops when f returns false or after max_polls
  // polls (-1: no limit; a backward scan with a limit starts at the machine's
  // newest poll and visits at most 720 windows). One read transaction: its
  // own, or the caller's. Throws db_error (SQLITE_CORRUPT for a chunk that
  // does not decode).
  void scan(int64_t machine_id, const std::vector<int>& slots, int64_t from_ms, int64_t to_ms,
            bool forward, int64_t max_polls, const std::function<bool(int64_t, const double*)>& f);

  // The increase of each counter slot over [from, to) by storage/counters.hpp's
  // rule (the previous value looked for at most `lookback_ms` before `from`),
  // one result per entry of `slots`: whole hours from the counter_hours
  // summaries (one index seek per hour for all slots), the rest — the range's
  // partial hours, the hot window, an hour with a late poll not yet
  // compacted — read poll by poll as scan() does, all in one read transaction
  // with one head snapshot. Equal to count_increase() for the same reader
  // state: field for field, and `increase` bit for bit while the values are
  // integers below 2^53 (for other values the additions are grouped by hour,
  // so the last bits may differ). Throws db_error.
  std::vector<counter_increase> count_increases(int64_t machine_id, const std::vector<int>& slots,
                                                int64_t from_ms, int64_t to_ms,
                                                int64_t lookback_ms = kCounterLookbackMs);

  // states() (its shares: OEE needs no intervals) and count_increases() of
  // many machines over one range, one result per entry of `machines`, each
  // equal to what those two calls would return for the same file state. The
  // machines are read in groups of `per_transaction`, each group in one read
  // transaction (its head snapshots loaded before it): a few transactions for a floor of machines
  // instead of two per machine, and none held for the whole call — unless
  // the caller has one open (storage::read_snapshot), which is then used.
  // Throws db_error.
  std::vector<machine_reads> read_machines(const std::vector<machine_request>& machines,
                                           int64_t from_ms, int64_t to_ms, int64_t now_ms,
                                           int64_t lookback_ms = kCounterLookbackMs,
                                           size_t per_transaction = 50);

  sqlite3* handle() const { return db_; }  // for tests and pragma read-back

private:
  explicit reader(sqlite3* db);
  struct statements;  // prepared once, reused by every call
  sqlite3* db_;
  std::unique_ptr<statements> stmts_;
  std::shared_ptr<const head> head_;  // the writer's, or null
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

} // namespace edgemes::storage
