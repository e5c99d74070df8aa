// storage/compaction: moving whole windows of polls from the ingest log into
// chunks (writer::compact, see writer.hpp).
//
// The invariant (schema.cpp): every committed poll is in exactly one of
// `chunks` and `ingest_log`, and the head mirrors the log. One compaction is
// one transaction that
//   1. writes one chunk per (window, machine) for every uncompacted poll with
//      ts < the new boundary — the head's, and those of the log rows the head
//      spilled (storage/head.hpp), decoded from the log — merged with the
//      chunk already there, if any (a late poll into a window compacted
//      before);
//      and, for each chunk written, the counter_hours rows of its hours
//      (storage/counter_hours.hpp: appended to, or recomputed for a late poll);
//   2. sets compaction.boundary (and bumps its generation);
//   3. deletes each ingest_log row whose polls all moved, and rewrites in
//      place (same id) a row that keeps some (a commit that straddled the
//      boundary) with only those.
// Then, after COMMIT, the head drops the moved polls. A kill -9 before COMMIT
// leaves the log as it was; the next start reloads the head from it and the
// next compaction does the same work again.
//
// Cost on disk: the chunks table is keyed (start, machine_id), so one
// compaction appends ~one chunk per machine at the end of the B-tree — fresh
// pages, written once — rather than rewriting one page per machine.
#include "storage/chunk.hpp"
#include "storage/counter_hours.hpp"
#include "storage/head.hpp"
#include "storage/log_batch.hpp"
#include "storage/rollup.hpp"
#include "storage/writer_detail.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace edgemes::storage {

using detail::fail;
using detail::in_transaction;
using detail::step_done;
using detail::stmt_ptr;

namespace {

// One machine's polls of one window, gathered for its chunk.
struct window_polls {
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> values;  // per poll, by slot
};

// Adds the polls of an existing chunk that `w` lacks (same ts: `w` holds the
// same poll already). False when the chunk does not decode.
bool merge_existing(const void* data, size_t size, window_polls& w) {
  chunk::view v;
  std::vector<int64_t> ts;
  if (!v.parse(data, size) || !v.timestamps(ts))
    return false;
  std::vector<std::vector<double>> cols(v.slots());
  for (size_t s = 0; s < v.slots(); ++s)
    if (!v.column(s, cols[s]))
      return false;
  std::set<int64_t> have(w.ts.begin(), w.ts.end());
  for (size_t i = 0; i < ts.size(); ++i) {
    if (have.count(ts[i]))
      continue;
    w.ts.push_back(ts[i]);
    std::vector<double> row(v.slots());
    for (size_t s = 0; s < v.slots(); ++s)
      row[s] = cols[s][i];
    w.values.push_back(std::move(row));
  }
  return true;
}

// Sorts `w` by ts and encodes it as one chunk into `out`.
void encode_window(window_polls& w, std::string& out) {
  std::vector<size_t> order(w.ts.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return w.ts[a] < w.ts[b]; });
  window_polls sorted;
  sorted.ts.reserve(order.size());
  sorted.values.reserve(order.size());
  size_t nslots = 0;
  for (size_t k : order) {
    sorted.ts.push_back(w.ts[k]);
    sorted.values.push_back(std::move(w.values[k]));
    nslots = std::max(nslots, sorted.values.back().size());
  }
  w = std::move(sorted);
  std::vector<double> values(w.ts.size() * nslots, NAN);
  for (size_t k = 0; k < w.ts.size(); ++k)
    std::copy(w.values[k].begin(), w.values[k].end(),
              values.begin() + static_cast<std::ptrdiff_t>(k * nslots));
  out.clear();
  chunk::encode(w.ts.data(), values.data(), w.ts.size(), nslots, out);
}

// The polls one compaction moves.
struct moving_polls {
  // (window start, machine) -> polls, for its chunk.
  std::map<std::pair<int64_t, int64_t>, window_polls> windows;
  // ingest_log id -> how many of its polls move.
  std::unordered_map<int64_t, int64_t> per_log_row;
};

// What the log rewrite did, applied to writer::log_rows_ after COMMIT.
struct log_changes {
  std::vector<int64_t> deleted;                          // ids deleted
  std::unordered_map<int64_t, detail::log_row> rewritten;  // id -> the polls it keeps
};

using poll_fn = std::function<void(int64_t, int64_t, const double*, size_t, int64_t)>;

// Every uncompacted poll: f(machine_id, ts, values, nslots, log_id) for the
// head's, then for those of the log rows below its spill level.
void each_uncompacted(sqlite3* db, sqlite3_stmt* log_below, const head& h, const poll_fn& f) {
  h.each_poll(f);
  if (h.spilled_below() == 0)
    return;
  detail::reset_on_exit r(log_below);
  sqlite3_bind_int64(log_below, 1, h.spilled_below());
  while (detail::next_row(db, log_below, "compact: read the spilled ingest log")) {
    const int64_t id = sqlite3_column_int64(log_below, 0);
    detail::each_log_poll(id, sqlite3_column_blob(log_below, 1),
                          static_cast<size_t>(sqlite3_column_bytes(log_below, 1)),
                          [&](int64_t machine, int64_t ts, const std::vector<double>& v) {
                            f(machine, ts, v.data(), v.size(), id);
                          });
  }
}

std::set<int64_t> machine_ids(sqlite3* db) {
  std::set<int64_t> machines;
  stmt_ptr q = detail::prepare(db, "SELECT id FROM machines");
  while (detail::next_row(db, q.get(), "compact: list machines"))
    machines.insert(sqlite3_column_int64(q.get(), 0));
  return machines;
}

// Machine ids [lo, hi): one pass of a compaction.
struct machine_range {
  int64_t lo, hi;
};

// Splits the machines into `passes` ranges of about as many machines each,
// covering every id (a poll of a machine deleted meanwhile falls in one too).
std::vector<machine_range> machine_ranges(const std::set<int64_t>& machines, size_t passes) {
  std::vector<machine_range> out;
  const std::vector<int64_t> ids(machines.begin(), machines.end());
  passes = std::max<size_t>(1, std::min(passes, ids.size()));
  int64_t lo = std::numeric_limits<int64_t>::min();
  for (size_t p = 1; p < passes; ++p) {
    const int64_t hi = ids[p * ids.size() / passes];
    out.push_back({lo, hi});
    lo = hi;
  }
  out.push_back({lo, std::numeric_limits<int64_t>::max()});
  return out;
}

// How many passes over the machines gather() takes so that the polls one
// pass holds in memory (about 48 bytes more each than in the head) stay
// under half the head's limit `limit` (0: no limit, one pass).
size_t gather_passes(int64_t polls, const head& h, int64_t limit, size_t machines) {
  if (limit <= 0)
    return 1;
  const double per_poll =
      48.0 + (h.polls() > 0 ? static_cast<double>(h.bytes()) / static_cast<double>(h.polls())
                            : 160.0);
  const double budget = static_cast<double>(std::max<int64_t>(limit / 2, 1));
  return static_cast<size_t>(std::min(static_cast<double>(polls) * per_poll / budget + 1,
                                      static_cast<double>(machines + 1)));
}

// The uncompacted polls before `target` of the machines in `range`, by
// window; counts them into `out`.
moving_polls gather(sqlite3* db, sqlite3_stmt* log_below, const head& h, int64_t target,
                    int64_t boundary, int64_t window_ms, compaction_result& out,
                    const std::set<int64_t>& machines, machine_range range) {
  moving_polls m;
  auto add = [&](int64_t machine, int64_t ts, const double* v, size_t nslots, int64_t log_id) {
    if (ts >= target || machine < range.lo || machine >= range.hi)
      return;
    ++m.per_log_row[log_id];
    ++out.polls;
    if (ts < boundary)
      ++out.late_polls;
    if (!machines.count(machine))
      return;  // its machine was deleted (a line removed by hand): nothing to keep
    auto& wp = m.windows[{floor_to(ts, window_ms), machine}];
    wp.ts.push_back(ts);
    wp.values.emplace_back(v, v + nslots);
  };
  each_uncompacted(db, log_below, h, add);
  return m;
}

// Writes one chunk per window of `windows`, merged with the chunk already
// stored there, if any, and brings the counter_hours rows of its hours up to
// date (windows come in (start, machine) order: a machine's in time order).
void write_chunks(sqlite3* db, sqlite3_stmt* get, sqlite3_stmt* put, std::string& buf,
                  detail::hour_writer& hours, int64_t window_ms,
                  std::map<std::pair<int64_t, int64_t>, window_polls>& windows,
                  compaction_result& out) {
  for (auto& [key, wp] : windows) {
    bool merged = false;
    {
      detail::reset_on_exit r(get);
      sqlite3_bind_int64(get, 1, key.first);
      sqlite3_bind_int64(get, 2, key.second);
      int rc = sqlite3_step(get);
      if (rc == SQLITE_ROW) {
        merged = true;
        if (!merge_existing(sqlite3_column_blob(get, 0),
                            static_cast<size_t>(sqlite3_column_bytes(get, 0)), wp))
          throw db_error(SQLITE_CORRUPT, "compact: the chunk of machine " +
                                             std::to_string(key.second) + " at " +
                                             std::to_string(key.first) + " does not decode");
      } else if (rc != SQLITE_DONE) {
        fail(db, rc, "compact: read a chunk");
      }
    }
    encode_window(wp, buf);
    sqlite3_bind_int64(put, 1, key.first);
    sqlite3_bind_int64(put, 2, key.second);
    sqlite3_bind_int64(put, 3, static_cast<int64_t>(wp.ts.size()));
    detail::bind_blob(put, 4, buf);
    step_done(db, put, "compact: write a chunk");
    ++out.chunks;
    out.bytes += static_cast<int64_t>(buf.size());
    out.hour_rows += hours.window(key.second, key.first, window_ms, wp.ts, wp.values, merged);
  }
}

// Deletes each log row whose polls all moved and rewrites in place a row that
// keeps some (a commit that straddled the boundary) with only those, read
// back from the row itself (its polls may be spilled from the head).
log_changes rewrite_log(sqlite3* db, sqlite3_stmt* get_log, sqlite3_stmt* update_log,
                        sqlite3_stmt* delete_log, std::string& buf,
                        const std::unordered_map<int64_t, detail::log_row>& log_rows,
                        const moving_polls& m, int64_t target, compaction_result& out) {
  log_changes changes;
  std::vector<std::pair<std::pair<int64_t, int64_t>, std::vector<double>>> staying;
  std::vector<log_batch::poll> kept;
  for (const auto& [id, n] : m.per_log_row) {
    auto row = log_rows.find(id);
    if (row == log_rows.end() || row->second.polls <= n) {
      sqlite3_bind_int64(delete_log, 1, id);
      step_done(db, delete_log, "compact: delete an ingest log row");
      changes.deleted.push_back(id);
      ++out.log_deleted;
      continue;
    }
    staying.clear();
    {
      detail::reset_on_exit r(get_log);
      sqlite3_bind_int64(get_log, 1, id);
      if (!detail::next_row(db, get_log, "compact: read an ingest log row"))
        throw db_error(SQLITE_CORRUPT, "compact: ingest_log row " + std::to_string(id) +
                                           " is missing");
      detail::each_log_poll(id, sqlite3_column_blob(get_log, 0),
                            static_cast<size_t>(sqlite3_column_bytes(get_log, 0)),
                            [&](int64_t machine, int64_t ts, const std::vector<double>& v) {
                              if (ts >= target)
                                staying.push_back({{machine, ts}, v});
                            });
    }
    const int64_t expected = row->second.polls - n;
    if (static_cast<int64_t>(staying.size()) != expected)
      throw db_error(SQLITE_INTERNAL, "compact: ingest_log row " + std::to_string(id) +
                                          " keeps " + std::to_string(staying.size()) +
                                          " polls, expected " + std::to_string(expected));
    detail::log_row& kept_row = changes.rewritten[id];
    kept.clear();
    for (const auto& [key, values] : staying) {
      kept.push_back({key.first, key.second, &values});
      kept_row.add(key.second);
    }
    buf.clear();
    log_batch::encode(kept, buf);
    detail::bind_blob(update_log, 1, buf);
    sqlite3_bind_int64(update_log, 2, id);
    step_done(db, update_log, "compact: rewrite an ingest log row");
    ++out.log_rewritten;
  }
  return changes;
}

} // namespace

bool writer::compaction_due() const {
  if (!db_ || !has_uncompacted())
    return false;
  if (!head_->has_boundary())
    return true;
  return floor_to(head_->newest_ts() - layout_.grace_ms, window_ms_) > head_->boundary();
}

compaction_result writer::compact(bool force) {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "compact: writer is closed");
  compaction_result out;
  const int64_t w = window_ms_;
  if (!has_uncompacted()) {
    out.boundary = head_->boundary();
    return out;
  }
  // The new boundary: windows that ended grace_ms before the newest poll, or
  // (force) every window holding a poll.
  int64_t target = force ? floor_to(head_->newest_ts(), w) + w
                         : floor_to(head_->newest_ts() - layout_.grace_ms, w);
  statements& st = *stmts_;
  int64_t oldest = std::numeric_limits<int64_t>::max();  // of every uncompacted poll
  for (const auto& [id, row] : log_rows_)
    oldest = std::min(oldest, row.min_ts);
  const int64_t boundary = head_->has_boundary() ? head_->boundary() : floor_to(oldest, w);
  target = std::max(target, boundary);
  out.boundary = target;
  if (oldest >= target) {
    // Nothing before the new boundary: no window to move. A first boundary
    // is remembered in memory only (nothing is before it), so that
    // compaction_due() stays false until a window ends.
    if (!head_->has_boundary()) {
      head_->set_boundary(boundary);
      head_->publish();
    }
    out.boundary = boundary;
    return out;
  }

  // The polls that move are gathered in memory, in several passes over the
  // machines when they would take more than half the head's limit (a
  // spilled head holds less than what compaction moves).
  const std::set<int64_t> machines = machine_ids(db_);
  int64_t polls = 0;
  for (const auto& [id, row] : log_rows_)
    polls += row.polls;
  const size_t passes = gather_passes(polls, *head_, layout_.head_limit_bytes, machines.size());
  moving_polls moving;
  log_changes changes;
  in_transaction(db_, "compact", [&] {
    for (const machine_range& range : machine_ranges(machines, passes)) {
      moving_polls part =
          gather(db_, st.log_below.get(), *head_, target, boundary, w, out, machines, range);
      write_chunks(db_, st.chunk_get.get(), st.chunk_put.get(), st.buf, *st.hours, w,
                   part.windows, out);
      for (const auto& [id, n] : part.per_log_row)
        moving.per_log_row[id] += n;
    }
    sqlite3_bind_int64(st.set_boundary.get(), 1, target);
    step_done(db_, st.set_boundary.get(), "compact: set the boundary");
    changes = rewrite_log(db_, st.get_log.get(), st.update_log.get(), st.delete_log.get(), st.buf,
                          log_rows_, moving, target, out);
  });

  for (int64_t id : changes.deleted)
    log_rows_.erase(id);
  for (const auto& [id, row] : changes.rewritten)
    log_rows_[id] = row;
  head_->compacted(target, [&](int64_t, int64_t ts) { return ts < target; });
  if (head_->spilled_below() > 0 &&
      std::none_of(log_rows_.begin(), log_rows_.end(),
                   [&](const auto& row) { return row.first < head_->spilled_below(); }))
    head_->clear_spill();  // every spilled row is compacted
  return out;
}

} // namespace edgemes::storage
