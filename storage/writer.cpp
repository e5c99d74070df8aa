// storage/writer: the one write connection (see writer.hpp).
//
// Batching and durability: commit() is one BEGIN IMMEDIATE ... COMMIT. IMMEDIATE
// takes the write lock up front, so the transaction can never fail half-way
// with SQLITE_BUSY_SNAPSHOT. With synchronous=NORMAL in WAL mode a committed
// batch survives a process crash; a power cut may lose the last batches but
// never corrupts the file.
//
// The state cache (last_state_ + statements::last_ts) mirrors what is
// committed: a batch's state changes are staged in a local map and folded
// into the cache only after COMMIT succeeded, so a rolled-back batch can be
// retried and produces the same rows. The rollups' open buckets
// (buckets_) are changed during the transaction instead, and forgotten on a
// rollback: they are reloaded from the committed rows on the next poll.
#include "storage/writer.hpp"

#include "storage/codec.hpp"
#include "storage/connection.hpp"
#include "storage/open_buckets.hpp"
#include "storage/schema.hpp"

#include <cmath>
#include <exception>
#include <filesystem>
#include <limits>

namespace edgemes::storage {

using detail::fail;
using detail::stmt_ptr;

struct writer::statements {
  stmt_ptr begin, commit, rollback;
  stmt_ptr insert_telemetry, insert_state, last_state, update_status;
  std::string buf;  // encode buffer, reused for every row
  // machine_id -> ts of the last stored state change (pairs with last_state_).
  std::map<int64_t, int64_t> last_ts;

  explicit statements(sqlite3* db)
      : begin(detail::prepare(db, "BEGIN IMMEDIATE")),
        commit(detail::prepare(db, "COMMIT")),
        rollback(detail::prepare(db, "ROLLBACK")),
        insert_telemetry(detail::prepare(
            db, "INSERT INTO telemetry(machine_id, ts, v) VALUES(?,?,?) ON CONFLICT DO NOTHING")),
        insert_state(detail::prepare(
            db, "INSERT INTO state_changes(machine_id, ts, state) VALUES(?,?,?) "
                "ON CONFLICT DO NOTHING")),
        last_state(detail::prepare(
            db, "SELECT ts, state FROM state_changes WHERE machine_id=? ORDER BY ts DESC LIMIT 1")),
        update_status(detail::prepare(
            db, "UPDATE machines SET status=?, last_poll_ms=?, last_ok_ms=?, last_error=?, "
                "polls_ok=?, polls_failed=?, poll_problems=?, polls_missed=? WHERE id=?")) {
    buf.reserve(1024);
  }
};

namespace {

// Steps a statement that returns no rows; throws naming `what` on failure.
void step_done(sqlite3* db, sqlite3_stmt* s, const char* what) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    sqlite3_reset(s);
    fail(db, rc, what);
  }
  sqlite3_reset(s);
}

void bind_text(sqlite3_stmt* s, int i, const std::string& text) {
  // SQLITE_STATIC: every caller steps and resets before `text` goes away.
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows on
// any failure.
template <class Body>
void in_transaction(sqlite3* db, const char* op, Body&& body) {
  std::string what = op;
  detail::exec(db, "BEGIN IMMEDIATE", what + ": begin");
  try {
    body();
    detail::exec(db, "COMMIT", what + ": commit");
  } catch (...) {
    // Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back.
    if (!sqlite3_get_autocommit(db))
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

} // namespace

std::unique_ptr<writer> writer::open(const std::string& path, const options& opts) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty())
    std::filesystem::create_directories(parent, ec);
  if (ec)
    throw db_error(SQLITE_CANTOPEN,
                   "open " + path + ": cannot create directory " + parent.string() + ": " +
                       ec.message());

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw db_error(rc, "open " + path + ": " + msg);
  }
  std::unique_ptr<writer> w(new writer(db, path));
  try {
    sqlite3_extended_result_codes(db, 1);
    // busy_timeout first: switching to WAL needs an exclusive lock.
    detail::apply_pragmas(db, opts);
    std::string mode = detail::pragma_text(db, "journal_mode=WAL");
    if (mode != "wal")
      throw db_error(SQLITE_ERROR, "journal_mode=WAL was refused (mode is \"" + mode +
                                       "\"): WAL needs a local file system with shared memory");
    std::string sql = "PRAGMA wal_autocheckpoint=" + std::to_string(opts.wal_autocheckpoint_pages) +
                      ";PRAGMA journal_size_limit=" +
                      std::to_string(opts.journal_size_limit_bytes);
    detail::exec(db, sql.c_str(), "apply writer pragmas");
    detail::create_or_migrate(db);
    w->stmts_ = std::make_unique<statements>(db);
    w->buckets_ = std::make_unique<detail::open_buckets>(db);
  } catch (const db_error& e) {
    throw db_error(e.code(), "open " + path + ": " + e.what());
  }
  return w;
}

writer::writer(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

writer::~writer() {
  stmts_.reset();  // finalize before closing
  buckets_.reset();
  if (db_)
    sqlite3_close_v2(db_);
}

std::map<std::string, machine_binding> writer::sync_catalog(
    const std::vector<line_def>& lines, const std::vector<machine_def>& machines) {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "sync_catalog: writer is closed");
  std::map<std::string, machine_binding> out;
  in_transaction(db_, "sync_catalog", [&] {
    stmt_ptr upsert_line = detail::prepare(
        db_, "INSERT INTO lines(ident, name) VALUES(?,?) "
             "ON CONFLICT(ident) DO UPDATE SET name=excluded.name");
    stmt_ptr line_id = detail::prepare(db_, "SELECT id FROM lines WHERE ident=?");
    stmt_ptr upsert_machine = detail::prepare(
        db_, "INSERT INTO machines(line_id, ident, name, type, adapter, configured, status) "
             "VALUES(?,?,?,?,?,1,'unknown') ON CONFLICT(ident) DO UPDATE SET "
             "line_id=excluded.line_id, name=excluded.name, type=excluded.type, "
             "adapter=excluded.adapter, configured=1, status='unknown' RETURNING id");
    stmt_ptr list_metrics =
        detail::prepare(db_, "SELECT slot, name FROM metrics WHERE machine_id=?");
    stmt_ptr insert_metric =
        detail::prepare(db_, "INSERT INTO metrics(machine_id, slot, name) VALUES(?,?,?)");

    for (const auto& l : lines) {
      bind_text(upsert_line.get(), 1, l.ident);
      bind_text(upsert_line.get(), 2, l.name);
      step_done(db_, upsert_line.get(), "sync_catalog: upsert line");
    }
    // Nobody polls a machine that left the config: unconfigured, status unknown.
    detail::exec(db_, "UPDATE machines SET configured=0, status='unknown'",
                 "sync_catalog: unconfigure machines");

    for (const auto& m : machines) {
      detail::reset_on_exit r1(line_id.get());
      bind_text(line_id.get(), 1, m.line_ident);
      int rc = sqlite3_step(line_id.get());
      if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
          throw db_error(SQLITE_CONSTRAINT, "sync_catalog: machine '" + m.ident +
                                                "' refers to unknown line '" + m.line_ident + "'");
        fail(db_, rc, "sync_catalog: find line");
      }
      sqlite3_stmt* um = upsert_machine.get();
      detail::reset_on_exit r2(um);
      sqlite3_bind_int64(um, 1, sqlite3_column_int64(line_id.get(), 0));
      bind_text(um, 2, m.ident);
      bind_text(um, 3, m.name);
      bind_text(um, 4, m.type);
      bind_text(um, 5, m.adapter);
      rc = sqlite3_step(um);
      if (rc != SQLITE_ROW)
        fail(db_, rc, "sync_catalog: upsert machine '" + m.ident + "'");
      machine_binding b;
      b.machine_id = sqlite3_column_int64(um, 0);
      step_done(db_, um, "sync_catalog: upsert machine");

      // Slots are append-only: existing names keep theirs, new names get max+1.
      std::map<std::string, int> slot_of;
      int next_slot = 0;
      {
        detail::reset_on_exit r3(list_metrics.get());
        sqlite3_bind_int64(list_metrics.get(), 1, b.machine_id);
        while ((rc = sqlite3_step(list_metrics.get())) == SQLITE_ROW) {
          int slot = sqlite3_column_int(list_metrics.get(), 0);
          slot_of[detail::column_text(list_metrics.get(), 1)] = slot;
          next_slot = std::max(next_slot, slot + 1);
        }
        if (rc != SQLITE_DONE)
          fail(db_, rc, "sync_catalog: list metrics");
      }
      for (const auto& name : m.metric_names) {
        auto it = slot_of.find(name);
        if (it == slot_of.end()) {
          it = slot_of.emplace(name, next_slot++).first;
          sqlite3_bind_int64(insert_metric.get(), 1, b.machine_id);
          sqlite3_bind_int(insert_metric.get(), 2, it->second);
          bind_text(insert_metric.get(), 3, name);
          step_done(db_, insert_metric.get(), "sync_catalog: insert metric");
        }
        b.slots.push_back(it->second);
      }
      out[m.ident] = std::move(b);
    }
  });
  buckets_->forget_all();  // catalog changed: reload each machine's open bucket from the file
  return out;
}

commit_stats writer::commit(const std::vector<poll_row>& polls,
                            const std::vector<state_row>& states,
                            const std::vector<status_row>& statuses) {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "commit: writer is closed");
  statements& st = *stmts_;
  commit_stats stats;
  // machine_id -> (state, ts) changes of this batch, folded in after COMMIT.
  std::map<int64_t, std::pair<std::string, int64_t>> staged;

  step_done(db_, st.begin.get(), "commit: begin");
  try {
    sqlite3_stmt* ins = st.insert_telemetry.get();
    for (const auto& p : polls) {
      auto& bucket = buckets_->before_insert(p.machine_id);
      st.buf.clear();
      encode_values(p.values, st.buf);
      sqlite3_bind_int64(ins, 1, p.machine_id);
      sqlite3_bind_int64(ins, 2, p.ts_ms);
      bind_text(ins, 3, st.buf);
      step_done(db_, ins, "commit: insert telemetry");
      if (sqlite3_changes(db_) == 0) {
        ++stats.duplicates;
        continue;
      }
      ++stats.rows;
      for (double v : p.values)
        stats.samples += std::isfinite(v) ? 1 : 0;
      buckets_->after_insert(bucket, p.machine_id, p.ts_ms, p.values);
    }

    for (const auto& s : states) {
      auto sit = staged.find(s.machine_id);
      if (sit == staged.end()) {
        auto known = last_state_.find(s.machine_id);
        std::pair<std::string, int64_t> prev{"", std::numeric_limits<int64_t>::min()};
        if (known != last_state_.end()) {
          prev = {known->second, st.last_ts[s.machine_id]};
        } else {
          // First sight of this machine: no row of it was written in this
          // transaction yet, so this reads the committed state.
          sqlite3_stmt* q = st.last_state.get();
          detail::reset_on_exit r(q);
          sqlite3_bind_int64(q, 1, s.machine_id);
          int rc = sqlite3_step(q);
          if (rc == SQLITE_ROW)
            prev = {detail::column_text(q, 1), sqlite3_column_int64(q, 0)};
          else if (rc != SQLITE_DONE)
            fail(db_, rc, "commit: read last state");
        }
        sit = staged.emplace(s.machine_id, std::move(prev)).first;
      }
      auto& [last, last_ts] = sit->second;
      if (s.state == last || s.ts_ms <= last_ts)
        continue;  // not a change, or older than what is stored
      sqlite3_stmt* ins_s = st.insert_state.get();
      sqlite3_bind_int64(ins_s, 1, s.machine_id);
      sqlite3_bind_int64(ins_s, 2, s.ts_ms);
      bind_text(ins_s, 3, s.state);
      step_done(db_, ins_s, "commit: insert state change");
      stats.state_changes += sqlite3_changes(db_);
      last = s.state;
      last_ts = s.ts_ms;
    }

    sqlite3_stmt* up = st.update_status.get();
    for (const auto& s : statuses) {
      bind_text(up, 1, s.status);
      sqlite3_bind_int64(up, 2, s.last_poll_ms);
      sqlite3_bind_int64(up, 3, s.last_ok_ms);
      bind_text(up, 4, s.last_error);
      sqlite3_bind_int64(up, 5, s.polls_ok);
      sqlite3_bind_int64(up, 6, s.polls_failed);
      sqlite3_bind_int64(up, 7, s.poll_problems);
      sqlite3_bind_int64(up, 8, s.polls_missed);
      sqlite3_bind_int64(up, 9, s.machine_id);
      step_done(db_, up, "commit: update machine status");
    }

    step_done(db_, st.commit.get(), "commit: commit");
  } catch (...) {
    if (!sqlite3_get_autocommit(db_)) {
      sqlite3_step(st.rollback.get());
      sqlite3_reset(st.rollback.get());
    }
    buckets_->forget_all();  // they may hold rolled-back polls
    throw;
  }

  for (auto& [id, change] : staged) {
    if (change.second == std::numeric_limits<int64_t>::min())
      continue;  // machine has no state at all yet: nothing to cache
    last_state_[id] = std::move(change.first);
    st.last_ts[id] = change.second;
  }
  return stats;
}

checkpoint_result writer::checkpoint(checkpoint_mode mode) {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "checkpoint: writer is closed");
  int m = SQLITE_CHECKPOINT_PASSIVE;
  switch (mode) {
  case checkpoint_mode::passive: m = SQLITE_CHECKPOINT_PASSIVE; break;
  case checkpoint_mode::full: m = SQLITE_CHECKPOINT_FULL; break;
  case checkpoint_mode::restart: m = SQLITE_CHECKPOINT_RESTART; break;
  case checkpoint_mode::truncate: m = SQLITE_CHECKPOINT_TRUNCATE; break;
  }
  checkpoint_result r;
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, m, &r.wal_frames, &r.checkpointed);
  if (rc == SQLITE_BUSY)
    r.busy = 1;  // readers held it back; the next checkpoint continues
  else if (rc != SQLITE_OK)
    fail(db_, rc, "checkpoint");
  return r;
}

int64_t writer::wal_size_bytes() const {
  std::error_code ec;
  auto size = std::filesystem::file_size(path_ + "-wal", ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

void writer::close() {
  if (!db_)
    return;
  // The open buckets' rows, so a stopped daemon's file has every rollup. If
  // this fails (disk full), the raw rows are all there and the next open
  // rebuilds the open buckets from them: close anyway, then report it.
  std::exception_ptr flush_error;
  try {
    in_transaction(db_, "close: write open rollup buckets", [&] { buckets_->flush_all(); });
  } catch (...) {
    flush_error = std::current_exception();
  }
  buckets_.reset();
  stmts_.reset();
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  std::string msg = rc == SQLITE_OK ? "" : sqlite3_errmsg(db_);
  int close_rc = sqlite3_close(db_);
  if (close_rc != SQLITE_OK) {
    std::string close_msg = sqlite3_errmsg(db_);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw db_error(close_rc, "close " + path_ + ": " + close_msg);
  }
  db_ = nullptr;
  // BUSY: a reader still holds the WAL; its frames are checkpointed on the
  // next open, nothing is lost. Anything else is a real failure.
  if (rc != SQLITE_OK && rc != SQLITE_BUSY)
    throw db_error(rc, "close " + path_ + ": final checkpoint: " + msg);
  if (flush_error)
    std::rethrow_exception(flush_error);
}

} // namespace edgemes::storage
