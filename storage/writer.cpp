// storage/writer: the one write connection (see writer.hpp): opening and
// closing it, the catalogue (lines, machines, metric slots), loading the head
// from the ingest log, and checkpoints. The commit path is in
// storage/writer_commit.cpp (with the batching and durability contract),
// compact() in storage/compaction.cpp.
#include "storage/writer.hpp"

#include "storage/chunk.hpp"
#include "storage/connection.hpp"
#include "storage/head.hpp"
#include "storage/log_batch.hpp"
#include "storage/schema.hpp"
#include "storage/sql_functions.hpp"
#include "storage/writer_detail.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>

namespace edgemes::storage {

using detail::bind_text;
using detail::fail;
using detail::in_transaction;
using detail::step_done;
using detail::stmt_ptr;

writer::statements::statements(sqlite3* db)
    : begin(detail::prepare(db, "BEGIN IMMEDIATE")),
      commit(detail::prepare(db, "COMMIT")),
      rollback(detail::prepare(db, "ROLLBACK")),
      insert_log(detail::prepare(db, "INSERT INTO ingest_log(data) VALUES(?)")),
      delete_log(detail::prepare(db, "DELETE FROM ingest_log WHERE id=?")),
      get_log(detail::prepare(db, "SELECT data FROM ingest_log WHERE id=?")),
      update_log(detail::prepare(db, "UPDATE ingest_log SET data=? WHERE id=?")),
      log_below(detail::prepare(db, "SELECT id, data FROM ingest_log WHERE id<? ORDER BY id")),
      insert_state(detail::prepare(
          db, "INSERT INTO state_changes(machine_id, ts, state) VALUES(?,?,?) "
              "ON CONFLICT DO NOTHING")),
      last_state(detail::prepare(
          db, "SELECT ts, state FROM state_changes WHERE machine_id=? ORDER BY ts DESC LIMIT 1")),
      update_status(detail::prepare(
          db, "UPDATE machines SET status=?, last_poll_ms=?, last_ok_ms=?, last_error=?, "
              "polls_ok=?, polls_failed=?, poll_problems=?, polls_missed=? WHERE id=?")),
      chunk_get(detail::prepare(db, "SELECT data FROM chunks WHERE start=? AND machine_id=?")),
      chunk_put(detail::prepare(
          db, "INSERT INTO chunks(start, machine_id, polls, data) VALUES(?,?,?,?) "
              "ON CONFLICT(start, machine_id) DO UPDATE SET polls=excluded.polls, "
              "data=excluded.data")),
      set_boundary(detail::prepare(
          db, "UPDATE compaction SET boundary=?, generation=generation+1")),
      hours(std::make_unique<detail::hour_writer>(db)) {
  buf.reserve(1 << 16);
}

namespace detail {

void step_done(sqlite3* db, sqlite3_stmt* s, const char* what) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    sqlite3_reset(s);
    fail(db, rc, what);
  }
  sqlite3_reset(s);
}

void bind_text(sqlite3_stmt* s, int i, const std::string& text) {
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void bind_blob(sqlite3_stmt* s, int i, const std::string& bytes) {
  sqlite3_bind_blob(s, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
}

int64_t insert_log_row(sqlite3* db, sqlite3_stmt* insert_log, std::string& buf,
                       std::vector<log_batch::poll> polls, const char* what) {
  buf.clear();
  log_batch::encode(std::move(polls), buf);
  bind_blob(insert_log, 1, buf);
  step_done(db, insert_log, what);
  return sqlite3_last_insert_rowid(db);
}

void each_log_poll(int64_t id, const void* data, size_t size,
                   const std::function<void(int64_t, int64_t, const std::vector<double>&)>& f) {
  log_batch::view batch;
  if (!batch.parse(data, size))
    throw db_error(SQLITE_CORRUPT, "ingest_log row " + std::to_string(id) +
                                       " is not a valid batch");
  chunk::view c;
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> columns;
  std::vector<double> values;
  for (const auto& e : batch.entries()) {
    if (!batch.machine(e.machine_id, c) || !c.timestamps(ts))
      throw db_error(SQLITE_CORRUPT, "ingest_log row " + std::to_string(id) +
                                         ": malformed polls of machine " +
                                         std::to_string(e.machine_id));
    columns.resize(c.slots());
    for (size_t s = 0; s < c.slots(); ++s)
      if (!c.column(s, columns[s]))
        throw db_error(SQLITE_CORRUPT, "ingest_log row " + std::to_string(id) +
                                           ": malformed values of machine " +
                                           std::to_string(e.machine_id));
    for (size_t i = 0; i < ts.size(); ++i) {
      values.assign(c.slots(), NAN);
      for (size_t s = 0; s < c.slots(); ++s)
        values[s] = columns[s][i];
      f(e.machine_id, ts[i], values);
    }
  }
}

} // namespace detail

std::unique_ptr<writer> writer::open(const std::string& path, const options& opts,
                                     const layout_options& layout) {
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
  std::unique_ptr<writer> w(new writer(db, path, layout));
  try {
    sqlite3_extended_result_codes(db, 1);
    // busy_timeout first: switching to WAL needs an exclusive lock.
    detail::apply_pragmas(db, opts);
    std::string mode = detail::pragma_text(db, "journal_mode=WAL");
    if (mode != "wal")
      throw db_error(SQLITE_ERROR, "journal_mode=WAL was refused (mode is \"" + mode +
                                       "\"): WAL needs a local file system with shared memory");
    // secure_delete=FAST: Debian builds SQLite with secure_delete on, which
    // zeroes every freed page — each compaction's deleted log rows were written
    // to the WAL and the file a second time (22.7 bytes written per sample at
    // 1000 machines; docs/BENCHMARKS.md, "Flash wear"). FAST zeroes freed
    // space only where the page is written anyway.
    std::string sql = "PRAGMA wal_autocheckpoint=" + std::to_string(opts.wal_autocheckpoint_pages) +
                      ";PRAGMA journal_size_limit=" +
                      std::to_string(opts.journal_size_limit_bytes) + ";PRAGMA secure_delete=FAST";
    detail::exec(db, sql.c_str(), "apply writer pragmas");
    if (int rc = register_sql_functions(db); rc != SQLITE_OK)
      detail::fail(db, rc, "register SQL functions");
    if (layout.before_migration) {
      const auto version = static_cast<int>(detail::pragma_int(db, "user_version"));
      if (version > 0 && version < schema_version)
        layout.before_migration(version, schema_version);
    }
    detail::create_or_migrate(db, layout.window_ms);
    w->stmts_ = std::make_unique<statements>(db);
    w->load_head();
  } catch (const db_error& e) {
    throw db_error(e.code(), "open " + path + ": " + e.what());
  }
  return w;
}

writer::writer(sqlite3* db, std::string path, const layout_options& layout)
    : db_(db), path_(std::move(path)), layout_(layout), window_ms_(layout.window_ms),
      head_(std::make_shared<head>()) {}

writer::~writer() {
  stmts_.reset();  // finalize before closing
  if (db_)
    sqlite3_close_v2(db_);
}

namespace {

// The statements of one sync_catalog() call (prepared inside its transaction).
struct catalog_statements {
  stmt_ptr upsert_line, line_id, upsert_machine, list_metrics, insert_metric;

  explicit catalog_statements(sqlite3* db)
      : upsert_line(detail::prepare(db, "INSERT INTO lines(ident, name) VALUES(?,?) "
                                        "ON CONFLICT(ident) DO UPDATE SET name=excluded.name")),
        line_id(detail::prepare(db, "SELECT id FROM lines WHERE ident=?")),
        upsert_machine(detail::prepare(
            db, "INSERT INTO machines(line_id, ident, name, type, adapter, configured, status) "
                "VALUES(?,?,?,?,?,1,'unknown') ON CONFLICT(ident) DO UPDATE SET "
                "line_id=excluded.line_id, name=excluded.name, type=excluded.type, "
                "adapter=excluded.adapter, configured=1, status='unknown' RETURNING id")),
        list_metrics(detail::prepare(db, "SELECT slot, name FROM metrics WHERE machine_id=?")),
        insert_metric(
            detail::prepare(db, "INSERT INTO metrics(machine_id, slot, name) VALUES(?,?,?)")) {}
};

// Upserts the machine's row (its line must exist); returns its id.
int64_t upsert_machine(sqlite3* db, catalog_statements& cs, const machine_def& m) {
  detail::reset_on_exit r1(cs.line_id.get());
  bind_text(cs.line_id.get(), 1, m.line_ident);
  int rc = sqlite3_step(cs.line_id.get());
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE)
      throw db_error(SQLITE_CONSTRAINT, "sync_catalog: machine '" + m.ident +
                                            "' refers to unknown line '" + m.line_ident + "'");
    fail(db, rc, "sync_catalog: find line");
  }
  sqlite3_stmt* um = cs.upsert_machine.get();
  detail::reset_on_exit r2(um);
  sqlite3_bind_int64(um, 1, sqlite3_column_int64(cs.line_id.get(), 0));
  bind_text(um, 2, m.ident);
  bind_text(um, 3, m.name);
  bind_text(um, 4, m.type);
  bind_text(um, 5, m.adapter);
  rc = sqlite3_step(um);
  if (rc != SQLITE_ROW)
    fail(db, rc, "sync_catalog: upsert machine '" + m.ident + "'");
  const int64_t id = sqlite3_column_int64(um, 0);
  step_done(db, um, "sync_catalog: upsert machine");
  return id;
}

// The slot of each of `names` for the machine. Slots are append-only:
// existing names keep theirs, new names get max+1.
std::vector<int> assign_slots(sqlite3* db, catalog_statements& cs, int64_t machine_id,
                              const std::vector<std::string>& names) {
  std::map<std::string, int> slot_of;
  int next_slot = 0;
  {
    sqlite3_stmt* q = cs.list_metrics.get();
    detail::reset_on_exit r(q);
    sqlite3_bind_int64(q, 1, machine_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      int slot = sqlite3_column_int(q, 0);
      slot_of[detail::column_text(q, 1)] = slot;
      next_slot = std::max(next_slot, slot + 1);
    }
    if (rc != SQLITE_DONE)
      fail(db, rc, "sync_catalog: list metrics");
  }
  std::vector<int> slots;
  sqlite3_stmt* ins = cs.insert_metric.get();
  for (const auto& name : names) {
    auto it = slot_of.find(name);
    if (it == slot_of.end()) {
      it = slot_of.emplace(name, next_slot++).first;
      sqlite3_bind_int64(ins, 1, machine_id);
      sqlite3_bind_int(ins, 2, it->second);
      bind_text(ins, 3, name);
      step_done(db, ins, "sync_catalog: insert metric");
    }
    slots.push_back(it->second);
  }
  return slots;
}

} // namespace

std::map<std::string, machine_binding> writer::sync_catalog(
    const std::vector<line_def>& lines, const std::vector<machine_def>& machines) {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "sync_catalog: writer is closed");
  std::map<std::string, machine_binding> out;
  in_transaction(db_, "sync_catalog", [&] {
    catalog_statements cs(db_);
    for (const auto& l : lines) {
      bind_text(cs.upsert_line.get(), 1, l.ident);
      bind_text(cs.upsert_line.get(), 2, l.name);
      step_done(db_, cs.upsert_line.get(), "sync_catalog: upsert line");
    }
    // Nobody polls a machine that left the config: unconfigured, status unknown.
    detail::exec(db_, "UPDATE machines SET configured=0, status='unknown'",
                 "sync_catalog: unconfigure machines");
    for (const auto& m : machines) {
      machine_binding b;
      b.machine_id = upsert_machine(db_, cs, m);
      b.slots = assign_slots(db_, cs, b.machine_id, m.metric_names);
      out[m.ident] = std::move(b);
    }
  });
  // Every configured machine is 'unknown' now: the statuses written are re-read.
  held_status_.clear();
  load_statuses();
  return out;
}

void writer::load_statuses() {
  written_status_.clear();
  stmt_ptr q = detail::prepare(
      db_, "SELECT id, status, last_poll_ms, last_ok_ms, last_error, polls_ok, polls_failed, "
           "poll_problems, polls_missed FROM machines");
  while (detail::next_row(db_, q.get(), "read machine statuses")) {
    status_row s;
    s.machine_id = sqlite3_column_int64(q.get(), 0);
    s.status = detail::column_text(q.get(), 1);
    s.last_poll_ms = sqlite3_column_int64(q.get(), 2);
    s.last_ok_ms = sqlite3_column_int64(q.get(), 3);
    s.last_error = detail::column_text(q.get(), 4);
    s.polls_ok = sqlite3_column_int64(q.get(), 5);
    s.polls_failed = sqlite3_column_int64(q.get(), 6);
    s.poll_problems = sqlite3_column_int64(q.get(), 7);
    s.polls_missed = sqlite3_column_int64(q.get(), 8);
    written_status_[s.machine_id] = std::move(s);
  }
}

void writer::load_head() {
  head_->clear();
  log_rows_.clear();
  {
    stmt_ptr q = detail::prepare(db_, "SELECT window_ms, boundary FROM compaction");
    if (detail::next_row(db_, q.get(), "read the compaction state")) {
      window_ms_ = sqlite3_column_int64(q.get(), 0);
      if (sqlite3_column_type(q.get(), 1) != SQLITE_NULL)
        head_->set_boundary(sqlite3_column_int64(q.get(), 1));
    }
  }
  // Oldest first, as they were committed; past the head's limit the oldest
  // rows are spilled as they would have been while running.
  stmt_ptr q = detail::prepare(db_, "SELECT id, data FROM ingest_log ORDER BY id");
  while (detail::next_row(db_, q.get(), "read the ingest log")) {
    const int64_t id = sqlite3_column_int64(q.get(), 0);
    detail::log_row row;
    detail::each_log_poll(id, sqlite3_column_blob(q.get(), 1),
                          static_cast<size_t>(sqlite3_column_bytes(q.get(), 1)),
                          [&](int64_t machine, int64_t ts, const std::vector<double>& values) {
                            head_->append(machine, ts, values, id);
                            row.add(ts);
                          });
    if (row.polls > 0)
      log_rows_[id] = row;
    enforce_head_limit();
  }
  head_->publish();
  load_statuses();
}

std::shared_ptr<const head> writer::shared_head() const { return head_; }

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

void writer::write_transaction(const std::function<bool()>& fn) {
  detail::exec(db_, "BEGIN IMMEDIATE", "write job: begin");
  try {
    const bool commit = fn();
    detail::exec(db_, commit ? "COMMIT" : "ROLLBACK",
                 commit ? "write job: commit" : "write job: roll back");
  } catch (...) {
    // Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back.
    if (!sqlite3_get_autocommit(db_))
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void writer::close() {
  if (!db_)
    return;
  // The statuses held back, so a stopped daemon's file has every counter. If
  // this fails (disk full) only counters are behind: close anyway, then
  // report it.
  std::exception_ptr flush_error;
  try {
    flush_statuses();
  } catch (...) {
    flush_error = std::current_exception();
  }
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
