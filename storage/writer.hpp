// storage/writer: the only write connection to the telemetry file.
//
// Owned by exactly one thread at a time (the writer actor); not thread-safe.
// Opening it creates the file and its parent directory if missing, sets
// journal_mode=WAL, applies the pragmas, creates or migrates the schema
// (PRAGMA user_version), and loads the head (below). Every checkpoint of the
// file happens on this connection.
//
// What reaches the disk (schema v4, docs/ARCHITECTURE.md):
// - commit() appends ONE ingest_log row holding every poll of the batch in
//   compact form (storage/log_batch.hpp), the batch's state changes, and a
//   machine's status row only when its status or last error changed or
//   `status_every_ms` of poll time passed since its row was last written. The
//   log is appended in time order, so a commit rewrites one or two B-tree
//   pages however many machines it carries (a row per poll keyed by machine
//   rewrote one 4 KiB page per machine: ~1 000 bytes written per sample).
//   On success the polls and statuses go to the head, which readers see.
// - compact() moves whole windows (window_ms, aligned to the epoch) that
//   ended more than grace_ms before the newest poll out of the log into
//   `chunks`: one compressed chunk per machine and window (storage/chunk.hpp),
//   written once, in one transaction that also deletes (or trims) the log rows
//   whose polls moved. A poll older than the boundary (late) is merged into its
//   window's chunk at the next compaction. kill -9 at any point leaves either
//   the state before or the state after: nothing lost, nothing twice.
//
// Failure: commit() and compact() roll back, throw db_error and leave the
// database and the head as they were, so the caller may retry.
//
// delete_before() (storage/retention.cpp) is retention: whole chunks, in short
// transactions of at most `max_rows` rows.
#pragma once

#include "storage/database.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

struct sqlite3;

namespace edgemes::storage {

class head;

namespace detail {

// What the writer knows of an ingest_log row without reading it (internal to
// storage/): its polls (in the head or spilled) and their time range, which
// give compaction the oldest poll and let spilled_has() decode only the rows
// that can hold a ts.
struct log_row {
  int64_t polls = 0;
  int64_t min_ts = std::numeric_limits<int64_t>::max();
  int64_t max_ts = std::numeric_limits<int64_t>::min();
  void add(int64_t ts) {
    ++polls;
    min_ts = std::min(min_ts, ts);
    max_ts = std::max(max_ts, ts);
  }
};

} // namespace detail

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
// machine_def::metric_names in order, the slot of that metric (its column in
// a chunk).
struct machine_binding {
  int64_t machine_id = 0;
  std::vector<int> slots;
};

// One poll's values, by slot (NaN = no value).
struct poll_row {
  poll_row() = default;
  poll_row(int64_t machine, int64_t ts, std::vector<double> v)
      : machine_id(machine), ts_ms(ts), values(std::move(v)) {}

  int64_t machine_id = 0;
  int64_t ts_ms = 0;
  std::vector<double> values;
  // Empty, or `values` already encoded as a log poll record by
  // encode_record() — on the sender's thread, so that the one writer thread
  // only copies the bytes into the ingest log (a commit holds one poll of most
  // machines, and each such poll is logged as exactly this record). Set only
  // by encode_record() and cleared when `values` change; it does not cross a
  // serializer (actors/storage_inspect.hpp): a record from elsewhere is never
  // trusted to match its values.
  std::string record;
};

// Sets p.record to p.values' log poll record (storage/log_batch.hpp, form 0).
// Thread-safe: touches only `p`.
void encode_record(poll_row& p);

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
  int64_t rows = 0;           // polls stored
  int64_t samples = 0;        // non-missing values in those rows
  int64_t duplicates = 0;     // polls skipped: same (machine, ts) already stored
  int64_t state_changes = 0;  // state rows inserted
};

enum class checkpoint_mode { passive, full, restart, truncate };

// What one delete_before() call removed.
struct retention_result {
  int64_t chunks = 0;         // chunk rows deleted
  int64_t polls = 0;          // polls they held
  int64_t state_changes = 0;  // state_changes rows deleted
  int64_t hour_rows = 0;      // counter_hours rows deleted (hours that start before the cutoff)
  bool done = false;          // true: nothing older than the cutoff is left
};

// What one compact() call did.
struct compaction_result {
  int64_t boundary = 0;        // the new boundary (every window before it is compacted)
  int64_t chunks = 0;          // chunk rows written (new or merged)
  int64_t polls = 0;           // polls moved from the log into chunks
  int64_t late_polls = 0;      // of which into windows compacted earlier (merged)
  int64_t log_deleted = 0;     // ingest_log rows deleted
  int64_t log_rewritten = 0;   // ingest_log rows rewritten with the polls that stay
  int64_t bytes = 0;           // chunk bytes written
  int64_t hour_rows = 0;       // counter_hours rows written (storage/counter_hours.hpp)
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
  // Opens (creating if needed) the database at `path` and loads the head from
  // the ingest log. Throws db_error.
  static std::unique_ptr<writer> open(const std::string& path, const options& opts,
                                      const layout_options& layout = {});
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

  // Compacts every window that ended at least grace_ms before the newest poll
  // (force: every window that holds a poll, the newest too — for tests and
  // tools). One transaction; a no-op returns chunks == 0.
  compaction_result compact(bool force = false);

  // True when compact() has a window to move.
  bool compaction_due() const;

  // Writes the status rows held back (counters that changed since their row
  // was last written). close() does it too.
  void flush_statuses();

  // The head readers of this process share (storage::reader::open).
  std::shared_ptr<const head> shared_head() const;
  int64_t window_ms() const { return window_ms_; }
  // How often the head went past its limit and spilled its oldest polls.
  int64_t head_spills() const { return spills_; }

  checkpoint_result checkpoint(checkpoint_mode mode);

  // Retention: deletes the chunks of the windows that end at or before
  // cutoff_ms, whole chunks, oldest first, and state changes older than each
  // machine's last change before cutoff_ms (that row stays: it says which
  // state the machine was in at the cutoff, so the current state is always
  // known). At most `max_rows` rows in one transaction; state changes are
  // visited machine by machine, round-robin across calls. Polls still in the
  // hot window are never deleted. Throws db_error (rolled back, nothing deleted).
  retention_result delete_before(int64_t cutoff_ms, int64_t max_rows);

  page_stats pages() const;

  // Size of the -wal file in bytes (0 when absent).
  int64_t wal_size_bytes() const;

  // Runs `fn` inside one BEGIN IMMEDIATE ... COMMIT on this connection: the
  // MES layer's writes (storage/mes.hpp), one write job each. `fn` returns
  // true to commit, false to roll back (a refusal writes nothing). When `fn`
  // or COMMIT throws, the transaction is rolled back and the exception goes
  // on. REQUIRES: no transaction open (between commits, as the writer actor
  // runs it).
  void write_transaction(const std::function<bool()>& fn);

  // Writes the statuses held back, final TRUNCATE checkpoint, then close.
  // Idempotent. Throws on failure.
  void close();

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }  // for tests and pragma read-back

private:
  writer(sqlite3* db, std::string path, const layout_options& layout);
  void load_head();
  void load_statuses();
  void write_status_rows(const std::vector<const status_row*>& rows);
  bool chunk_has(int64_t machine_id, int64_t ts);
  bool spilled_has(int64_t machine_id, int64_t ts);  // in a spilled ingest_log row
  // Past layout_options::head_limit_bytes, spills the oldest log rows' polls
  // from the head (storage/head.hpp).
  void enforce_head_limit();
  // True when the log holds a poll (in the head or spilled).
  bool has_uncompacted() const { return !log_rows_.empty(); }
  void require_machine(int64_t machine_id);  // throws for an id not in machines
  // commit()'s steps (writer_commit.cpp), in order; commit_batch holds what
  // they stage until COMMIT.
  struct commit_batch;
  void accept_polls(const std::vector<poll_row>& polls, commit_batch& b, commit_stats& stats);
  void append_to_log(commit_batch& b);
  void stage_states(const std::vector<state_row>& states, commit_batch& b, commit_stats& stats);
  std::pair<std::string, int64_t> stored_state(int64_t machine_id);  // (state, ts), "" = none
  void choose_statuses(const std::vector<status_row>& statuses, commit_batch& b) const;
  void apply_committed(commit_batch& b, const std::vector<status_row>& statuses);
  struct statements;
  sqlite3* db_;
  std::string path_;
  layout_options layout_;
  int64_t window_ms_;
  std::unique_ptr<statements> stmts_;
  std::shared_ptr<head> head_;
  std::map<int64_t, std::string> last_state_;  // machine_id -> last stored state
  // machine_id -> the status row as last written, and held-back newer ones.
  std::map<int64_t, status_row> written_status_, held_status_;
  std::unordered_map<int64_t, detail::log_row> log_rows_;  // by ingest_log id
  int64_t spills_ = 0;
  std::set<int64_t> known_machines_;  // ids seen in machines (machines are never deleted here)
  int64_t retention_cursor_ = 0;  // machine id where the next delete_before() starts
};

} // namespace edgemes::storage
