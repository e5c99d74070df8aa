// storage/writer_commit: the commit path of the one write connection
// (writer::commit, see writer.hpp): polls to the ingest log and the head, state
// changes, and the machines' status rows, written now or held back.
//
// Batching and durability: commit() is one BEGIN IMMEDIATE ... COMMIT. IMMEDIATE
// takes the write lock up front, so the transaction can never fail half-way
// with SQLITE_BUSY_SNAPSHOT. With synchronous=NORMAL in WAL mode a committed
// batch survives a process crash; a power cut may lose the last batches but
// never corrupts the file.
//
// Every cache here mirrors what is committed: the state cache (last_state_ +
// statements::last_ts), the written statuses and the head change only after
// COMMIT succeeded, so a rolled-back batch can be retried and produces the
// same rows.
#include "storage/writer.hpp"

#include "storage/chunk.hpp"
#include "storage/connection.hpp"
#include "storage/head.hpp"
#include "storage/log_batch.hpp"
#include "storage/rollup.hpp"
#include "storage/writer_detail.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgemes::storage {

using detail::bind_text;
using detail::fail;
using detail::in_transaction;
using detail::step_done;
using detail::stmt_ptr;

// What one commit() stages inside its transaction; the caches and the head
// take it only after COMMIT (apply_committed).
struct writer::commit_batch {
  std::vector<const poll_row*> accepted;  // polls not already stored
  int64_t log_id = 0;                     // their ingest_log row (0: none)
  // machine_id -> (state, ts) as of this batch, folded in after COMMIT.
  std::map<int64_t, std::pair<std::string, int64_t>> staged;
  std::vector<const status_row*> to_write;  // status rows rewritten
};

commit_stats writer::commit(const std::vector<poll_row>& polls,
                            const std::vector<state_row>& states,
                            const std::vector<status_row>& statuses) {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "commit: writer is closed");
  statements& st = *stmts_;
  commit_stats stats;
  commit_batch b;
  step_done(db_, st.begin.get(), "commit: begin");
  try {
    accept_polls(polls, b, stats);
    append_to_log(b);
    stage_states(states, b, stats);
    choose_statuses(statuses, b);
    write_status_rows(b.to_write);
    step_done(db_, st.commit.get(), "commit: commit");
  } catch (...) {
    if (!sqlite3_get_autocommit(db_)) {
      sqlite3_step(st.rollback.get());
      sqlite3_reset(st.rollback.get());
    }
    throw;
  }
  apply_committed(b, statuses);
  enforce_head_limit();
  return stats;
}

void writer::accept_polls(const std::vector<poll_row>& polls, commit_batch& b,
                          commit_stats& stats) {
  // Duplicates: a (machine, ts) in the head, in a chunk, spilled, or twice
  // here (the first one wins). Twice here: found by sorting (machine, ts,
  // index) once rather than a set node per poll.
  std::vector<std::pair<std::pair<int64_t, int64_t>, size_t>> order(polls.size());
  for (size_t i = 0; i < polls.size(); ++i)
    order[i] = {{polls[i].machine_id, polls[i].ts_ms}, i};
  std::sort(order.begin(), order.end());
  std::vector<bool> repeated(polls.size(), false);
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i].first == order[i - 1].first)
      repeated[order[i].second] = true;
  b.accepted.reserve(polls.size());
  for (size_t i = 0; i < polls.size(); ++i) {
    const poll_row& p = polls[i];
    require_machine(p.machine_id);
    const bool dup = repeated[i] || head_->contains(p.machine_id, p.ts_ms) ||
                     (p.ts_ms <= head_->spilled_newest(p.machine_id) &&
                      spilled_has(p.machine_id, p.ts_ms)) ||
                     (head_->has_boundary() && p.ts_ms < head_->boundary() &&
                      chunk_has(p.machine_id, p.ts_ms));
    if (dup) {
      ++stats.duplicates;
      continue;
    }
    b.accepted.push_back(&p);
    ++stats.rows;
    for (double v : p.values)
      stats.samples += std::isfinite(v) ? 1 : 0;
  }
}

void writer::append_to_log(commit_batch& b) {
  if (b.accepted.empty())
    return;
  std::vector<log_batch::poll> batch;
  batch.reserve(b.accepted.size());
  for (const poll_row* p : b.accepted)
    batch.push_back({p->machine_id, p->ts_ms, &p->values, p->record.empty() ? nullptr : &p->record});
  b.log_id = detail::insert_log_row(db_, stmts_->insert_log.get(), stmts_->buf, std::move(batch),
                                    "commit: append to the ingest log");
}

void encode_record(poll_row& p) {
  p.record.clear();
  chunk::encode_poll(p.values.data(), p.values.size(), p.record);
}

void writer::stage_states(const std::vector<state_row>& states, commit_batch& b,
                          commit_stats& stats) {
  statements& st = *stmts_;
  for (const auto& s : states) {
    // The machine's last state as of this batch: staged here, else cached
    // (most polls repeat it: compared in place, nothing copied), else read
    // from the file on first sight and staged.
    const std::string* last = nullptr;
    int64_t last_ts = std::numeric_limits<int64_t>::min();
    auto sit = b.staged.find(s.machine_id);
    if (sit != b.staged.end()) {
      last = &sit->second.first;
      last_ts = sit->second.second;
    } else if (auto known = last_state_.find(s.machine_id); known != last_state_.end()) {
      last = &known->second;
      if (auto t = st.last_ts.find(s.machine_id); t != st.last_ts.end())
        last_ts = t->second;
    } else {
      sit = b.staged.emplace(s.machine_id, stored_state(s.machine_id)).first;
      last = &sit->second.first;
      last_ts = sit->second.second;
    }
    if (s.state == *last || s.ts_ms <= last_ts)
      continue;  // not a change, or older than what is stored
    sqlite3_stmt* ins_s = st.insert_state.get();
    sqlite3_bind_int64(ins_s, 1, s.machine_id);
    sqlite3_bind_int64(ins_s, 2, s.ts_ms);
    bind_text(ins_s, 3, s.state);
    step_done(db_, ins_s, "commit: insert state change");
    stats.state_changes += sqlite3_changes(db_);
    b.staged[s.machine_id] = {s.state, s.ts_ms};
  }
}

std::pair<std::string, int64_t> writer::stored_state(int64_t machine_id) {
  statements& st = *stmts_;
  if (auto known = last_state_.find(machine_id); known != last_state_.end())
    return {known->second, st.last_ts[machine_id]};
  // First sight of this machine: no row of it was written in this
  // transaction yet, so this reads the committed state.
  std::pair<std::string, int64_t> prev{"", std::numeric_limits<int64_t>::min()};
  sqlite3_stmt* q = st.last_state.get();
  detail::reset_on_exit r(q);
  sqlite3_bind_int64(q, 1, machine_id);
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW)
    prev = {detail::column_text(q, 1), sqlite3_column_int64(q, 0)};
  else if (rc != SQLITE_DONE)
    fail(db_, rc, "commit: read last state");
  return prev;
}

void writer::choose_statuses(const std::vector<status_row>& statuses, commit_batch& b) const {
  // A status row is rewritten when what a person reads in it changed, or
  // status_every_ms after its last write; the head has the newest anyway.
  // The newest per machine is the last one given: a stable sort by machine
  // (the writer actor already gives one per machine, in machine order).
  std::vector<const status_row*> order(statuses.size());
  for (size_t i = 0; i < statuses.size(); ++i)
    order[i] = &statuses[i];
  std::stable_sort(order.begin(), order.end(), [](const status_row* x, const status_row* y) {
    return x->machine_id < y->machine_id;
  });
  for (size_t i = 0; i < order.size(); ++i) {
    if (i + 1 < order.size() && order[i + 1]->machine_id == order[i]->machine_id)
      continue;  // a newer one of this machine follows
    const status_row* s = order[i];
    auto w = written_status_.find(s->machine_id);
    const bool due = w == written_status_.end() || w->second.status != s->status ||
                     w->second.last_error != s->last_error ||
                     s->last_poll_ms - w->second.last_poll_ms >= layout_.status_every_ms ||
                     s->last_poll_ms < w->second.last_poll_ms;
    if (due)
      b.to_write.push_back(s);
  }
}

void writer::apply_committed(commit_batch& b, const std::vector<status_row>& statuses) {
  for (auto& [id, change] : b.staged) {
    if (change.second == std::numeric_limits<int64_t>::min())
      continue;  // machine has no state at all yet: nothing to cache
    last_state_[id] = std::move(change.first);
    stmts_->last_ts[id] = change.second;
  }
  for (const status_row* s : b.to_write) {
    written_status_[s->machine_id] = *s;
    held_status_.erase(s->machine_id);
  }
  for (const auto& s : statuses) {
    head_->set_status(s.machine_id, s);
    if (auto w = written_status_.find(s.machine_id);
        w == written_status_.end() || w->second.last_poll_ms != s.last_poll_ms ||
        w->second.polls_ok != s.polls_ok || w->second.polls_failed != s.polls_failed ||
        w->second.poll_problems != s.poll_problems || w->second.polls_missed != s.polls_missed ||
        w->second.last_ok_ms != s.last_ok_ms)
      held_status_[s.machine_id] = s;
  }
  for (const poll_row* p : b.accepted)
    head_->append(p->machine_id, p->ts_ms, p->values, b.log_id);
  if (!b.accepted.empty()) {
    detail::log_row& row = log_rows_[b.log_id];
    for (const poll_row* p : b.accepted)
      row.add(p->ts_ms);
  }
  head_->publish();
}

void writer::write_status_rows(const std::vector<const status_row*>& rows) {
  sqlite3_stmt* up = stmts_->update_status.get();
  for (const status_row* s : rows) {
    bind_text(up, 1, s->status);
    sqlite3_bind_int64(up, 2, s->last_poll_ms);
    sqlite3_bind_int64(up, 3, s->last_ok_ms);
    bind_text(up, 4, s->last_error);
    sqlite3_bind_int64(up, 5, s->polls_ok);
    sqlite3_bind_int64(up, 6, s->polls_failed);
    sqlite3_bind_int64(up, 7, s->poll_problems);
    sqlite3_bind_int64(up, 8, s->polls_missed);
    sqlite3_bind_int64(up, 9, s->machine_id);
    step_done(db_, up, "commit: update machine status");
  }
}

void writer::flush_statuses() {
  if (!db_ || held_status_.empty())
    return;
  std::vector<const status_row*> rows;
  for (const auto& [id, s] : held_status_)
    rows.push_back(&s);
  in_transaction(db_, "write machine statuses", [&] { write_status_rows(rows); });
  for (const auto& [id, s] : held_status_)
    written_status_[id] = s;
  held_status_.clear();
}

void writer::require_machine(int64_t machine_id) {
  if (known_machines_.count(machine_id))
    return;
  stmt_ptr q = detail::prepare(db_, "SELECT 1 FROM machines WHERE id=?");
  sqlite3_bind_int64(q.get(), 1, machine_id);
  if (!detail::next_row(db_, q.get(), "commit: find machine"))
    throw db_error(SQLITE_CONSTRAINT_FOREIGNKEY,
                   "commit: FOREIGN KEY constraint failed: a poll of machine id " +
                       std::to_string(machine_id) + ", which is not in the machines table");
  known_machines_.insert(machine_id);
}

bool writer::chunk_has(int64_t machine_id, int64_t ts) {
  sqlite3_stmt* q = stmts_->chunk_get.get();
  detail::reset_on_exit r(q);
  sqlite3_bind_int64(q, 1, floor_to(ts, window_ms_));
  sqlite3_bind_int64(q, 2, machine_id);
  int rc = sqlite3_step(q);
  if (rc == SQLITE_DONE)
    return false;
  if (rc != SQLITE_ROW)
    fail(db_, rc, "commit: read a chunk");
  chunk::view v;
  std::vector<int64_t> ts_all;
  if (!v.parse(sqlite3_column_blob(q, 0), static_cast<size_t>(sqlite3_column_bytes(q, 0))) ||
      !v.timestamps(ts_all))
    return false;  // an unreadable chunk holds nothing we could duplicate
  return std::binary_search(ts_all.begin(), ts_all.end(), ts);
}


void writer::enforce_head_limit() {
  const int64_t limit = layout_.head_limit_bytes;
  if (limit <= 0 || head_->bytes() <= limit || head_->polls() == 0)
    return;
  // Down to about half the limit, oldest commits first: a spill rebuilds
  // every machine's blocks, so it must not run on every commit.
  const double per_poll =
      static_cast<double>(head_->bytes()) / static_cast<double>(head_->polls());
  int64_t to_drop =
      head_->polls() - static_cast<int64_t>(static_cast<double>(limit) / 2 / per_poll);
  std::vector<int64_t> ids;
  for (const auto& [id, row] : log_rows_)
    if (id >= head_->spilled_below())
      ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  int64_t below = head_->spilled_below();
  for (int64_t id : ids) {
    if (to_drop <= 0)
      break;
    to_drop -= log_rows_.at(id).polls;
    below = id + 1;
  }
  head_->spill(below);
  ++spills_;
}

bool writer::spilled_has(int64_t machine_id, int64_t ts) {
  // Rare: a poll as old as the machine's spilled ones (out of order by more
  // than the head holds, or a clock stepped back). Only the spilled rows
  // whose time range holds ts are read, and of each only this machine.
  sqlite3_stmt* q = stmts_->get_log.get();
  log_batch::view batch;
  chunk::view c;
  std::vector<int64_t> stamps;
  for (const auto& [id, row] : log_rows_) {
    if (id >= head_->spilled_below() || ts < row.min_ts || ts > row.max_ts)
      continue;
    detail::reset_on_exit r(q);
    sqlite3_bind_int64(q, 1, id);
    if (!detail::next_row(db_, q, "commit: read a spilled ingest log row"))
      continue;
    if (!batch.parse(sqlite3_column_blob(q, 0), static_cast<size_t>(sqlite3_column_bytes(q, 0))))
      throw db_error(SQLITE_CORRUPT, "ingest_log row " + std::to_string(id) +
                                         " is not a valid batch");
    if (batch.machine(machine_id, c) && c.timestamps(stamps) &&
        std::find(stamps.begin(), stamps.end(), ts) != stamps.end())
      return true;
  }
  return false;
}

} // namespace edgemes::storage
